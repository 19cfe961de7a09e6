"""Every Cypher statement the Neo4j store sends, with the parameters it takes.

Keeping them here (and migrations in `migrations/neo4j/`) lets CI lint all of them with
Neo4j's own parser and semantic analysis (`tools/cypher-lint`, fed by
`python -m catalog.stores.neo4j.lint_manifest`): the graph model below is the schema the
linter checks labels, relationship types and property keys against, and each statement's
example parameters declare the names and shapes it takes. Values never enter the text:
`Statement.bind` refuses parameters a statement does not declare, and demands all it does.

The graph model: `(:Node)` per identity; a node's facts from one source are a
`(:Fact)-[:ABOUT]->(:Node)`; an edge one source asserts is `(:Node)-[:ASSERTS {kind}]->(:Node)`.
Facts and edges carry `from_seq` / `to_seq`, their validity in ledger sequence numbers, like
the embedded store's assertions; `(:LedgerEntry)` nodes hold the hash-chained ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LABELS = ("Node", "Fact", "LedgerEntry", "Migration", "WriteLock")
RELATIONSHIP_TYPES = ("ASSERTS", "ABOUT")
PROPERTY_KEYS = (
    # Node
    "key", "kind", "namespace", "name", "column",
    # Fact and ASSERTS
    "source", "attrs", "digest", "from_seq", "to_seq", "ord",
    # LedgerEntry
    "seq", "at", "actor", "reason", "changes", "entities", "prev_hash", "hash",
    # Migration
    "version", "checksum", "applied_at",
    # WriteLock
    "locked_at",
    # keys of the rows statements UNWIND (not stored as properties)
    "subject", "object",
)  # fmt: skip

VALID = "{x}.from_seq <= $as_of AND ({x}.to_seq IS NULL OR {x}.to_seq > $as_of)"
"""Valid as of ledger sequence `$as_of`: the one rule of time, as in the embedded store."""


@dataclass(frozen=True)
class Statement:
    name: str
    text: str
    example: dict[str, Any] = field(default_factory=dict)
    """Example parameters: their names are the statement's parameters, their values show
    the shapes (and let the linter check them)."""

    def bind(self, **params: Any) -> dict[str, Any]:
        """The parameters to send, exactly those the statement declares."""
        missing = self.example.keys() - params.keys()
        unknown = params.keys() - self.example.keys()
        if missing or unknown:
            raise ValueError(
                f"{self.name}: missing parameters {sorted(missing)}, unknown {sorted(unknown)}"
            )
        return params


STATEMENTS: dict[str, Statement] = {}


def _statement(label: str, text: str, /, **example: Any) -> Statement:
    statement = Statement(label, " ".join(text.split()), example)
    assert label not in STATEMENTS, label
    STATEMENTS[label] = statement
    return statement


_EDGE_COLUMNS = (
    "r.kind AS kind, {s}.key AS subject, {o}.key AS object, r.source AS source, "
    "r.attrs AS attrs, r.from_seq AS from_seq, r.to_seq AS to_seq"
)
_ROW = {"source": "sql:a.sql", "kind": "FEEDS", "subject": '["DATASET","ns","a"]',
        "object": '["DATASET","ns","b"]'}  # fmt: skip
_LEDGER_ENTRY = {
    "seq": 1, "at": "2026-01-01T00:00:00+00:00", "actor": "cli:ana", "source": "sql",
    "reason": "r", "changes": "[]", "entities": ["k"], "prev_hash": "0", "hash": "1",
}  # fmt: skip

# -- writes (inside one managed transaction per batch) ---------------------------------------

LOCK_WRITES = _statement(
    "lock_writes",
    "MERGE (w:WriteLock {name: 'ledger'}) SET w.locked_at = timestamp()",
)
"""First in every write: writing the one lock node takes its exclusive lock until commit,
so writers are serialized like SQLite's BEGIN IMMEDIATE and two never read the same
ledger head (the unique `seq` constraint would refuse the second anyway)."""
OPEN_FACTS = _statement(
    "open_facts",
    """MATCH (f:Fact)-[:ABOUT]->(n:Node)
       WHERE f.source IN $sources AND f.to_seq IS NULL
       RETURN f.source AS source, n.key AS subject, f.digest AS digest""",
    sources=["sql:a.sql"],
)
OPEN_EDGES = _statement(
    "open_edges",
    """MATCH (s:Node)-[r:ASSERTS]->(o:Node)
       WHERE r.source IN $sources AND r.to_seq IS NULL
       RETURN r.source AS source, r.kind AS kind, s.key AS subject, o.key AS object,
              r.digest AS digest""",
    sources=["sql:a.sql"],
)
SOURCE_FACTS = _statement(
    "source_facts",
    """MATCH (f:Fact)-[:ABOUT]->(n:Node)
       WHERE f.source STARTS WITH $prefix AND f.to_seq IS NULL
       RETURN n.key AS key, f.attrs AS attrs""",
    prefix="written:",
)
"""Valid facts of a family of sources (a range over the Fact source index)."""
OPEN_SOURCES = _statement(
    "open_sources",
    """CALL () {
         MATCH (f:Fact) WHERE f.source STARTS WITH $prefix AND f.to_seq IS NULL
         RETURN f.source AS source
         UNION
         MATCH ()-[r:ASSERTS]->() WHERE r.source STARTS WITH $prefix AND r.to_seq IS NULL
         RETURN r.source AS source
       }
       RETURN DISTINCT source""",
    prefix="sql:warehouse:",
)
LEDGER_HEAD = _statement(
    "ledger_head",
    """MATCH (e:LedgerEntry)
       RETURN e.seq AS seq, e.hash AS hash, e.at AS at ORDER BY e.seq DESC LIMIT 1""",
)
MERGE_NODES = _statement(
    "merge_nodes",
    """UNWIND $rows AS row
       MERGE (n:Node {key: row.key})
       ON CREATE SET n.kind = row.kind, n.namespace = row.namespace, n.name = row.name,
                     n.column = row.column""",
    rows=[{"key": '["DATASET","ns","a"]', "kind": "DATASET", "namespace": "ns", "name": "a",
           "column": None}],
)  # fmt: skip
APPEND_LEDGER = _statement(
    "append_ledger",
    "CREATE (e:LedgerEntry) SET e = $entry",
    entry=_LEDGER_ENTRY,
)
ENQUEUE_ALERT_EVENTS = _statement(
    "enqueue_alert_events",
    """UNWIND $rows AS row
       CREATE (e:AlertEvent) SET e = row, e.seq = $seq, e.processed = false""",
    rows=[
        {
            "type": "check.failed",
            "subject": '["CHECK","ns","t"]',
            "source": "dbt:run:1",
            "attrs": "{}",
        }
    ],
    seq=2,
)
"""The alert outbox: a write's events, created in the write's own transaction."""
END_FACTS = _statement(
    "end_facts",
    """UNWIND $rows AS row
       MATCH (f:Fact {source: row.source})-[:ABOUT]->(:Node {key: row.subject})
       WHERE f.to_seq IS NULL
       SET f.to_seq = $seq""",
    rows=[{"source": "sql:a.sql", "subject": '["DATASET","ns","a"]'}],
    seq=2,
)
END_EDGES = _statement(
    "end_edges",
    """UNWIND $rows AS row
       MATCH (:Node {key: row.subject})-[r:ASSERTS {source: row.source, kind: row.kind}]->
             (:Node {key: row.object})
       WHERE r.to_seq IS NULL
       SET r.to_seq = $seq""",
    rows=[_ROW],
    seq=2,
)
ADD_FACTS = _statement(
    "add_facts",
    """UNWIND $rows AS row
       MATCH (n:Node {key: row.subject})
       CREATE (:Fact {source: row.source, attrs: row.attrs, digest: row.digest,
                      from_seq: $seq, ord: row.ord})-[:ABOUT]->(n)""",
    rows=[{"source": "sql:a.sql", "subject": '["DATASET","ns","a"]', "attrs": "{}",
           "digest": "d", "ord": 0}],
    seq=2,
)  # fmt: skip
ADD_EDGES = _statement(
    "add_edges",
    """UNWIND $rows AS row
       MATCH (s:Node {key: row.subject})
       WITH row, s
       MATCH (o:Node {key: row.object})
       CREATE (s)-[:ASSERTS {kind: row.kind, source: row.source, attrs: row.attrs,
                             digest: row.digest, from_seq: $seq, ord: row.ord}]->(o)""",
    rows=[{**_ROW, "attrs": "{}", "digest": "d", "ord": 1}],
    seq=2,
)

# -- reads ------------------------------------------------------------------------------------

NODE_FACTS = _statement(
    "node_facts",
    f"""MATCH (f:Fact)-[:ABOUT]->(n:Node)
        WHERE n.key IN $keys AND {VALID.format(x="f")}
        RETURN n.key AS key, f.source AS source, f.attrs AS attrs
        ORDER BY f.from_seq, f.ord""",
    keys=['["DATASET","ns","a"]'],
    as_of=10,
)
FIND_NODES = _statement(
    "find_nodes",
    f"""MATCH (n:Node)
        WHERE n.kind = $kind
          AND (n.namespace > $after_namespace
               OR (n.namespace = $after_namespace AND n.name > $after_name))
          AND ($name IS NULL OR n.name = $name)
          AND ($search IS NULL OR toLower(n.name) CONTAINS $search
               OR toLower(n.namespace) CONTAINS $search)
          AND EXISTS {{ MATCH (f:Fact)-[:ABOUT]->(n) WHERE {VALID.format(x="f")} }}
        RETURN n.key AS key ORDER BY n.namespace, n.name LIMIT $limit""",
    kind="DATASET",
    after_namespace="",
    after_name="",
    name=None,
    search="orders",
    limit=50,
    as_of=10,
)
SEARCH = _statement(
    "search",
    f"""MATCH (n:Node)
        WHERE n.kind IN $kinds
          AND ($namespace IS NULL OR n.namespace = $namespace)
          AND all(word IN $words WHERE toLower(n.name) CONTAINS word
                  OR toLower(coalesce(n.column, n.name)) CONTAINS word)
          AND EXISTS {{ MATCH (f:Fact)-[:ABOUT]->(n) WHERE {VALID.format(x="f")} }}
        RETURN n.key AS key
        ORDER BY (n.column IS NULL AND toLower(n.name) = $exact) DESC,
                 (n.column IS NULL AND toLower(n.name) ENDS WITH $suffix) DESC,
                 [i IN range(0, size($kinds) - 1) WHERE $kinds[i] = n.kind][0],
                 n.name, n.column
        LIMIT $limit""",
    kinds=["DATASET", "COLUMN"],
    namespace=None,
    words=["fct", "orders"],
    exact="fct_orders",
    suffix=".fct_orders",
    limit=20,
    as_of=None,
)
NODES_PRESENT = _statement(
    "nodes_present",
    "MATCH (n:Node) WHERE n.key IN $keys RETURN n.key AS key",
    keys=['["DATASET","ns","a"]'],
)


def _hop(label: str, subject: str, obj: str) -> Statement:
    """One hop of a walk from the frontier (`near`) along edges to `far` nodes."""
    return _statement(
        label,
        f"""MATCH ({subject}:Node)-[r:ASSERTS]->({obj}:Node)
            WHERE near.key IN $frontier AND r.kind IN $kinds AND {VALID.format(x="r")}
            RETURN {_EDGE_COLUMNS.format(s=subject, o=obj)}, far.key AS far
            ORDER BY r.from_seq, r.ord""",
        frontier=['["DATASET","ns","a"]'],
        kinds=["FEEDS"],
        as_of=10,
    )


HOP_DOWNSTREAM = _hop("hop_downstream", "near", "far")
HOP_UPSTREAM = _hop("hop_upstream", "far", "near")
EDGE_HISTORY = _statement(
    "edge_history",
    f"""MATCH (n:Node {{key: $key}})
        CALL (n) {{
          MATCH (n)-[r:ASSERTS]->(o:Node) RETURN r, n AS s, o
          UNION
          MATCH (s:Node)-[r:ASSERTS]->(n) RETURN r, s, n AS o
        }}
        RETURN {_EDGE_COLUMNS.format(s="s", o="o")}
        ORDER BY r.from_seq, r.ord""",
    key='["DATASET","ns","a"]',
)
TIMES_OF = _statement(
    "times_of",
    "MATCH (e:LedgerEntry) WHERE e.seq IN $seqs RETURN e.seq AS seq, e.at AS at",
    seqs=[1, 2],
)

# -- the ledger -------------------------------------------------------------------------------

LEDGER_PAGE = _statement(
    "ledger_page",
    """MATCH (e:LedgerEntry)
       WHERE e.seq > $after_seq
         AND ($before_seq IS NULL OR e.seq < $before_seq)
         AND ($actor IS NULL OR e.actor = $actor)
         AND ($since IS NULL OR e.at >= $since)
         AND ($until IS NULL OR e.at <= $until)
         AND ($seqs IS NULL OR e.seq IN $seqs)
       RETURN e {.*} AS entry
       ORDER BY CASE WHEN $newest_first THEN -e.seq ELSE e.seq END LIMIT $limit""",
    after_seq=0,
    before_seq=None,
    newest_first=False,
    actor=None,
    since=None,
    until="2026-01-01T00:00:00+00:00",
    seqs=[1],
    limit=100,
)
ENTITY_SEQS = _statement(
    "entity_seqs",
    """MATCH (n:Node {key: $key})
       CALL (n) {
         MATCH (f:Fact)-[:ABOUT]->(n) RETURN [f.from_seq, f.to_seq] AS seqs
         UNION ALL
         MATCH (n)-[r:ASSERTS]-() RETURN [r.from_seq, r.to_seq] AS seqs
         UNION ALL
         MATCH (e:LedgerEntry) WHERE $key IN e.entities RETURN [e.seq] AS seqs
       }
       UNWIND seqs AS seq
       WITH seq WHERE seq IS NOT NULL
       RETURN collect(DISTINCT seq) AS seqs""",
    key='["DATASET","ns","a"]',
)
SOURCE_SEQS = _statement(
    "source_seqs",
    """CALL () {
         MATCH (f:Fact {source: $source}) RETURN [f.from_seq, f.to_seq] AS seqs
         UNION ALL
         MATCH ()-[r:ASSERTS {source: $source}]->() RETURN [r.from_seq, r.to_seq] AS seqs
         UNION ALL
         MATCH (e:LedgerEntry {source: $source}) RETURN [e.seq] AS seqs
       }
       UNWIND seqs AS seq
       WITH seq WHERE seq IS NOT NULL
       RETURN collect(DISTINCT seq) AS seqs""",
    source="sql:a.sql",
)
ENTRY_CHANGES = _statement(
    "entry_changes",
    """CALL () {
         MATCH (f:Fact)-[:ABOUT]->(n:Node) WHERE f.to_seq = $seq
         RETURN 'ended' AS op, f.source AS source, 'FACT' AS kind, n.key AS subject,
                null AS object, f.attrs AS attrs, f.ord AS ord
         UNION ALL
         MATCH (s:Node)-[r:ASSERTS]->(o:Node) WHERE r.to_seq = $seq
         RETURN 'ended' AS op, r.source AS source, r.kind AS kind, s.key AS subject,
                o.key AS object, r.attrs AS attrs, r.ord AS ord
         UNION ALL
         MATCH (f:Fact)-[:ABOUT]->(n:Node) WHERE f.from_seq = $seq
         RETURN 'added' AS op, f.source AS source, 'FACT' AS kind, n.key AS subject,
                null AS object, f.attrs AS attrs, f.ord AS ord
         UNION ALL
         MATCH (s:Node)-[r:ASSERTS]->(o:Node) WHERE r.from_seq = $seq
         RETURN 'added' AS op, r.source AS source, r.kind AS kind, s.key AS subject,
                o.key AS object, r.attrs AS attrs, r.ord AS ord
       }
       RETURN op, source, kind, subject, object, attrs
       ORDER BY op DESC, ord LIMIT $limit""",
    seq=2,
    limit=1000,
)
ASSERTION_COUNTS = _statement(
    "assertion_counts",
    """CALL () {
         MATCH (f:Fact) RETURN count(f) AS rows, count(f.to_seq) AS ended
         UNION ALL
         MATCH ()-[r:ASSERTS]->() RETURN count(r) AS rows, count(r.to_seq) AS ended
       }
       RETURN sum(rows) AS rows, sum(ended) AS ended""",
)
SEQ_AT = _statement(
    "seq_at",
    "MATCH (e:LedgerEntry) WHERE e.at <= $at RETURN coalesce(max(e.seq), 0) AS seq",
    at="2026-01-01T00:00:00+00:00",
)

# -- migrations -------------------------------------------------------------------------------

APPLIED_MIGRATIONS = _statement(
    "applied_migrations",
    "MATCH (m:Migration) RETURN m.version AS version, m.checksum AS checksum",
)
RECORD_MIGRATION = _statement(
    "record_migration",
    """CREATE (:Migration {version: $version, name: $name, checksum: $checksum,
                          applied_at: datetime()})""",
    version=1,
    name="initial",
    checksum="c",
)

# -- tests ------------------------------------------------------------------------------------

ERASE_EVERYTHING = _statement(
    "erase_everything",
    "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
)
"""Only for the conformance suite, which starts each test from an empty database."""
