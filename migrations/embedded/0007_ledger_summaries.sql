-- Each ledger entry's summary (how many changes of each operation and kind, as
-- {"added:FACT": 1200, ...}), written with the entry, so a page of entries (the console's
-- home and ledger pages, GraphQL `ledger`) is shown without reading their changes: a
-- first dbt ingest records 300,000 of them (1.7 s to read for GitLab's; 10 s for a page
-- of the 10x catalog). Not hashed: `baton ledger verify` checks each against its entry.
-- Entries stored as JSON text are counted here; packed ones (which SQL cannot read) have
-- no summary row and are counted from their changes when listed.
CREATE TABLE ledger_summaries (
    seq     INTEGER PRIMARY KEY REFERENCES ledger (seq),
    summary TEXT NOT NULL
);

CREATE TRIGGER ledger_summaries_no_update BEFORE UPDATE ON ledger_summaries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_summaries_no_delete BEFORE DELETE ON ledger_summaries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

INSERT INTO ledger_summaries (seq, summary)
SELECT seq, json_group_object(label, n)
FROM (
    SELECT l.seq, json_extract(c.value, '$[0]') || ':' || json_extract(c.value, '$[2]') AS label,
           count(*) AS n
    FROM ledger l, json_each(l.changes) c
    WHERE typeof(l.changes) = 'text' AND json_valid(l.changes)
    GROUP BY l.seq, label
)
GROUP BY seq;
