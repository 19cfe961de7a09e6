"""Lineage walk on the embedded store against the in-memory floor, in one run.

Builds a synthetic layered warehouse (N datasets, each fed by up to three datasets of the
previous layer), loads it through the real write path, then times downstream walks of
depth 10 from random roots three ways:

- baton: `EmbeddedStore.subgraph` (recursive CTE over the assertions table, with edges);
- networkx: breadth-first search over the same edges already in memory (the floor);
- naive: per-hop SELECTs from Python, what a store without recursive queries would do.

Run by hand:  .venv/bin/python bench/lineage_walk.py --datasets 100000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from catalog.domain import Batch, EdgeKind, SnapshotBuilder, dataset_ref
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Direction
from catalog.write_path import WriteRequest, write_batch

NAMESPACE = "bench://warehouse"


def synthetic_edges(datasets: int, layers: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    per_layer = datasets // layers
    names = [[f"l{layer}.t{i}" for i in range(per_layer)] for layer in range(layers)]
    edges = []
    for layer in range(1, layers):
        for name in names[layer]:
            for upstream in rng.sample(names[layer - 1], k=rng.randint(1, 3)):
                edges.append((upstream, name))
    return edges


def load(store: EmbeddedStore, edges: list[tuple[str, str]], sources: int) -> float:
    builders = [SnapshotBuilder(f"bench:{i}") for i in range(sources)]
    for n, (upstream, downstream) in enumerate(edges):
        builder = builders[n % sources]
        builder.edge(
            EdgeKind.FEEDS,
            builder.node(dataset_ref(NAMESPACE, upstream)),
            builder.node(dataset_ref(NAMESPACE, downstream)),
        )
    batch = Batch(snapshots=[b.build() for b in builders])
    started = time.perf_counter()
    write_batch(store, batch, WriteRequest("bench", "bench", "load"))
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def naive_walk(store: EmbeddedStore, root: str, depth: int) -> set[str]:
    conn = store._conn()
    frontier, seen = {root}, {root}
    for _ in range(depth):
        nxt: set[str] = set()
        for key in frontier:
            rows = conn.execute(
                "SELECT o.key FROM assertions a JOIN nodes s ON s.id = a.subject_id"
                " JOIN nodes o ON o.id = a.object_id"
                " WHERE s.key = ? AND a.kind = 'FEEDS' AND a.to_seq IS NULL",
                (key,),
            )
            nxt.update(k for (k,) in rows if k not in seen)
        seen |= nxt
        frontier = nxt
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20_000)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--roots", type=int, default=20)
    parser.add_argument("--sources", type=int, default=50)
    args = parser.parse_args()

    edges = synthetic_edges(args.datasets, args.layers, seed=7)
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "bench.db")
        store.migrate()
        load_seconds = load(store, edges, args.sources)
        graph = nx.DiGraph()
        graph.add_edges_from(
            (dataset_ref(NAMESPACE, u).key, dataset_ref(NAMESPACE, d).key) for u, d in edges
        )
        rng = random.Random(1)
        roots = rng.sample(sorted({u for u, _ in edges if u.startswith("l0.")}), args.roots)
        refs = [dataset_ref(NAMESPACE, r) for r in roots]

        sizes = []
        for ref in refs:
            sub = store.subgraph(
                [ref],
                kinds=["FEEDS"],
                direction=Direction.DOWNSTREAM,
                depth=args.depth,
                limit=1_000_000,
            )
            floor = nx.single_source_shortest_path_length(graph, ref.key, cutoff=args.depth)
            assert set(sub.depth_of) == set(floor), "walks disagree"
            sizes.append(len(floor))

        def baton_walks() -> None:
            for ref in refs:
                store.subgraph(
                    [ref],
                    kinds=["FEEDS"],
                    direction=Direction.DOWNSTREAM,
                    depth=args.depth,
                    limit=1_000_000,
                )

        def networkx_walks() -> None:
            for ref in refs:
                nx.single_source_shortest_path_length(graph, ref.key, cutoff=args.depth)

        def naive_walks() -> None:
            for ref in refs:
                naive_walk(store, ref.key, args.depth)

        baton = timed(baton_walks, 3) / len(refs)
        floor = timed(networkx_walks, 3) / len(refs)
        naive = timed(naive_walks, 1) / len(refs)
        store.close()

    print(f"graph: {args.datasets} datasets, {len(edges)} FEEDS edges, {args.sources} sources")
    print(f"load through the write path: {load_seconds:.2f} s")
    print(
        f"downstream walk, depth {args.depth}, median nodes reached {statistics.median(sizes):.0f}"
    )
    print(f"  baton (SQLite recursive CTE, with edges): {baton * 1000:8.1f} ms")
    print(f"  networkx BFS in memory (floor):           {floor * 1000:8.1f} ms")
    print(f"  naive per-hop queries:                    {naive * 1000:8.1f} ms")
    print(f"ratio baton/floor: {baton / floor:.1f}x   naive/baton: {naive / baton:.1f}x")


if __name__ == "__main__":
    main()
