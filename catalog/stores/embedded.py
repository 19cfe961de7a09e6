"""The embedded store: SQLite (WAL, foreign keys on) in one file, no server to run.

Nodes get integer ids internally; the protocol speaks `NodeRef`s. Every statement is
parameterized; the only SQL assembled at import time swaps fixed column names for the
walking direction.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from catalog.alerts.events import AlertEvent
from catalog.domain import EMPTY_ATTRS_JSON, FACT, Assertion, NodeKind, NodeRef
from catalog.errors import DiskFull, QueryTimeout, StoreBusy
from catalog.ledger import (
    Change,
    ChangesOnDemand,
    LedgerEntry,
    UnreadableEntry,
    packed_changes,
    summary_of,
)
from catalog.stores import embedded_alerts, migrations
from catalog.stores.adjacency import Adjacency
from catalog.stores.common import (
    as_of_seq,
    breadth_first,
    merged_views,
    search_words,
    searched_kinds,
)
from catalog.stores.embedded_alerts import SqliteAlertQueue
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

DEFAULT_READ_TIMEOUT = 30.0
"""Seconds a single read may run (`BATON_QUERY_TIMEOUT`); writes are not interrupted."""
DEFAULT_WRITE_WAIT = 5.0
"""Seconds a write waits for another to finish before it is refused (`BATON_WRITE_WAIT`)."""
MIN_FREE_BYTES = 16 * 2**20
"""Free disk below which the store reports itself unready: a write could not complete."""
_PROGRESS_STEPS = 10_000
"""SQLite virtual-machine steps between deadline checks."""
BULK_ROWS = 50_000
"""Rows a write must add to a table, and at least as many as the table holds, for the
table's secondary indexes to be built once after the insert instead of updated row by
row: one sort beats a random B-tree insert per row and index (a first load)."""

_VALID = "a.from_seq <= :as_of AND (a.to_seq IS NULL OR a.to_seq > :as_of)"

_HOP = """
SELECT {columns}, far.key
FROM assertions a JOIN nodes far ON far.id = a.{far}
WHERE a.{near} IN (SELECT value FROM json_each(:frontier))
  AND a.kind IN (SELECT value FROM json_each(:kinds))
  AND {valid}
ORDER BY a.id
"""

_EDGE_COLUMNS = "a.kind, a.subject_id, a.object_id, a.source, a.attrs, a.from_seq, a.to_seq"

_EDGE_HISTORY = f"""
WITH target(id) AS (SELECT id FROM nodes WHERE key = :key)
SELECT {_EDGE_COLUMNS} FROM assertions a
WHERE a.object_id IS NOT NULL
  AND (a.subject_id IN target OR a.object_id IN target)
ORDER BY a.from_seq, a.id
"""  # noqa: S608 -- only fixed fragments are interpolated


_HOP_SQL = {
    Direction.DOWNSTREAM: _HOP.format(
        columns=_EDGE_COLUMNS, near="subject_id", far="object_id", valid=_VALID
    ),
    Direction.UPSTREAM: _HOP.format(
        columns=_EDGE_COLUMNS, near="object_id", far="subject_id", valid=_VALID
    ),
}
_FAR = {Direction.DOWNSTREAM: 2, Direction.UPSTREAM: 1}
"""Index of the far node's id in an edge row, per walking direction."""

SEARCH_WINDOW = 300
"""Matches a search looks at beyond exact and suffix hits, sorted by kind and name."""

_SEARCH_LEAF = """
CASE nodes.kind WHEN 'CONTRACT' THEN lower(nodes.namespace)
    ELSE lower(coalesce(nodes.column_name, substr(nodes.name,
                        length(rtrim(nodes.name, replace(nodes.name, '.', ''))) + 1)))
END
"""
"""A node's last name part, lower-cased: search rows' `leaf`, and the expression migration
0008 indexes (there unqualified), so it must stay the same for SQLite to use the index."""

_SEARCH_ROWS = f"""
SELECT
    nodes.id,
    CASE nodes.kind WHEN 'CONTRACT' THEN nodes.namespace
        ELSE nodes.name || coalesce('.' || nodes.column_name, '') END,
    {_SEARCH_LEAF},
    'k' || lower(nodes.kind),
    (SELECT group_concat(coalesce(json_extract(a.attrs, '$.name'), '') || ' '
                         || coalesce(json_extract(a.attrs, '$.description'), ''), ' ')
     FROM assertions a
     WHERE a.subject_id = nodes.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    (SELECT group_concat(t.value, ' ') FROM assertions a, json_each(a.attrs, '$.tags') t
     WHERE a.subject_id = nodes.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    nodes.key, nodes.kind, nodes.namespace
FROM json_each(:keys) wanted CROSS JOIN nodes ON nodes.key = wanted.value
WHERE nodes.kind IN ('DATASET', 'COLUMN', 'JOB', 'CONSUMER', 'OWNER', 'CONTRACT', 'HANDOFF')
  AND EXISTS (SELECT 1 FROM assertions a
              WHERE a.subject_id = nodes.id AND a.kind = 'FACT' AND a.to_seq IS NULL)
ORDER BY nodes.id
"""  # noqa: S608 -- only a fixed fragment is interpolated
"""The search rows of some nodes as their valid facts make them (as migration 0004), each
under its node's id (migration 0006): `key` is not indexed, the rowid is. `keys` are
distinct; the CROSS JOIN looks each up, where SQLite would otherwise walk the kind index
(every node of those kinds) and test each against the keys. Rows go in by id, appended
rather than scattered through FTS5's tables."""

_SEARCH_NAMED = f"""
SELECT s.key, s.kind, lower(s.name)
FROM nodes JOIN node_search s ON s.rowid = nodes.id
WHERE {_SEARCH_LEAF} = :leaf
  AND (:namespace IS NULL OR s.exact_namespace = :namespace)
LIMIT 10000
"""  # noqa: S608 -- only a fixed fragment is interpolated
"""Searchable nodes whose last name part is the text's (the candidates for exact and
suffix hits), looked up by the leaf index however common the word is."""

_SEARCH_WORDS = """
SELECT key, kind, name FROM node_search
WHERE node_search MATCH :match
  AND (:namespace IS NULL OR exact_namespace = :namespace)
LIMIT :limit
"""
"""Nodes holding every word (and, asked for one kind, that kind's indexed token): stops
after `limit` matches instead of ranking them all."""

_IDS_OF = "SELECT id, key FROM nodes WHERE key IN (SELECT value FROM json_each(?))"
_EDGES_BY_ID = f"""
SELECT a.id, {_EDGE_COLUMNS} FROM assertions a
WHERE a.id IN (SELECT value FROM json_each(?))
"""  # noqa: S608 -- only fixed fragments are interpolated
_KEYS_OF = "SELECT id, key FROM nodes WHERE id IN (SELECT value FROM json_each(?))"
_TIMES_OF = "SELECT seq, at FROM ledger WHERE seq IN (SELECT value FROM json_each(?))"

_ENTRY_CHANGES = """
SELECT op, a.source, a.kind, s.key, o.key, a.attrs FROM (
    SELECT 'ended' AS op, id FROM assertions WHERE to_seq = :seq
    UNION ALL SELECT 'added', id FROM assertions WHERE from_seq = :seq
) c JOIN assertions a ON a.id = c.id
JOIN nodes s ON s.id = a.subject_id LEFT JOIN nodes o ON o.id = a.object_id
ORDER BY c.op DESC, a.id LIMIT :limit
"""

_ENTITY = "(SELECT id FROM nodes WHERE key = :entity)"
_ENTITY_SEQS = f"""
SELECT seq FROM ledger_entities WHERE node_id = {_ENTITY}
UNION SELECT from_seq FROM assertions WHERE subject_id = {_ENTITY}
UNION SELECT from_seq FROM assertions WHERE object_id = {_ENTITY}
UNION SELECT to_seq FROM assertions WHERE subject_id = {_ENTITY}
UNION SELECT to_seq FROM assertions WHERE object_id = {_ENTITY}
"""  # noqa: S608 -- only fixed fragments are interpolated
"""Entries that touched a node: as an entity of the write, or through any assertion."""

_LEDGER_COLUMNS = (
    "l.seq, l.at, l.actor, l.source, l.reason, l.entities, l.prev_hash, l.hash,"
    " (SELECT summary FROM ledger_summaries s WHERE s.seq = l.seq)"
)
"""An entry's row without its changes, which a listing reads only when they are used."""


def _ledger_entry(row: sqlite3.Row, changes: Sequence[Change]) -> LedgerEntry:
    seq, at, actor, source, reason, entities, prev_hash, hash_, summary = row
    return LedgerEntry(
        seq=seq,
        at=datetime.fromisoformat(at),
        actor=actor,
        source=source,
        reason=reason,
        changes=changes,
        entities=json.loads(entities),
        prev_hash=prev_hash,
        hash=hash_,
        counted=json.loads(summary) if summary is not None else None,
    )


def _summarise_packed_entries(conn: sqlite3.Connection) -> None:
    """Migration 0007's second half: entries stored packed, which SQL cannot read, get
    their summaries too; one whose changes cannot be read gets none (`verify` names it).
    (The migration's own comment, applied before this step existed, stays as it was.)"""
    for seq, stored in conn.execute(
        "SELECT seq, changes FROM ledger WHERE typeof(changes) = 'blob'"
    ):
        try:
            summary = summary_of(ChangesOnDemand.held(seq, stored))
        except UnreadableEntry:
            continue
        conn.execute(
            "INSERT INTO ledger_summaries (seq, summary) VALUES (?, ?)", (seq, json.dumps(summary))
        )


_MIGRATION_STEPS_IN_PYTHON: dict[int, Callable[[sqlite3.Connection], None]] = {
    7: _summarise_packed_entries
}
"""Work a migration needs done in Python, after its SQL and in its transaction."""


class _SqliteWriteTx:
    """`WriteTx` over an open SQLite transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._ids: dict[str, int] = {}
        self._new: set[str] = set()
        """Keys of the nodes this transaction inserted: they have no search rows yet."""

    @property
    def connection(self) -> sqlite3.Connection:
        """The transaction's connection, for the alert queue's writes."""
        return self._conn

    def open_assertions(self, sources: Sequence[str]) -> dict[SourcedIdentity, str]:
        rows = self._conn.execute(
            """
            SELECT a.source, a.kind, s.key, coalesce(o.key, ''), a.attrs_digest
            FROM assertions a
            JOIN nodes s ON s.id = a.subject_id
            LEFT JOIN nodes o ON o.id = a.object_id
            WHERE a.to_seq IS NULL AND a.source IN (SELECT value FROM json_each(?))
            """,
            (json.dumps(list(sources)),),
        )
        return {(source, (kind, subj, obj)): dig for source, kind, subj, obj, dig in rows}

    def open_sources(self, prefix: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT DISTINCT source FROM assertions"
            " WHERE source >= ? AND source < ? AND to_seq IS NULL",
            (prefix, prefix_end(prefix)),
        )
        return [source for (source,) in rows]

    def ledger_head(self) -> LedgerHead | None:
        row = self._conn.execute(
            "SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return LedgerHead(row[0], row[1], datetime.fromisoformat(row[2])) if row else None

    def commit(
        self,
        entry: LedgerEntry,
        added: Sequence[tuple[str, Assertion]],
        ended: Sequence[SourcedIdentity],
        events: Sequence[AlertEvent] = (),
    ) -> None:
        self._register_nodes(a for _, assertion in added for a in _ends(assertion))
        self._append_ledger(entry)
        self._conn.executemany(
            """
            UPDATE assertions SET to_seq = :seq
            WHERE to_seq IS NULL AND source = :source AND kind = :kind
              AND subject_id = (SELECT id FROM nodes WHERE key = :subject)
              AND ifnull(object_id, 0) = ifnull((SELECT id FROM nodes WHERE key = :object), 0)
            """,
            (
                {"seq": entry.seq, "source": source, "kind": kind, "subject": subj, "object": obj}
                for source, (kind, subj, obj) in ended
            ),
        )
        with self._indexes_built_after("assertions", len(added)):
            self._insert_assertions(entry, added)
        embedded_alerts.enqueue_events(self._conn, entry.seq, events)
        touched = {a.subject.key for _, a in added if a.kind == FACT}
        touched.update(subject for _, (kind, subject, _) in ended if kind == FACT)
        self._reindex(sorted(touched))

    def _reindex(self, keys: list[str]) -> None:
        """Search rows of `keys` rewritten from their valid facts, in the same transaction
        (nodes this transaction inserted have none to delete: a first load's are all new)."""
        if not keys:
            return
        held = [key for key in keys if key not in self._new]
        if held:
            self._conn.execute(
                "DELETE FROM node_search WHERE rowid IN"
                " (SELECT id FROM nodes WHERE key IN (SELECT value FROM json_each(?)))",
                (json.dumps(held),),
            )
        chosen = json.dumps(keys)
        self._conn.execute(
            "INSERT INTO node_search"
            " (rowid, name, leaf, kindtag, description, tags, key, kind, exact_namespace)"
            + _SEARCH_ROWS,
            {"keys": chosen},
        )
        self._new.difference_update(keys)  # they have their rows now

    def _insert_assertions(
        self, entry: LedgerEntry, added: Sequence[tuple[str, Assertion]]
    ) -> None:
        self._conn.executemany(
            """
            INSERT INTO assertions
                (source, kind, subject_id, object_id, attrs, attrs_digest, from_seq)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            (
                (
                    source,
                    a.kind,
                    self._ids[a.subject.key],
                    self._ids[a.object.key] if a.object else None,
                    a.attrs_json,
                    a.attrs_digest,
                    entry.seq,
                )
                for source, a in added
            ),
        )

    def _register_nodes(self, refs: Iterator[NodeRef]) -> None:
        """Ids for `refs` in `_ids`: those the store holds, then the rest inserted with the
        next free ids (the write lock is held, so nobody else takes them)."""
        wanted = {ref.key: ref for ref in refs if ref.key not in self._ids}
        self._ids.update(self._node_ids(list(wanted)))
        fresh = [ref for key, ref in wanted.items() if key not in self._ids]
        (last,) = self._conn.execute("SELECT coalesce(max(id), 0) FROM nodes").fetchone()
        ids = dict(zip((r.key for r in fresh), range(last + 1, last + 1 + len(fresh)), strict=True))
        with self._indexes_built_after("nodes", len(fresh)):
            self._conn.executemany(
                "INSERT INTO nodes (id, key, kind, namespace, name, column_name)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((ids[r.key], r.key, r.kind, r.namespace, r.name, r.column) for r in fresh),
            )
        self._ids.update(ids)
        self._new.update(ids)

    @contextmanager
    def _indexes_built_after(self, table: str, adding: int) -> Iterator[None]:
        """Inserting `adding` rows into `table` (its ids ascending from its largest): when
        that at least doubles a large table, its secondary indexes are dropped first and
        built again after, from their stored definitions. A failure inside leaves them
        dropped, and the transaction's rollback restores them."""
        if adding < BULK_ROWS:
            yield
            return
        (held,) = self._conn.execute(
            f"SELECT coalesce(max(rowid), 0) FROM {table}"  # noqa: S608 -- a fixed table name
        ).fetchone()
        if adding < held:
            yield
            return
        indexes = self._conn.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        for name, _ in indexes:
            self._conn.execute(f"DROP INDEX {_quoted(name)}")
        yield
        for _, definition in indexes:
            self._conn.execute(definition)

    def _node_ids(self, keys: list[str]) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT key, id FROM nodes WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(keys),),
        )
        return dict(rows.fetchall())

    def _append_ledger(self, entry: LedgerEntry) -> None:
        self._conn.execute(
            "INSERT INTO ledger"
            " (seq, at, actor, source, reason, changes, entities, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.seq,
                entry.at.isoformat(),
                entry.actor,
                entry.source,
                entry.reason,
                entry.packed if entry.packed is not None else packed_changes(entry.changes),
                json.dumps(entry.entities),
                entry.prev_hash,
                entry.hash,
            ),
        )
        self._conn.execute(
            "INSERT INTO ledger_summaries (seq, summary) VALUES (?, ?)",
            (entry.seq, json.dumps(entry.summary)),
        )
        entity_ids = self._node_ids(entry.entities)
        self._conn.executemany(
            "INSERT INTO ledger_entities (node_id, seq) VALUES (?, ?)",
            ((node_id, entry.seq) for node_id in entity_ids.values()),
        )


def _quoted(identifier: str) -> str:
    """An SQL identifier as a quoted name (identifiers cannot be bound as parameters)."""
    return '"' + identifier.replace('"', '""') + '"'


def prefix_end(prefix: str) -> str:
    """The bound that makes `source >= prefix AND source < end` a range over an index:
    every string with the prefix sorts at or after it and before the prefix with its last
    character incremented."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


def json_path(attribute: str) -> str:
    """A top-level attribute as a JSON path, quoted so any name is one key."""
    return "$." + json.dumps(attribute)


def _statements(script: str) -> Iterator[str]:
    """Split a migration into complete statements (trigger bodies keep their semicolons)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise migrations.MigrationError(
            f"incomplete statement at the end of a migration: {buffer!r}"
        )


def _ends(assertion: Assertion) -> Iterator[NodeRef]:
    yield assertion.subject
    if assertion.object is not None:
        yield assertion.object


class EmbeddedStore:
    """`Store` on a SQLite file; one connection per thread, WAL for concurrent readers."""

    backend = "embedded"

    def __init__(
        self,
        path: Path,
        *,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        write_wait: float = DEFAULT_WRITE_WAIT,
        walk_index: bool = False,
    ) -> None:
        """`walk_index`: walk the current graph over an in-memory index of its edges
        (`catalog.stores.adjacency`), for a long-running process (`baton serve`); a
        one-off command walks in SQL rather than read every edge first."""
        self.path = path
        self.adjacency = Adjacency(self._connect) if walk_index else None
        self.read_timeout = read_timeout
        self.write_wait = write_wait
        self.last_write_failure: str | None = None
        """Why the last write failed for want of disk, until a write succeeds (readiness)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    # -- connections ----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.OperationalError as error:
                raise self._translated(error) from error
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Another process's write (a CLI ingest beside the server) is waited for this
            # long; then the write is refused as busy. Readers never wait (WAL).
            conn.execute(f"PRAGMA busy_timeout = {int(self.write_wait * 1000)}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _query(self, sql: str, params: Any = ()) -> list[Any]:
        """One read, interrupted once it runs longer than `read_timeout` seconds."""
        conn = self._conn()
        deadline = time.monotonic() + self.read_timeout
        conn.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if str(error) == "interrupted":
                raise QueryTimeout(
                    f"a store query ran longer than {self.read_timeout:g} s and was stopped; "
                    "ask for less (smaller depth, page or limit)"
                ) from error
            raise
        finally:
            conn.set_progress_handler(None, 0)

    def unready(self) -> str | None:
        if self._disk_nearly_full():
            return f"disk full: less than {MIN_FREE_BYTES // 2**20} MiB free for the store"
        return self.last_write_failure

    def _disk_nearly_full(self) -> bool:
        return shutil.disk_usage(self.path.parent).free < MIN_FREE_BYTES

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
        )
        applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        names = []
        for migration in migrations.pending(migrations.load(self.backend), applied):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migration.text):
                    conn.execute(statement)
                if migration.version in _MIGRATION_STEPS_IN_PYTHON:
                    _MIGRATION_STEPS_IN_PYTHON[migration.version](conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                    (migration.version, migration.name, migration.checksum),
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            names.append(f"{migration.version:04d}_{migration.name}")
        return names

    # -- writes ---------------------------------------------------------------------------

    def write(self, unit: Callable[[_SqliteWriteTx], T]) -> T:
        # One writer at a time in this process: queueing on a lock is fair and prompt,
        # where SQLite's own busy handler sleeps in growing steps (long tail latency).
        if not self._write_lock.acquire(timeout=self.write_wait):
            raise self._busy()
        try:
            result = self._write(unit)
        except sqlite3.OperationalError as error:
            raise self._translated(error) from error
        finally:
            self._write_lock.release()
        self.last_write_failure = None
        return result

    def alert_queue(self) -> SqliteAlertQueue:
        return SqliteAlertQueue(self)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._conn()

    def write_tx(self, conn: sqlite3.Connection) -> _SqliteWriteTx:
        return _SqliteWriteTx(conn)

    def locked(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """Any write transaction (the graph's or the alert queue's), one at a time."""
        return self.write(lambda tx: unit(tx.connection))

    def _write(self, unit: Callable[[_SqliteWriteTx], T]) -> T:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = unit(_SqliteWriteTx(conn))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back (disk full)
                conn.execute("ROLLBACK")
            raise
        return result

    def _busy(self) -> StoreBusy:
        return StoreBusy(
            f"another write held the store for more than {self.write_wait:g} s; "
            "nothing was written, try again",
            retry_after=max(1, round(self.write_wait)),
        )

    def _translated(self, error: sqlite3.OperationalError) -> Exception:
        """SQLite's conditions a caller can act on, said plainly; others unchanged."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # primary code of an extended one
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return self._busy()
        # SQLite says "disk I/O error" when its shared-memory or log file cannot grow
        out_of_disk = code == sqlite3.SQLITE_IOERR and self._disk_nearly_full()
        if code == sqlite3.SQLITE_FULL or out_of_disk:
            self.last_write_failure = f"disk full: the store at {self.path} cannot grow"
            return DiskFull(f"{self.last_write_failure}; the write was rolled back whole")
        return error

    # -- reads ----------------------------------------------------------------------------

    def nodes(self, refs: Sequence[NodeRef], as_of: int | None = None) -> list[NodeView]:
        return self._node_views([r.key for r in refs], as_of)

    def _node_views(self, keys: Sequence[str], as_of: int | None) -> list[NodeView]:
        rows = self._query(
            f"""
            SELECT n.key, a.source, a.attrs
            FROM nodes n JOIN assertions a ON a.subject_id = n.id AND a.kind = '{FACT}'
            WHERE n.key IN (SELECT value FROM json_each(:keys)) AND {_VALID}
            ORDER BY a.from_seq, a.id
            """,  # noqa: S608 -- only fixed fragments are interpolated
            {"keys": json.dumps(list(keys)), "as_of": as_of_seq(as_of)},
        )
        return merged_views(keys, rows)

    def source_facts(self, prefix: str, attribute: str) -> list[tuple[str, Any]]:
        rows = self._query(
            f"""
            SELECT n.key, json_quote(json_extract(a.attrs, :path))
            FROM assertions a JOIN nodes n ON n.id = a.subject_id
            WHERE a.source >= :prefix AND a.source < :end AND a.to_seq IS NULL
              AND a.kind = '{FACT}' AND json_type(a.attrs, :path) IS NOT NULL
            """,  # noqa: S608 -- only fixed fragments are interpolated
            {"prefix": prefix, "end": prefix_end(prefix), "path": json_path(attribute)},
        )
        return [(key, json.loads(value)) for key, value in rows]

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
        pattern = None
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
        after_namespace, after_name = after or ("", "")
        rows = self._query(
            f"""
            SELECT n.key FROM nodes n
            WHERE n.kind = :kind
              AND (n.namespace, n.name) > (:after_namespace, :after_name)
              AND (:name IS NULL OR n.name = :name)
              AND (:pattern IS NULL OR n.name LIKE :pattern ESCAPE '\\'
                   OR n.namespace LIKE :pattern ESCAPE '\\')
              AND EXISTS (SELECT 1 FROM assertions a
                          WHERE a.subject_id = n.id AND a.kind = '{FACT}' AND {_VALID})
            ORDER BY n.namespace, n.name LIMIT :limit
            """,  # noqa: S608 -- only fixed fragments are interpolated
            {
                "kind": kind.value,
                "after_namespace": after_namespace,
                "after_name": after_name,
                "pattern": pattern,
                "name": name,
                "limit": limit,
                "as_of": as_of_seq(as_of),
            },
        )
        return self._node_views([key for (key,) in rows], as_of)

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
        """Breadth-first, one query per hop over the whole frontier, visiting each node once.

        Measured faster here than one recursive CTE, which cannot drop already-visited
        nodes and needs a second query for the edges (bench/lineage_walk.py).
        """
        seed_keys = [s.key for s in seeds]
        key_of: dict[int, str] = dict(self._query(_IDS_OF, (json.dumps(seed_keys),)))
        # Inside a write the index is not used: it holds committed entries only.
        if as_of is None and self.adjacency is not None and not self._conn().in_transaction:
            indexed = self._indexed_subgraph(
                self.adjacency, key_of, kinds=kinds, direction=direction, depth=depth, limit=limit
            )
            if indexed is not None:  # else the index is being read: walk in SQL
                return indexed
        params = {"kinds": json.dumps(list(kinds)), "as_of": as_of_seq(as_of)}
        far_at = _FAR[direction]

        def hop(frontier: list[int]) -> Iterator[tuple[Any, int]]:
            rows = self._query(_HOP_SQL[direction], {**params, "frontier": json.dumps(frontier)})
            for row in rows:
                key_of[row[far_at]] = row[-1]
                yield row[:-1], row[far_at]

        depth_of, edges, truncated = breadth_first(key_of, hop, depth=depth, limit=limit)
        return Subgraph(
            depth_of={key_of[node]: hops for node, hops in depth_of.items()},
            edges=self._edge_views(edges, key_of),
            truncated=truncated,
        )

    def _indexed_subgraph(
        self,
        adjacency: Adjacency,
        key_of: dict[int, str],
        *,
        kinds: Sequence[str],
        direction: Direction,
        depth: int,
        limit: int,
    ) -> Subgraph | None:
        """`subgraph` over the in-memory index (None while it is being read); views of
        walked edges it has not kept from earlier walks read from the store in one query."""
        found = adjacency.walk(
            self._conn(), list(key_of), kinds=kinds, direction=direction, depth=depth, limit=limit
        )
        if found is None:
            return None
        depth_of, walked, truncated = found
        kept, names = adjacency.views, adjacency.keys  # whole, whatever `keep` does
        try:  # a walk the index has seen the like of: everything kept
            return Subgraph(
                depth_of={names[node]: hops for node, hops in depth_of.items()},
                edges=[kept[a] for a in walked],
                truncated=truncated,
            )
        except KeyError:
            pass
        missing = [assertion for assertion in walked if assertion not in kept]
        unnamed = [node for node in depth_of if node not in names and node not in key_of]
        fetched: dict[int, EdgeView] = {}
        if unnamed:
            key_of.update(self._query(_KEYS_OF, (json.dumps(unnamed),)))
        if missing:
            rows = self._query(_EDGES_BY_ID, (json.dumps(missing),))
            ends = {node for row in rows for node in row[2:4]}
            known = {node: key_of.get(node) or names.get(node) for node in ends}
            built = self._edge_views(
                [row[1:] for row in rows], {n: k for n, k in known.items() if k is not None}
            )
            fetched = {row[0]: view for row, view in zip(rows, built, strict=True)}
        adjacency.keep(fetched, key_of)
        return Subgraph(
            depth_of={(key_of.get(node) or names[node]): hops for node, hops in depth_of.items()},
            edges=[fetched.get(a) or kept[a] for a in walked],
            truncated=truncated,
        )

    def edge_history(self, ref: NodeRef) -> list[EdgeView]:
        return self._edge_views(self._query(_EDGE_HISTORY, {"key": ref.key}), {})

    def _edge_views(self, rows: list[Any], key_of: dict[int, str]) -> list[EdgeView]:
        """Edge rows (ids and sequences) as views; `key_of` may already know some node keys."""
        unknown = {i for row in rows for i in row[1:3] if i not in key_of}
        if unknown:
            key_of = {**key_of, **dict(self._query(_KEYS_OF, (json.dumps(sorted(unknown)),)))}
        seqs = {seq for row in rows for seq in row[5:7] if seq is not None}
        at_of = {
            seq: datetime.fromisoformat(at)
            for seq, at in self._query(_TIMES_OF, (json.dumps(sorted(seqs)),))
        }
        return [
            EdgeView(
                kind=kind,
                subject=NodeRef.from_key(key_of[subject]),
                object=NodeRef.from_key(key_of[obj]),
                source=source,
                attrs={} if attrs == EMPTY_ATTRS_JSON else json.loads(attrs),
                valid_from=at_of[from_seq],
                valid_to=at_of[to_seq] if to_seq is not None else None,
            )
            for kind, subject, obj, source, attrs, from_seq, to_seq in rows
        ]

    # -- ledger ---------------------------------------------------------------------------

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        order = "DESC" if query.newest_first else "ASC"
        rows = self._query(
            f"""
            SELECT {_LEDGER_COLUMNS} FROM ledger l
            WHERE l.seq > :after_seq
              AND (:before_seq IS NULL OR l.seq < :before_seq)
              AND (:actor IS NULL OR l.actor = :actor)
              AND (:since IS NULL OR l.at >= :since)
              AND (:until IS NULL OR l.at <= :until)
              AND (:entity IS NULL OR l.seq IN ({_ENTITY_SEQS}))
              AND (:source IS NULL OR l.source = :source OR l.seq IN (
                    SELECT from_seq FROM assertions WHERE source = :source
                    UNION SELECT to_seq FROM assertions WHERE source = :source))
            ORDER BY l.seq {order} LIMIT :limit
            """,  # noqa: S608 -- only fixed fragments are interpolated
            {
                "after_seq": query.after_seq,
                "before_seq": query.before_seq,
                "actor": query.actor,
                "since": query.since.isoformat() if query.since else None,
                "until": query.until.isoformat() if query.until else None,
                "entity": query.entity,
                "source": query.source,
                "limit": query.limit,
            },
        )
        return [
            _ledger_entry(row, ChangesOnDemand(row[0], partial(self._stored_changes, row[0])))
            for row in rows
        ]

    def _stored_changes(self, seq: int) -> str | bytes:
        ((stored,),) = self._query("SELECT changes FROM ledger WHERE seq = ?", (seq,))
        return stored  # type: ignore[no-any-return]

    def entry_changes(self, seq: int, limit: int) -> list[AssertionChange]:
        rows = self._query(_ENTRY_CHANGES, {"seq": seq, "limit": limit})
        return [
            AssertionChange(
                op,
                source,
                kind,
                NodeRef.from_key(subject),
                NodeRef.from_key(obj) if obj else None,
                json.loads(attrs),
            )
            for op, source, kind, subject, obj, attrs in rows
        ]

    def ledger_entries(self) -> Iterator[LedgerEntry]:
        cursor = self._conn().execute(
            f"SELECT {_LEDGER_COLUMNS}, l.changes FROM ledger l ORDER BY l.rowid"  # noqa: S608
        )
        for *row, stored in cursor:
            yield _ledger_entry(row, ChangesOnDemand.held(row[0], stored))

    def search(
        self, text: str, *, kind: NodeKind | None, namespace: str | None, limit: int
    ) -> list[NodeRef]:
        words = search_words(text)
        if not words:
            return []
        kinds = searched_kinds(kind)
        found = self._named_hits(text.strip().lower(), kinds, namespace)[:limit]
        # Words (which hold no quotes) before the last are whole words, the last may be
        # the start of one, as you type: a prefix query of a common word ("table"*)
        # reads every name holding it (0.5 s at a million tables), a whole word does not.
        every_word = " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])
        match = f"kindtag : k{kind.value.lower()} AND {every_word}" if kind else every_word
        window = self._query(  # then others holding every word, the first few hundred
            _SEARCH_WORDS,
            {"match": match, "namespace": namespace, "limit": max(10 * limit, SEARCH_WINDOW)},
        )
        order = {k: n for n, k in enumerate(kinds)}
        rest = sorted((order[k], name, key) for key, k, name in window if key not in found)
        found += [key for *_, key in rest][: limit - len(found)]
        return [NodeRef.from_key(key) for key in found]

    def _named_hits(self, typed: str, kinds: list[str], namespace: str | None) -> list[str]:
        """Keys of nodes named `typed` exactly, then of those whose name ends in it, each
        group in the order of `kinds`."""
        leaf = typed.rsplit(".", 1)[-1]
        if not search_words(leaf):  # `marts.`: no name ends in nothing
            return []
        rows = self._query(_SEARCH_NAMED, {"leaf": leaf, "namespace": namespace})
        order = {kind: n for n, kind in enumerate(kinds)}
        named = [
            (name != typed, order[kind], name, key)
            for key, kind, name in rows
            if kind in order and (name == typed or name.endswith("." + typed))
        ]
        return list(dict.fromkeys(key for *_, key in sorted(named)))

    def assertion_counts(self) -> tuple[int, int]:
        (rows, ended), *_ = self._query("SELECT count(*), count(to_seq) FROM assertions")
        return int(rows), int(ended)

    def seq_at(self, at: datetime) -> int:
        (seq,) = self._query(
            "SELECT coalesce(max(seq), 0) FROM ledger WHERE at <= ?", (at.isoformat(),)
        )[0]
        return int(seq)
