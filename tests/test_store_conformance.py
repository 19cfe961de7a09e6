"""The store contract. Runs unchanged against every backend in `BACKENDS`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.domain import (
    WRITTEN_SOURCE_PREFIX,
    EdgeKind,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    dataset_ref,
    job_ref,
    last_write,
)
from catalog.ledger import Change, ChangeOp, LedgerDraft, seal
from catalog.stores.protocol import Direction, LedgerQuery, Store, WriteTx
from tests.conftest import Write, chain_snapshot


def ref(name: str) -> NodeRef:
    return dataset_ref("test://ns", name)


FEEDS = [EdgeKind.FEEDS.value]


def test_written_nodes_can_be_read_back(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    found = store.nodes([ref("a"), ref("b"), ref("missing")])
    assert [v.ref for v in found] == [ref("a"), ref("b")]
    assert found[0].sources == ("s1",)


def test_node_attributes_merge_across_sources(store: Store, write: Write) -> None:
    first, second = SnapshotBuilder("s1"), SnapshotBuilder("s2")
    first.node(ref("a"), description="orders")
    second.node(ref("a"), type="TABLE")
    write(first.build(), second.build())
    (view,) = store.nodes([ref("a")])
    assert view.attrs == {"description": "orders", "type": "TABLE"}
    assert set(view.sources) == {"s1", "s2"}


def test_downstream_walk_stops_at_the_depth_bound(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "c", "d"))
    sub = store.subgraph(
        [ref("a")], kinds=FEEDS, direction=Direction.DOWNSTREAM, depth=2, limit=100
    )
    assert sub.depth_of == {ref("a").key: 0, ref("b").key: 1, ref("c").key: 2}
    assert not sub.truncated


def test_upstream_walk_follows_edges_backwards(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "c"))
    sub = store.subgraph([ref("c")], kinds=FEEDS, direction=Direction.UPSTREAM, depth=5, limit=100)
    assert sub.depth_of == {ref("c").key: 0, ref("b").key: 1, ref("a").key: 2}
    assert {(e.subject.name, e.object.name) for e in sub.edges} == {("a", "b"), ("b", "c")}


def test_walk_reports_truncation_at_the_node_limit(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "c", "d"))
    sub = store.subgraph([ref("a")], kinds=FEEDS, direction=Direction.DOWNSTREAM, depth=9, limit=2)
    assert len(sub.depth_of) == 2
    assert sub.truncated


def test_walk_visits_each_node_once_in_a_cycle(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "a"))
    sub = store.subgraph(
        [ref("a")], kinds=FEEDS, direction=Direction.DOWNSTREAM, depth=10, limit=100
    )
    assert sub.depth_of == {ref("a").key: 0, ref("b").key: 1}


def test_walk_ignores_edges_of_other_kinds(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    sub = store.subgraph(
        [ref("a")],
        kinds=[EdgeKind.DERIVES.value],
        direction=Direction.DOWNSTREAM,
        depth=3,
        limit=100,
    )
    assert sub.depth_of == {ref("a").key: 0}


def test_reads_as_of_an_earlier_sequence_see_the_graph_then(store: Store, write: Write) -> None:
    first = write(chain_snapshot("s1", "a", "b"))
    write(chain_snapshot("s1", "a", "c"))
    assert first.entry is not None
    then = store.subgraph(
        [ref("a")],
        kinds=FEEDS,
        direction=Direction.DOWNSTREAM,
        depth=1,
        limit=10,
        as_of=first.entry.seq,
    )
    now = store.subgraph([ref("a")], kinds=FEEDS, direction=Direction.DOWNSTREAM, depth=1, limit=10)
    assert set(then.depth_of) == {ref("a").key, ref("b").key}
    assert set(now.depth_of) == {ref("a").key, ref("c").key}
    assert store.nodes([ref("b")]) == []
    assert store.nodes([ref("b")], as_of=first.entry.seq) != []


def test_seq_at_maps_an_instant_to_the_last_entry_before_it(store: Store, write: Write) -> None:
    before = datetime(2000, 1, 1, tzinfo=UTC)
    result = write(chain_snapshot("s1", "a", "b"))
    assert result.entry is not None
    assert store.seq_at(before) == 0
    assert store.seq_at(datetime.now(UTC)) == result.entry.seq


def test_find_nodes_pages_in_name_order(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "d", "b", "a", "c"))
    first = store.find_nodes(NodeKind.DATASET, search=None, after=None, limit=2)
    after = (first[-1].ref.namespace, first[-1].ref.name)
    rest = store.find_nodes(NodeKind.DATASET, search=None, after=after, limit=10)
    assert [v.ref.name for v in first + rest] == ["a", "b", "c", "d"]


def test_find_nodes_search_treats_wildcards_literally(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "orders_daily", "orders", "ordersXdaily"))
    found = store.find_nodes(NodeKind.DATASET, search="s_d", after=None, limit=10)
    assert [v.ref.name for v in found] == ["orders_daily"]


def test_ledger_filters_by_entity_and_actor(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"), actor="test:alice")
    write(chain_snapshot("s2", "c", "d"), actor="test:bob")
    by_entity = store.ledger(LedgerQuery(entity=ref("c").key))
    by_actor = store.ledger(LedgerQuery(actor="test:alice"))
    assert [e.actor for e in by_entity] == ["test:bob"]
    assert [e.seq for e in by_actor] == [1]


def test_a_failure_inside_a_write_leaves_nothing_behind(store: Store) -> None:
    snapshot = chain_snapshot("s1", "a", "b")
    changes = [
        Change(
            ChangeOp.ADDED,
            "s1",
            a.kind,
            a.subject.key,
            a.object.key if a.object else None,
            a.attrs_digest,
        )
        for a in snapshot.assertions
    ]
    draft = LedgerDraft("test:alice", "test", "r", changes, entities=[ref("a").key])
    entry = seal(draft, seq=1, at=datetime.now(UTC), prev_hash="0" * 64)

    def fails_after_writing(tx: WriteTx) -> None:
        tx.commit(entry, [("s1", a) for a in snapshot.assertions], [])
        raise RuntimeError("injected failure after the batch was applied")

    with pytest.raises(RuntimeError, match="injected"):
        store.write(fails_after_writing)
    assert store.nodes([ref("a"), ref("b")]) == []
    assert list(store.ledger_entries()) == []


def test_find_nodes_by_exact_name_across_namespaces(store: Store, write: Write) -> None:
    builder = SnapshotBuilder("s1")
    for namespace in ("pg://one", "pg://two"):
        builder.node(dataset_ref(namespace, "orders"))
        builder.node(dataset_ref(namespace, "orders_daily"))
    write(builder.build())
    found = store.find_nodes(NodeKind.DATASET, name="orders", limit=10)
    assert [(v.ref.namespace, v.ref.name) for v in found] == [
        ("pg://one", "orders"),
        ("pg://two", "orders"),
    ]


def test_find_nodes_search_is_case_insensitive(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "Orders", "payments"))
    found = store.find_nodes(NodeKind.DATASET, search="ORD", limit=10)
    assert [v.ref.name for v in found] == ["Orders"]


def test_ledger_filters_by_any_node_an_entry_asserted_about(store: Store, write: Write) -> None:
    column = NodeRef(kind=NodeKind.COLUMN, namespace="test://ns", name="a", column="id")
    builder = SnapshotBuilder("s1")
    builder.edge(EdgeKind.HAS_COLUMN, builder.node(ref("a")), builder.node(column, type="int"))
    write(builder.build())
    write(chain_snapshot("s2", "b", "c"))
    assert [e.seq for e in store.ledger(LedgerQuery(entity=column.key))] == [1]


def test_ledger_filters_by_the_source_of_any_snapshot(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    write(chain_snapshot("s2", "b", "c"))
    write(chain_snapshot("s1", "a"))  # ends s1's edge
    assert [e.seq for e in store.ledger(LedgerQuery(source="s1"))] == [1, 3]


def test_entry_changes_give_ended_then_added_assertions_with_attributes(
    store: Store, write: Write
) -> None:
    first, second = SnapshotBuilder("s1"), SnapshotBuilder("s1")
    first.node(ref("a"), owner="x")
    second.node(ref("a"), owner="y")
    write(first.build())
    write(second.build())
    changes = store.entry_changes(2, limit=10)
    assert [(c.op, c.kind, c.subject, c.attrs) for c in changes] == [
        ("ended", "FACT", ref("a"), {"owner": "x"}),
        ("added", "FACT", ref("a"), {"owner": "y"}),
    ]


def test_source_facts_reads_one_attribute_of_a_family_of_sources(
    store: Store, write: Write
) -> None:
    a, b = ref("a"), ref("b")
    write(
        last_write(a, "2026-11-30T01:00:00Z", job_ref("j", "x")),
        last_write(b, "2026-11-30T02:00:00Z", job_ref("j", "y")),
        chain_snapshot("unwritten", "c"),
    )
    write(last_write(a, "2026-11-30T03:00:00Z", job_ref("j", "x")))  # replaces a's
    found = sorted(store.source_facts(WRITTEN_SOURCE_PREFIX, "last_written_at"))
    assert found == sorted([(a.key, "2026-11-30T03:00:00Z"), (b.key, "2026-11-30T02:00:00Z")])
    assert store.source_facts(WRITTEN_SOURCE_PREFIX, "no_such_attribute") == []
