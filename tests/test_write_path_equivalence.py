"""The write path's output, row for row, is what it was before it was made fast.

`GOLDEN` is the digest of every stored row (ids resolved to node keys) after a fixed
sequence of writes, recorded with the write path as it stood before the bulk-load work
(commit ada73e8). A faster write path must store exactly the same nodes, assertions,
digests, ledger entries (so the same hash chain), ledger entities, search rows and alert
events. On a mismatch the dump is left in the test's temporary folder to diff.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog.domain import (
    Batch,
    EdgeKind,
    NodeKind,
    NodeRef,
    Scope,
    SnapshotBuilder,
    SourceSnapshot,
    column_ref,
    dataset_ref,
    job_ref,
    owner_ref,
    sha256_hex,
)
from catalog.ledger import unpacked_changes
from catalog.stores import embedded
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch

GOLDEN = "e0a08040c03da0a159e6864f3c942eec46538d00cdc4fcfc47c4ea7ee4c10e76"

NAMESPACE = "warehouse://golden"
DATASETS = 120


def _dataset(i: int) -> NodeRef:
    return dataset_ref(NAMESPACE, f"layer{i % 4}.table_{i}")


def _source(n: int, *, revision: int) -> SourceSnapshot:
    """Source `golden:n`: its datasets with columns, facts, lineage and owners; a later
    revision changes descriptions, drops a column and rewires an edge."""
    builder = SnapshotBuilder(f"golden:{n}")
    for i in range(n, DATASETS, 5):
        dataset = _dataset(i)
        words = "orders" if revision == 1 or i % 3 else "orders, revised"
        builder.node(dataset, description=f"table {i} of {words}", tags=[f"t{i % 7}"])
        for c in range(6 if revision == 1 or i % 4 else 5):
            column = column_ref(NAMESPACE, dataset.name, f"col_{c}")
            builder.node(column, type="INT" if c % 2 else "TEXT")
            builder.edge(EdgeKind.HAS_COLUMN, dataset, column)
        if i >= 5:
            upstream = _dataset(i - 5 + (revision - 1) * (i % 2))
            builder.edge(EdgeKind.FEEDS, upstream, dataset, via="sql")
            for c in range(3):
                builder.edge(
                    EdgeKind.DERIVES,
                    column_ref(NAMESPACE, upstream.name, f"col_{c}"),
                    column_ref(NAMESPACE, dataset.name, f"col_{c}"),
                    transformation="DIRECT",
                )
        job = job_ref("dbt://golden", f"model_{i}")
        builder.edge(EdgeKind.WRITES, job, dataset)
        builder.owns(owner_ref("team", f"team_{i % 3}"), dataset, "engineer")
    return builder.build()


def _late_events() -> SourceSnapshot:
    """An incomplete snapshot: adds, ends nothing."""
    builder = SnapshotBuilder("events:golden")
    builder.node(_dataset(1), rows=42)
    builder.edge(EdgeKind.FEEDS, _dataset(2), _dataset(3))
    return builder.build(complete=False)


def _writes() -> list[Batch]:
    first = Batch(snapshots=[_source(n, revision=1) for n in range(5)])
    # Revision 2 of sources 0-2, a late incomplete snapshot, and source 3 gone from its
    # scope (retired); source 4 untouched.
    second = Batch(
        snapshots=[_source(n, revision=2) for n in range(3)] + [_late_events()],
        scopes=[Scope(prefix="golden:", present=frozenset({f"golden:{n}" for n in (0, 1, 2, 4)}))],
    )
    return [first, second, second]


def _dump(store: EmbeddedStore) -> list[str]:
    """Every stored row, ids resolved to keys, sorted: comparable across insert orders."""
    conn = store.connection()
    queries = {
        "node": "SELECT key, kind, namespace, name, column_name FROM nodes",
        "assertion": """
            SELECT a.source, a.kind, s.key, o.key, a.attrs, a.attrs_digest, a.from_seq, a.to_seq
            FROM assertions a JOIN nodes s ON s.id = a.subject_id
            LEFT JOIN nodes o ON o.id = a.object_id""",
        "ledger": f"SELECT {', '.join(_LEDGER_COLUMNS)} FROM ledger",  # noqa: S608
        "entity": """
            SELECT n.key, e.seq FROM ledger_entities e JOIN nodes n ON n.id = e.node_id""",
        "search": """
            SELECT name, leaf, kindtag, description, tags, key, kind, exact_namespace
            FROM node_search""",
        "event": "SELECT seq, type, subject, source, attrs FROM alert_outbox",
    }
    rows = [
        json.dumps([table, *_as_recorded(table, row)])
        for table, sql in queries.items()
        for row in conn.execute(sql).fetchall()
    ]
    return sorted(rows)


def _as_recorded(table: str, row: sqlite3.Row) -> list[object]:
    """A row as the recording stored it: a ledger entry's changes were JSON text then
    (`json.dumps`), and are packed now; what is compared is the changes, not their
    encoding."""
    values = list(row)
    if table == "ledger":
        changes = _LEDGER_COLUMNS.index("changes")
        values[changes] = json.dumps(json.loads(unpacked_changes(values[changes])))
    return values


_LEDGER_COLUMNS = [
    "seq",
    "at",
    "actor",
    "source",
    "reason",
    "changes",
    "entities",
    "prev_hash",
    "hash",
]


def _ticking_clock() -> datetime:
    _ticking_clock.now += timedelta(seconds=1)  # type: ignore[attr-defined]
    return _ticking_clock.now  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    "bulk_rows", [embedded.BULK_ROWS, 1], ids=["indexes-updated", "indexes-built-after"]
)
def test_the_write_path_stores_exactly_what_it_stored_before(
    tmp_path: Path, bulk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "BULK_ROWS", bulk_rows)
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    _ticking_clock.now = datetime(2026, 1, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    entries = [
        write_batch(
            store, batch, WriteRequest("test:golden", "golden", "equivalence"), clock=_ticking_clock
        ).ledger_seq
        for batch in _writes()
    ]
    dump = _dump(store)
    store.close()
    assert entries == [1, 2, None]
    assert {NodeKind.DATASET.value, NodeKind.COLUMN.value} <= {
        json.loads(row)[2] for row in dump if row.startswith('["node"')
    }
    digest = sha256_hex("\n".join(dump))
    if digest != GOLDEN:
        (tmp_path / "dump.jsonl").write_text("\n".join(dump))
    assert digest == GOLDEN, f"rows differ from the recorded write path ({len(dump)} rows)"
