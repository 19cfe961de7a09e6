"""Services over the store: lineage in both directions, as of the past, within limits."""

from __future__ import annotations

import pytest

from catalog.domain import SnapshotBuilder, column_ref, dataset_ref, job_ref
from catalog.errors import InvalidArgument, LimitExceeded, NotFound
from catalog.services import catalog, lineage
from catalog.services.lineage import LineageDirection
from catalog.stores.protocol import Store
from tests.conftest import Write, chain_snapshot


def names(result: lineage.LineageResult) -> dict[str, int]:
    return {n.node.ref.name: n.depth for n in result.nodes}


def test_both_directions_give_signed_depths(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "c"))
    result = lineage.lineage(store, dataset_ref("test://ns", "b"), depth=2)
    assert names(result) == {"a": -1, "b": 0, "c": 1}


def test_lineage_as_of_a_past_instant_shows_edges_since_ended(store: Store, write: Write) -> None:
    first = write(chain_snapshot("s1", "a", "b"))
    write(chain_snapshot("s1", "a", "c"))
    assert first.entry is not None
    between = first.entry.at
    root = dataset_ref("test://ns", "a")
    then = lineage.lineage(store, root, direction=LineageDirection.DOWNSTREAM, as_of=between)
    now = lineage.lineage(store, root, direction=LineageDirection.DOWNSTREAM)
    assert names(then) == {"a": 0, "b": 1}
    assert names(now) == {"a": 0, "c": 1}


def test_lineage_reports_truncation(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b", "c", "d"))
    result = lineage.lineage(
        store,
        dataset_ref("test://ns", "a"),
        direction=LineageDirection.DOWNSTREAM,
        depth=5,
        limit=2,
    )
    assert result.truncated
    assert len(result.nodes) == 2


def test_lineage_depth_outside_the_bounds_is_refused(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    with pytest.raises(LimitExceeded, match="depth must be between 1 and 20"):
        lineage.lineage(store, dataset_ref("test://ns", "a"), depth=21)


def test_lineage_of_an_unknown_node_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        lineage.lineage(store, column_ref("test://ns", "a", "x"))


def test_lineage_of_a_job_is_an_invalid_argument(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        lineage.lineage(store, job_ref("test://jobs", "j"))


def test_resolving_a_name_unique_across_namespaces(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "orders", "orders_daily"))
    assert catalog.resolve_dataset(store, "orders") == dataset_ref("test://ns", "orders")


def test_resolving_an_ambiguous_name_asks_for_the_namespace(store: Store, write: Write) -> None:
    builder = SnapshotBuilder("s1")
    builder.node(dataset_ref("pg://one", "orders"))
    builder.node(dataset_ref("pg://two", "orders"))
    write(builder.build())
    with pytest.raises(InvalidArgument, match="names several datasets"):
        catalog.resolve_dataset(store, "orders")


def test_history_keeps_edges_a_source_stopped_asserting(store: Store, write: Write) -> None:
    write(chain_snapshot("s1", "a", "b"))
    write(chain_snapshot("s1", "a", "c"))
    found = catalog.history(store, dataset_ref("test://ns", "a"))
    validity = {e.object.name: e.valid_to is None for e in found.edges}
    assert validity == {"b": False, "c": True}
    assert [e.seq for e in found.entries] == [1, 2]
