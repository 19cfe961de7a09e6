// Baton on Neo4j: identities, assertions with validity, the ledger (catalog/stores/neo4j).
// One statement per `;`. Applied by `baton migrate` and at start-up, each file once.

// Identities: one node per NodeRef key.
CREATE CONSTRAINT node_key IF NOT EXISTS FOR (n:Node) REQUIRE n.key IS UNIQUE;
CREATE INDEX node_kind_namespace_name IF NOT EXISTS FOR (n:Node) ON (n.kind, n.namespace, n.name);
CREATE INDEX node_kind_name IF NOT EXISTS FOR (n:Node) ON (n.kind, n.name);
CREATE FULLTEXT INDEX node_names IF NOT EXISTS FOR (n:Node) ON EACH [n.name, n.namespace];

// Facts (a source's attributes of a node) and edges, each valid in [from_seq, to_seq).
CREATE INDEX fact_source IF NOT EXISTS FOR (f:Fact) ON (f.source);
CREATE INDEX fact_from_seq IF NOT EXISTS FOR (f:Fact) ON (f.from_seq);
CREATE INDEX fact_to_seq IF NOT EXISTS FOR (f:Fact) ON (f.to_seq);
CREATE INDEX asserts_source IF NOT EXISTS FOR ()-[r:ASSERTS]-() ON (r.source);
CREATE INDEX asserts_kind IF NOT EXISTS FOR ()-[r:ASSERTS]-() ON (r.kind);
CREATE INDEX asserts_from_seq IF NOT EXISTS FOR ()-[r:ASSERTS]-() ON (r.from_seq);
CREATE INDEX asserts_to_seq IF NOT EXISTS FOR ()-[r:ASSERTS]-() ON (r.to_seq);

// The hash-chained ledger.
CREATE CONSTRAINT ledger_seq IF NOT EXISTS FOR (e:LedgerEntry) REQUIRE e.seq IS UNIQUE;
CREATE CONSTRAINT ledger_hash IF NOT EXISTS FOR (e:LedgerEntry) REQUIRE e.hash IS UNIQUE;
CREATE INDEX ledger_at IF NOT EXISTS FOR (e:LedgerEntry) ON (e.at);
CREATE INDEX ledger_actor IF NOT EXISTS FOR (e:LedgerEntry) ON (e.actor);
CREATE INDEX ledger_source IF NOT EXISTS FOR (e:LedgerEntry) ON (e.source);

// Writers take this node's lock first (catalog/stores/neo4j/cypher.py LOCK_WRITES).
CREATE CONSTRAINT write_lock_name IF NOT EXISTS FOR (w:WriteLock) REQUIRE w.name IS UNIQUE;

// Applied migrations.
CREATE CONSTRAINT migration_version IF NOT EXISTS FOR (m:Migration) REQUIRE m.version IS UNIQUE;
