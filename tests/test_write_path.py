"""The write path: idempotent, source-scoped, atomic, and always ledgered."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace

import pytest

from catalog.domain import Batch, EdgeKind, SnapshotBuilder, SourceSnapshot, dataset_ref
from catalog.stores import embedded as embedded_store
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Direction, Store
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import Write, chain_snapshot, run_sql

FEEDS = [EdgeKind.FEEDS.value]


def downstream_of(store: Store, name: str) -> set[str]:
    sub = store.subgraph(
        [dataset_ref("test://ns", name)],
        kinds=FEEDS,
        direction=Direction.DOWNSTREAM,
        depth=1,
        limit=100,
    )
    return {key for key, hops in sub.depth_of.items() if hops == 1}


def test_first_write_appends_one_ledger_entry(store: Store, write: Write) -> None:
    result = write(chain_snapshot("s1", "a", "b"))
    assert result.entry is not None and result.entry.seq == 1
    assert result.summary == {"added:FACT": 2, "added:FEEDS": 1}
    assert len(list(store.ledger_entries())) == 1


def test_identical_input_twice_changes_nothing_the_second_time(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    again = write(chain_snapshot("s1", "a", "b"))
    assert not again.changed
    assert again.summary == {}
    assert len(list(store.ledger_entries())) == 1


def test_resubmitted_source_ends_what_it_no_longer_asserts(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    result = write(chain_snapshot("s1", "a", "c"))
    assert result.summary == {"added:FACT": 1, "added:FEEDS": 1, "ended:FACT": 1, "ended:FEEDS": 1}
    assert downstream_of(store, "a") == {dataset_ref("test://ns", "c").key}


def test_ended_edges_stay_in_history_with_their_end_time(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    second = write(chain_snapshot("s1", "a", "c"))
    assert second.entry is not None
    history = store.edge_history(dataset_ref("test://ns", "b"))
    assert [(e.subject.name, e.object.name) for e in history] == [("a", "b")]
    assert history[0].valid_to == second.entry.at


def test_other_sources_assertions_are_untouched(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"), chain_snapshot("s2", "a", "x"))
    write(chain_snapshot("s1", "a", "c"))
    assert downstream_of(store, "a") == {
        dataset_ref("test://ns", "c").key,
        dataset_ref("test://ns", "x").key,
    }


def test_incomplete_snapshot_adds_without_ending(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    result = write(chain_snapshot("s1", "a", "c", complete=False))
    assert not any(label.startswith("ended") for label in result.summary)
    assert len(downstream_of(store, "a")) == 2


def test_changed_attributes_end_the_old_assertion_and_add_the_new(
    store: Store, write: Write
) -> None:
    def described(text: str) -> Batch:
        builder = SnapshotBuilder("s1")
        builder.node(dataset_ref("test://ns", "a"), description=text)
        return Batch(snapshots=[builder.build()])

    write(*described("old").snapshots)
    result = write(*described("new").snapshots)
    assert result.summary == {"added:FACT": 1, "ended:FACT": 1}
    (view,) = store.nodes([dataset_ref("test://ns", "a")])
    assert view.attrs == {"description": "new"}


def test_ledger_records_the_actor_and_touched_datasets(store: Store, write: Write) -> None:
    result = write(chain_snapshot("s1", "a", "b"), actor="test:carol")
    assert result.entry is not None
    assert result.entry.actor == "test:carol"
    assert result.entry.entities == sorted(
        [dataset_ref("test://ns", "a").key, dataset_ref("test://ns", "b").key]
    )


def test_database_failure_mid_batch_rolls_back_the_whole_batch(embedded: EmbeddedStore) -> None:
    """A real SQLite error on the third assertion insert aborts everything before it too."""
    run_sql(
        embedded.path,
        "CREATE TRIGGER fail_mid_batch BEFORE INSERT ON assertions"
        " WHEN (SELECT count(*) FROM assertions) >= 2"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    request = WriteRequest("test:alice", "test", "r")
    batch = Batch(snapshots=[chain_snapshot("s1", "a", "b", "c")])
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        write_batch(embedded, batch, request)
    assert embedded.nodes([dataset_ref("test://ns", "a")]) == []
    assert list(embedded.ledger_entries()) == []


def _indexes(store: EmbeddedStore) -> list[tuple[str, str]]:
    return (
        store.connection()
        .execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " ORDER BY name"
        )
        .fetchall()
    )


def _statements_of(store: EmbeddedStore, unit: Callable[[], object]) -> list[str]:
    statements: list[str] = []
    store.connection().set_trace_callback(statements.append)
    try:
        unit()
    finally:
        store.connection().set_trace_callback(None)
    return statements


def test_a_write_at_least_doubling_a_table_builds_its_indexes_after_the_insert(
    embedded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_store, "BULK_ROWS", 2)
    defined = _indexes(embedded)
    request = WriteRequest("test:alice", "test", "r")
    batch = Batch(snapshots=[chain_snapshot("s1", "a", "b", "c")])
    statements = _statements_of(embedded, lambda: write_batch(embedded, batch, request))
    dropped = {s.removeprefix("DROP INDEX ") for s in statements if s.startswith("DROP INDEX")}
    assert dropped == {
        f'"{name}"' for name, sql in defined if " ON assertions " in sql or " ON nodes " in sql
    }
    assert _indexes(embedded) == defined
    assert downstream_of(embedded, "a") == {dataset_ref("test://ns", "b").key}


def test_a_small_write_into_a_larger_table_updates_its_indexes_in_place(
    embedded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_store, "BULK_ROWS", 2)
    request = WriteRequest("test:alice", "test", "r")
    write_batch(embedded, Batch(snapshots=[chain_snapshot("s1", *"abcdefgh")]), request)
    batch = Batch(snapshots=[chain_snapshot("s2", "x", "y")])
    statements = _statements_of(embedded, lambda: write_batch(embedded, batch, request))
    assert [s for s in statements if "INDEX" in s] == []


def test_a_failed_write_keeps_the_indexes_it_had_dropped(
    embedded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_store, "BULK_ROWS", 1)
    defined = _indexes(embedded)
    run_sql(
        embedded.path,
        "CREATE TRIGGER fail_mid_batch BEFORE INSERT ON assertions"
        " WHEN (SELECT count(*) FROM assertions) >= 2"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    batch = Batch(snapshots=[chain_snapshot("s1", "a", "b", "c")])
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        write_batch(embedded, batch, WriteRequest("test:alice", "test", "r"))
    assert _indexes(embedded) == defined
    assert list(embedded.ledger_entries()) == []


def test_incomplete_snapshot_does_not_change_existing_attributes(
    store: Store, write: Write
) -> None:
    def described(text: str, *, complete: bool) -> SourceSnapshot:
        builder = SnapshotBuilder("s1")
        builder.node(dataset_ref("test://ns", "a"), description=text)
        return builder.build(complete=complete)

    write(described("final", complete=True))
    late = write(described("provisional", complete=False))
    assert not late.changed
    (view,) = store.nodes([dataset_ref("test://ns", "a")])
    assert view.attrs == {"description": "final"}


def test_a_ref_copied_with_another_namespace_has_that_namespace_s_key() -> None:
    original = dataset_ref("test://ns", "a")
    assert original.key  # memoized on the original before the copy
    moved = replace(original, namespace="test://other")
    assert moved.key == dataset_ref("test://other", "a").key


def test_an_assertion_copied_with_other_attributes_has_their_digest() -> None:
    builder = SnapshotBuilder("s1")
    builder.node(dataset_ref("test://ns", "a"), description="before")
    (fact,) = builder.build().assertions
    assert fact.attrs_digest
    changed = replace(fact, attrs={"description": "after"})
    assert changed.attrs_json == '{"description":"after"}'
    assert changed.attrs_digest != fact.attrs_digest
