-- What one ledger entry added or ended (the auditor's before/after view), and every
-- entry one source wrote: both look assertions up by sequence or source.
CREATE INDEX assertions_by_from_seq ON assertions (from_seq);
CREATE INDEX assertions_by_to_seq ON assertions (to_seq) WHERE to_seq IS NOT NULL;
CREATE INDEX assertions_by_source ON assertions (source, from_seq);
