-- Baton embedded store: the graph as validity-stamped assertions, plus the ledger.

CREATE TABLE nodes (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,        -- NodeRef.key, a JSON array
    kind        TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    column_name TEXT
);
CREATE INDEX nodes_by_kind_namespace_name ON nodes (kind, namespace, name);
CREATE INDEX nodes_by_kind_name ON nodes (kind, name);

CREATE TABLE ledger (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,                 -- ISO 8601, UTC
    actor     TEXT NOT NULL,
    source    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    changes   TEXT NOT NULL,                 -- JSON list of Change
    entities  TEXT NOT NULL,                 -- JSON list of node keys
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_by_actor ON ledger (actor, seq);
CREATE INDEX ledger_by_time ON ledger (at);

-- The ledger is append-only; these make accidental edits fail loudly.
-- (Deliberate tampering is what `baton ledger verify` detects.)
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

CREATE TABLE ledger_entities (
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    seq     INTEGER NOT NULL REFERENCES ledger (seq),
    PRIMARY KEY (node_id, seq)
) WITHOUT ROWID;

-- A fact (object_id NULL) or an edge asserted by one source, valid in [from_seq, to_seq).
CREATE TABLE assertions (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    subject_id   INTEGER NOT NULL REFERENCES nodes (id),
    object_id    INTEGER REFERENCES nodes (id),
    attrs        TEXT NOT NULL,
    attrs_digest TEXT NOT NULL,
    from_seq     INTEGER NOT NULL REFERENCES ledger (seq),
    to_seq       INTEGER REFERENCES ledger (seq)
);
CREATE UNIQUE INDEX assertions_open_identity
    ON assertions (source, kind, subject_id, ifnull(object_id, 0)) WHERE to_seq IS NULL;
CREATE INDEX assertions_out ON assertions (subject_id, kind);
CREATE INDEX assertions_in ON assertions (object_id, kind);
