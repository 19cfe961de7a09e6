-- Alerting. A write puts the events it raises in `alert_outbox` in its own transaction;
-- the alert worker turns them into alerts (incidents with a stable key: repeats update
-- the firing one) and deliveries (one per destination and action, each with an
-- idempotency key), and delivers those with retries until delivered or dead.
-- Times the worker schedules by are epoch seconds (REAL); the rest ISO-8601 text.
CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL REFERENCES ledger (seq),
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    source TEXT NOT NULL,
    attrs TEXT NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_outbox_pending ON alert_outbox (id) WHERE processed = 0;

CREATE TABLE alert_silences (
    id INTEGER PRIMARY KEY,
    events TEXT NOT NULL,
    subjects TEXT NOT NULL,
    ends_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved', 'notice')),
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    occurrences INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    acked_by TEXT,
    acked_at TEXT,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    escalate_at REAL,
    silenced_by INTEGER REFERENCES alert_silences (id)
);
-- At most one firing alert per key: a repeat updates it.
CREATE UNIQUE INDEX alerts_firing_key ON alerts (key) WHERE status = 'firing';
CREATE INDEX alerts_escalation ON alerts (escalate_at) WHERE status = 'firing';

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    action TEXT NOT NULL,
    destination TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_of_alert ON alert_deliveries (alert_id);
