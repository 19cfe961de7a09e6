"""The in-memory walk index of the embedded store: exact, never stale."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.domain import Batch, EdgeKind, SnapshotBuilder, dataset_ref
from catalog.stores import adjacency
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Direction, Subgraph
from catalog.write_path import WriteRequest, apply_batch, write_batch
from tests.conftest import chain_snapshot

NAMESPACE = "test://ns"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, EmbeddedStore]]:
    """One store file opened twice: walking over the index, and walking in SQL (and
    writing, as another process would)."""
    plain = EmbeddedStore(tmp_path / "baton.db")
    plain.migrate()
    indexed = EmbeddedStore(tmp_path / "baton.db", walk_index=True)
    assert indexed.adjacency is not None
    indexed.adjacency.read()
    yield indexed, plain
    indexed.close()
    plain.close()


def write(store: EmbeddedStore, *snapshots: object) -> None:
    batch = Batch.model_validate({"snapshots": snapshots})
    write_batch(store, batch, WriteRequest("test:alice", "test", "testing"))


def walk(
    store: EmbeddedStore, name: str, direction: Direction, as_of: int | None = None
) -> Subgraph:
    return store.subgraph(
        [dataset_ref(NAMESPACE, name)],
        kinds=[EdgeKind.FEEDS.value],
        direction=direction,
        depth=10,
        limit=1000,
        as_of=as_of,
    )


def indexed_walk(store: EmbeddedStore, name: str, direction: Direction) -> Subgraph:
    """A walk the index answered: one that found it being read again waits, and asks
    again (it was answered in SQL meanwhile)."""
    assert store.adjacency is not None
    answer = walk(store, name, direction)
    if store.adjacency.seq is None:
        store.adjacency.wait()
        answer = walk(store, name, direction)
    assert store.adjacency.seq is not None
    return answer


def reached(sub: Subgraph) -> set[str]:
    return {key for key, hops in sub.depth_of.items() if hops}


def test_a_walk_sees_what_another_process_wrote_since_the_last_walk(
    pair: tuple[EmbeddedStore, EmbeddedStore],
) -> None:
    indexed, writer = pair
    write(writer, chain_snapshot("s1", "a", "b"))
    assert reached(indexed_walk(indexed, "a", Direction.DOWNSTREAM)) == {
        dataset_ref(NAMESPACE, "b").key
    }
    write(writer, chain_snapshot("s1", "a", "c"))
    assert reached(indexed_walk(indexed, "a", Direction.DOWNSTREAM)) == {
        dataset_ref(NAMESPACE, "c").key
    }


def _random_source(rng: random.Random, source: str, names: list[str]) -> object:
    builder = SnapshotBuilder(source)
    for _ in range(rng.randint(5, 40)):
        upstream, downstream = rng.sample(names, 2)
        builder.edge(
            EdgeKind.FEEDS,
            builder.node(dataset_ref(NAMESPACE, upstream)),
            builder.node(dataset_ref(NAMESPACE, downstream)),
            weight=rng.randint(0, 2),
        )
    return builder.build()


@pytest.mark.parametrize("overlay", [adjacency.OVERLAY_MIN, 0], ids=["overlay", "rebuilds"])
def test_index_and_sql_walks_agree_through_writes_that_add_change_and_end_edges(
    pair: tuple[EmbeddedStore, EmbeddedStore], overlay: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changes kept in the overlay, or (with no room for one) the index read again."""
    monkeypatch.setattr(adjacency, "OVERLAY_MIN", overlay)
    indexed, plain = pair
    rng = random.Random(7)
    names = [f"t{i}" for i in range(60)]
    for _ in range(12):
        sources = [f"s{n}" for n in rng.sample(range(6), 3)]  # each rewrites its edges
        write(plain, *(_random_source(rng, source, names) for source in sources))
        for name in rng.sample(names, 5):
            for direction in Direction:
                assert indexed_walk(indexed, name, direction) == walk(plain, name, direction)
    assert indexed.adjacency is not None
    runs = indexed.adjacency.kind(EdgeKind.FEEDS.value)
    for way in (runs.out, runs.into):  # what is counted of pairs kept is what is kept
        assert way.paired_size == sum(len(pairs) or 1 for pairs in way.paired.values())


def test_an_as_of_walk_reads_history_not_the_index(
    pair: tuple[EmbeddedStore, EmbeddedStore],
) -> None:
    indexed, writer = pair
    write(writer, chain_snapshot("s1", "a", "b"))
    write(writer, chain_snapshot("s1", "a", "c"))
    then = walk(indexed, "a", Direction.DOWNSTREAM, as_of=1)
    assert reached(then) == {dataset_ref(NAMESPACE, "b").key}


def test_a_store_restored_to_an_earlier_entry_is_read_again_whole(tmp_path: Path) -> None:
    """Walks go to SQL while the index is read again in the background."""
    database = tmp_path / "baton.db"
    store = EmbeddedStore(database, walk_index=True)
    store.migrate()
    write(store, chain_snapshot("s1", "a", "b"))
    backup = sqlite3.connect(tmp_path / "backup.db")
    store.connection().backup(backup)
    write(store, chain_snapshot("s2", "a", "c"))
    assert len(reached(indexed_walk(store, "a", Direction.DOWNSTREAM))) == 2
    assert store.adjacency is not None and store.adjacency.seq == 2
    store.close()
    for leftover in tmp_path.glob("baton.db*"):
        leftover.unlink()
    backup.backup(sqlite3.connect(database))  # the earlier state, restored
    backup.close()
    restored = {dataset_ref(NAMESPACE, "b").key}
    assert reached(walk(store, "a", Direction.DOWNSTREAM)) == restored  # in SQL meanwhile
    assert reached(indexed_walk(store, "a", Direction.DOWNSTREAM)) == restored
    assert store.adjacency.seq == 1
    store.close()


class _Abandoned(Exception):
    pass


def test_a_walk_inside_a_write_that_rolls_back_leaves_no_trace_in_the_index(
    tmp_path: Path,
) -> None:
    store = EmbeddedStore(tmp_path / "baton.db", walk_index=True)
    store.migrate()
    write(store, chain_snapshot("s1", "a", "b"))
    assert len(reached(indexed_walk(store, "a", Direction.DOWNSTREAM))) == 1
    seen_inside: list[set[str]] = []

    def abandoned(tx: Any) -> None:
        batch = Batch(snapshots=[chain_snapshot("s2", "a", "c")])
        apply_batch(tx, batch, WriteRequest("test:alice", "test", "abandoned"))
        seen_inside.append(reached(walk(store, "a", Direction.DOWNSTREAM)))
        raise _Abandoned

    with pytest.raises(_Abandoned):
        store.write(abandoned)
    write(store, chain_snapshot("s3", "a", "d"))  # the same ledger seq as the abandoned one
    assert len(seen_inside[0]) == 2  # the write saw its own edge
    assert reached(indexed_walk(store, "a", Direction.DOWNSTREAM)) == {
        dataset_ref(NAMESPACE, "b").key,
        dataset_ref(NAMESPACE, "d").key,
    }
    store.close()


def test_walks_agree_with_sql_when_the_index_keeps_runs_of_few_nodes(
    pair: tuple[EmbeddedStore, EmbeddedStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs kept as pairs for walks are dropped when they hold too many edges, and read
    again."""
    monkeypatch.setattr(adjacency, "MAX_PAIRED", 8)
    indexed, plain = pair
    rng = random.Random(11)
    names = [f"t{i}" for i in range(40)]
    write(plain, *(_random_source(rng, f"s{n}", names) for n in range(4)))
    for name in names:
        assert indexed_walk(indexed, name, Direction.DOWNSTREAM) == walk(
            plain, name, Direction.DOWNSTREAM
        )
    assert indexed.adjacency is not None
    runs = indexed.adjacency.kind(EdgeKind.FEEDS.value).out
    assert 0 < sum(len(pairs) or 1 for pairs in runs.paired.values()) == runs.paired_size <= 8


def test_an_index_read_whole_walks_each_kind_as_sql_does(
    pair: tuple[EmbeddedStore, EmbeddedStore],
) -> None:
    """The whole read takes every kind in one pass, by node: kinds interleave in it."""
    indexed, plain = pair
    rng = random.Random(5)
    names = [f"t{i}" for i in range(30)]
    kinds = [EdgeKind.FEEDS, EdgeKind.READS, EdgeKind.WRITES]
    builder = SnapshotBuilder("s1")
    for _ in range(150):
        upstream, downstream = rng.sample(names, 2)
        builder.edge(
            rng.choice(kinds),
            builder.node(dataset_ref(NAMESPACE, upstream)),
            builder.node(dataset_ref(NAMESPACE, downstream)),
        )
    write(plain, builder.build())
    assert indexed.adjacency is not None
    indexed.adjacency.read()
    for chosen in ([kinds[0]], [kinds[1]], kinds):
        for name in names:
            for direction in Direction:
                seeds = [dataset_ref(NAMESPACE, name)]
                values = [k.value for k in chosen]
                walks = [
                    store.subgraph(seeds, kinds=values, direction=direction, depth=3, limit=1000)
                    for store in (indexed, plain)
                ]
                assert walks[0] == walks[1]
