"""`Store` on Neo4j 5 (the official driver), for deployments that want a graph server.

Same semantics as the embedded store: source-scoped assertions valid in ledger sequence
intervals, one hash-chained ledger, breadth-first walks that visit each node once. Writes
run as one managed transaction per batch (`session.execute_write`: the driver retries the
whole unit on transient errors, so units must be idempotent, as the write path's are),
sending rows in `UNWIND` batches. Reads carry a server-side timeout. Every statement is in
`cypher.py`, parameterized.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import neo4j
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable, SessionExpired

import catalog
from catalog.alerts.events import AlertEvent
from catalog.config import Neo4jSettings
from catalog.domain import Assertion, NodeKind, NodeRef
from catalog.errors import QueryTimeout, StoreUnavailable
from catalog.ledger import LedgerEntry
from catalog.stores import migrations
from catalog.stores.common import (
    as_of_seq,
    breadth_first,
    merged_views,
    search_words,
    searched_kinds,
)
from catalog.stores.neo4j import cypher, rows
from catalog.stores.neo4j.cypher import Statement
from catalog.stores.protocol import (
    AssertionChange,
    Direction,
    EdgeView,
    LedgerHead,
    LedgerQuery,
    NodeView,
    SourcedIdentity,
    Subgraph,
)

T = TypeVar("T")
BATCH_ROWS = 5_000
"""Rows per UNWIND statement: large enough to amortize round trips, small enough to keep
each statement's memory on the server modest."""
LEDGER_PAGE = 1_000


@contextmanager
def translated_errors(read_timeout: float) -> Iterator[None]:
    """Driver errors as Baton errors, never echoing credentials."""
    try:
        yield
    except AuthError as error:
        raise StoreUnavailable(
            "Neo4j refused the credentials (BATON_NEO4J_USER / BATON_NEO4J_PASSWORD)"
        ) from error
    except (ServiceUnavailable, SessionExpired) as error:
        raise StoreUnavailable(f"Neo4j is unavailable: {error.__class__.__name__}") from error
    except ClientError as error:
        if "TransactionTimedOut" in (error.code or ""):
            raise QueryTimeout(
                f"a store query ran longer than {read_timeout:g} s and was stopped; "
                "ask for less (smaller depth, page or limit)"
            ) from error
        raise


class _Neo4jWriteTx:
    """`WriteTx` over one managed Neo4j transaction."""

    def __init__(self, tx: neo4j.ManagedTransaction, batch_rows: int) -> None:
        self._tx = tx
        self._batch_rows = batch_rows
        self._run(cypher.LOCK_WRITES)

    def _run(self, statement: Statement, **params: Any) -> list[neo4j.Record]:
        return list(self._tx.run(statement.text, statement.bind(**params)))

    def _unwind(self, statement: Statement, all_rows: Sequence[rows.Row], **params: Any) -> None:
        for batch in rows.batches(all_rows, self._batch_rows):
            self._run(statement, rows=list(batch), **params)

    def open_assertions(self, sources: Sequence[str]) -> dict[SourcedIdentity, str]:
        facts = [r.data() for r in self._run(cypher.OPEN_FACTS, sources=list(sources))]
        edges = [r.data() for r in self._run(cypher.OPEN_EDGES, sources=list(sources))]
        return rows.open_identities(facts, edges)

    def open_sources(self, prefix: str) -> list[str]:
        return [r["source"] for r in self._run(cypher.OPEN_SOURCES, prefix=prefix)]

    def ledger_head(self) -> LedgerHead | None:
        found = self._run(cypher.LEDGER_HEAD)
        if not found:
            return None
        return LedgerHead(found[0]["seq"], found[0]["hash"], datetime.fromisoformat(found[0]["at"]))

    def commit(
        self,
        entry: LedgerEntry,
        added: Sequence[tuple[str, Assertion]],
        ended: Sequence[SourcedIdentity],
        events: Sequence[AlertEvent] = (),
    ) -> None:
        self._run(cypher.APPEND_LEDGER, entry=rows.ledger_properties(entry))
        self._unwind(cypher.MERGE_NODES, rows.node_rows(added))
        ended_facts, ended_edges = rows.ended_rows(ended)
        self._unwind(cypher.END_FACTS, ended_facts, seq=entry.seq)
        self._unwind(cypher.END_EDGES, ended_edges, seq=entry.seq)
        added_facts, added_edges = rows.added_rows(added)
        self._unwind(cypher.ADD_FACTS, added_facts, seq=entry.seq)
        self._unwind(cypher.ADD_EDGES, added_edges, seq=entry.seq)
        self._unwind(cypher.ENQUEUE_ALERT_EVENTS, rows.event_rows(events), seq=entry.seq)


class Neo4jStore:
    backend = "neo4j"

    def __init__(
        self,
        settings: Neo4jSettings,
        *,
        read_timeout: float = 30.0,
        batch_rows: int = BATCH_ROWS,
        retry_seconds: float = 30.0,
    ) -> None:
        """`retry_seconds`: how long the driver retries a transaction that fails for a
        transient reason (a leader switch, the server still starting)."""
        self.settings = settings
        self.read_timeout = read_timeout
        self.batch_rows = batch_rows
        self._driver = neo4j.GraphDatabase.driver(
            settings.uri,
            auth=(settings.user, settings.password),
            user_agent=f"baton/{catalog.__version__}",
            max_transaction_retry_time=retry_seconds,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _read(self, statement: Statement, **params: Any) -> list[neo4j.Record]:
        query = neo4j.Query(statement.text, timeout=self.read_timeout)
        with translated_errors(self.read_timeout):
            records, _, _ = self._driver.execute_query(
                query,
                statement.bind(**params),
                routing_=neo4j.RoutingControl.READ,
                database_=self.settings.database,
            )
        return list(records)

    def close(self) -> None:
        self._driver.close()

    # -- schema -----------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Each migration statement in its own transaction (Neo4j runs schema changes
        outside data transactions), then its record; a re-run skips what is recorded."""
        known = migrations.load(self.backend)
        applied = {r["version"]: r["checksum"] for r in self._read(cypher.APPLIED_MIGRATIONS)}
        names = []
        with translated_errors(self.read_timeout), self._session() as session:
            for migration in migrations.pending(known, applied):
                for text in migrations.cypher_statements(migration.text):
                    session.run(text).consume()  # text from migrations/, not values
                params = cypher.RECORD_MIGRATION.bind(
                    version=migration.version, name=migration.name, checksum=migration.checksum
                )
                session.run(cypher.RECORD_MIGRATION.text, params).consume()
                names.append(f"{migration.version:04d}_{migration.name}")
        return names

    def erase_everything(self) -> None:
        """Delete every node and relationship (the schema stays): for test databases only."""
        with translated_errors(self.read_timeout), self._session() as session:
            session.run(cypher.ERASE_EVERYTHING.text).consume()

    def alert_queue(self) -> None:
        return None  # events wait in the outbox (AlertEvent nodes); see docs/alerts.md

    def unready(self) -> str | None:
        return None  # the server manages its own disk; reads tell whether it is up

    def _session(self) -> neo4j.Session:
        return self._driver.session(database=self.settings.database)

    # -- writes -----------------------------------------------------------------------------

    def write(self, unit: Callable[[_Neo4jWriteTx], T]) -> T:
        with translated_errors(self.read_timeout), self._session() as session:
            return session.execute_write(lambda tx: unit(_Neo4jWriteTx(tx, self.batch_rows)))

    # -- reads ------------------------------------------------------------------------------

    def nodes(self, refs: Sequence[NodeRef], as_of: int | None = None) -> list[NodeView]:
        keys = [r.key for r in refs]
        found = self._read(cypher.NODE_FACTS, keys=keys, as_of=as_of_seq(as_of))
        return merged_views(keys, ((r["key"], r["source"], r["attrs"]) for r in found))

    def find_nodes(
        self,
        kind: NodeKind,
        *,
        search: str | None = None,
        name: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int,
        as_of: int | None = None,
    ) -> list[NodeView]:
        after_namespace, after_name = after or ("", "")
        found = self._read(
            cypher.FIND_NODES,
            kind=kind.value,
            after_namespace=after_namespace,
            after_name=after_name,
            name=name,
            search=search.lower() if search else None,
            limit=limit,
            as_of=as_of_seq(as_of),
        )
        return self.nodes([NodeRef.from_key(r["key"]) for r in found], as_of)

    def source_facts(self, prefix: str, attribute: str) -> list[tuple[str, Any]]:
        found = []
        for record in self._read(cypher.SOURCE_FACTS, prefix=prefix):
            attrs = json.loads(record["attrs"])
            if attribute in attrs:
                found.append((record["key"], attrs[attribute]))
        return found

    def search(
        self, text: str, *, kind: NodeKind | None, namespace: str | None, limit: int
    ) -> list[NodeRef]:
        # Name words by scan; descriptions and tags wait for a full-text index here.
        words = search_words(text)
        if not words:
            return []
        found = self._read(
            cypher.SEARCH, kinds=searched_kinds(kind),
            namespace=namespace,
            words=words, exact=text.strip().lower(), suffix="." + text.strip().lower(),
            limit=limit, as_of=as_of_seq(None),
        )  # fmt: skip
        return [NodeRef.from_key(r["key"]) for r in found]

    def subgraph(
        self,
        seeds: Sequence[NodeRef],
        *,
        kinds: Sequence[str],
        direction: Direction,
        depth: int,
        limit: int,
        as_of: int | None = None,
    ) -> Subgraph:
        """Hop by hop over the whole frontier, each node visited once: never enumerating
        paths, which explodes on real lineage graphs."""
        step = cypher.HOP_DOWNSTREAM if direction is Direction.DOWNSTREAM else cypher.HOP_UPSTREAM
        present = self._read(cypher.NODES_PRESENT, keys=[s.key for s in seeds])

        def hop(frontier: list[str]) -> Iterator[tuple[neo4j.Record, str]]:
            found = self._read(step, frontier=frontier, kinds=list(kinds), as_of=as_of_seq(as_of))
            return ((record, record["far"]) for record in found)

        depth_of, edges, truncated = breadth_first(
            (r["key"] for r in present), hop, depth=depth, limit=limit
        )
        return Subgraph(depth_of=depth_of, edges=self._edge_views(edges), truncated=truncated)

    def edge_history(self, ref: NodeRef) -> list[EdgeView]:
        return self._edge_views(self._read(cypher.EDGE_HISTORY, key=ref.key))

    def _edge_views(self, records: Sequence[neo4j.Record]) -> list[EdgeView]:
        seqs = sorted({s for r in records for s in (r["from_seq"], r["to_seq"]) if s is not None})
        at_of = {
            r["seq"]: datetime.fromisoformat(r["at"])
            for r in self._read(cypher.TIMES_OF, seqs=seqs)
        }
        return [
            EdgeView(
                kind=r["kind"],
                subject=NodeRef.from_key(r["subject"]),
                object=NodeRef.from_key(r["object"]),
                source=r["source"],
                attrs=rows.json_object(r["attrs"]),
                valid_from=at_of[r["from_seq"]],
                valid_to=at_of[r["to_seq"]] if r["to_seq"] is not None else None,
            )
            for r in records
        ]

    # -- the ledger -------------------------------------------------------------------------

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        seqs: set[int] | None = None
        if query.entity is not None:
            seqs = self._seqs(cypher.ENTITY_SEQS, key=query.entity)
        if query.source is not None:
            by_source = self._seqs(cypher.SOURCE_SEQS, source=query.source)
            seqs = by_source if seqs is None else seqs & by_source
        found = self._read(
            cypher.LEDGER_PAGE,
            after_seq=query.after_seq,
            before_seq=query.before_seq,
            newest_first=query.newest_first,
            actor=query.actor,
            since=query.since.isoformat() if query.since else None,
            until=query.until.isoformat() if query.until else None,
            seqs=sorted(seqs) if seqs is not None else None,
            limit=query.limit,
        )
        return [rows.ledger_entry(r["entry"]) for r in found]

    def _seqs(self, statement: Statement, **params: Any) -> set[int]:
        found = self._read(statement, **params)
        return set(found[0]["seqs"]) if found else set()

    def entry_changes(self, seq: int, limit: int) -> list[AssertionChange]:
        return [
            AssertionChange(
                r["op"],
                r["source"],
                r["kind"],
                NodeRef.from_key(r["subject"]),
                NodeRef.from_key(r["object"]) if r["object"] else None,
                rows.json_object(r["attrs"]),
            )
            for r in self._read(cypher.ENTRY_CHANGES, seq=seq, limit=limit)
        ]

    def ledger_entries(self) -> Iterator[LedgerEntry]:
        after = 0
        while True:
            page = self._read(
                cypher.LEDGER_PAGE, after_seq=after, actor=None, since=None, until=None,
                seqs=None, limit=LEDGER_PAGE,
            )  # fmt: skip
            yield from (rows.ledger_entry(r["entry"]) for r in page)
            if len(page) < LEDGER_PAGE:
                return
            after = page[-1]["entry"]["seq"]

    def assertion_counts(self) -> tuple[int, int]:
        found = self._read(cypher.ASSERTION_COUNTS)
        return int(found[0]["rows"]), int(found[0]["ended"])

    def seq_at(self, at: datetime) -> int:
        found = self._read(cypher.SEQ_AT, at=at.isoformat())
        return int(found[0]["seq"]) if found else 0
