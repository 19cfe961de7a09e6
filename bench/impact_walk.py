"""Impact analysis at scale: single-column downstream impact, depth 10, on a graph built by
replicating the GitLab dbt project's lineage to >= 100,000 datasets and >= 1,000,000
columns in the embedded store.

    GITLAB=../shared/fixtures/dbt/gitlab_snowflake
    .venv/bin/python bench/impact_walk.py $GITLAB/manifest.compiled.json.gz
    .venv/bin/python bench/impact_walk.py ... --store /tmp/impact-bench   # reuse a built store

The project is parsed once with Baton's dbt ingester (column lineage from compiled SQL);
its datasets, columns and lineage edges (HAS_COLUMN, FEEDS, DERIVES, INFLUENCES) are then
written --copies times, each copy in its own namespace, through the write path. For 200
random columns with downstream lineage it times, in the same run: the full impact
analysis (`catalog.services.impact.analyse`), the graph walk alone it is built on
(`impact.traverse`: column and table lineage, jobs, consumers), the same traversal over
the same edges held in networkx in memory (the floor: `impact.traverse` with the store's
walks answered from a MultiDiGraph, edge views built once), and a plain networkx BFS over
the column edges alone; it prints p50/p95 and ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import networkx as nx

from catalog.domain import Assertion, Batch, EdgeKind, NodeKind, NodeRef, SourceSnapshot
from catalog.impact import ChangeKind
from catalog.services import impact
from catalog.stores.common import breadth_first
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Direction, EdgeView, LedgerQuery, Subgraph
from catalog.write_path import WriteRequest, write_batch
from ingesters import dbt

KINDS = {
    EdgeKind.HAS_COLUMN.value,
    EdgeKind.FEEDS.value,
    EdgeKind.DERIVES.value,
    EdgeKind.INFLUENCES.value,
}


def lineage_assertions(manifest: Path) -> list[Assertion]:
    batch = dbt.parse(dbt.read_artifacts(dbt.ArtifactPaths(manifest)), dbt.DbtOptions())
    keep = []
    for a in batch.snapshots[0].assertions:
        if a.kind == "FACT" and a.subject.kind in (NodeKind.DATASET, NodeKind.COLUMN):
            keep.append(replace(a, attrs={}))
        elif a.kind in KINDS:
            keep.append(replace(a, attrs={k: v for k, v in a.attrs.items() if k != "job"}))
    return keep


def replica(assertions: list[Assertion], copy: int) -> SourceSnapshot:
    def moved(ref: NodeRef | None) -> NodeRef | None:
        if ref is None:
            return None
        return replace(ref, namespace=f"{ref.namespace}/copy{copy}")

    return SourceSnapshot(
        source=f"bench:copy{copy}",
        assertions=[
            Assertion(kind=a.kind, subject=moved(a.subject), object=moved(a.object), attrs=a.attrs)  # type: ignore[arg-type]
            for a in assertions
        ],
    )


def build(store: EmbeddedStore, manifest: Path, copies: int) -> None:
    """Write the copies, unless the store holds them already (`--store` reused)."""
    if store.ledger(LedgerQuery(limit=1)):
        return
    started = time.perf_counter()
    assertions = lineage_assertions(manifest)
    print(
        f"parsed GitLab: {len(assertions):,} assertions in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    for copy in range(copies):
        t = time.perf_counter()
        write_batch(
            store,
            Batch(snapshots=[replica(assertions, copy)]),
            WriteRequest("bench", "bench", f"copy {copy}"),
        )
        print(f"  copy {copy + 1}/{copies} written in {time.perf_counter() - t:.1f} s", flush=True)


TRAVERSED = ("DERIVES", "ALIAS_OF", "INFLUENCES", "FEEDS", "WRITES", "USES")
"""The edge kinds `impact.traverse` walks."""

_OPEN_EDGES = """
SELECT a.kind, s.key, o.key, a.source, a.attrs, l.at
FROM assertions a JOIN nodes s ON s.id = a.subject_id JOIN nodes o ON o.id = a.object_id
JOIN ledger l ON l.seq = a.from_seq
WHERE a.to_seq IS NULL AND a.kind IN (SELECT value FROM json_each(?))
"""


class InMemoryWalks:
    """The store's walks answered from networkx in memory, for `impact.traverse` to run on:
    its floor is the same traversal without a store. Edge views are built on first use
    and kept, as the walk index keeps them."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        rows = store.connection().execute(_OPEN_EDGES, (json.dumps(TRAVERSED),))
        for kind, subject, obj, source, attrs, at in rows:
            self.graph.add_edge(subject, obj, kind=kind, row=(source, attrs, at))

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
        downstream = direction is Direction.DOWNSTREAM
        near = self.graph.succ if downstream else self.graph.pred
        wanted = set(kinds)

        def hop(frontier: list[str]) -> list[tuple[EdgeView, str]]:
            found = []
            for node in frontier:
                for far, parallel in near[node].items():
                    for data in parallel.values():
                        if data["kind"] in wanted:
                            view = data.get("view")
                            if view is None:
                                ends = (node, far) if downstream else (far, node)
                                view = self._view(*ends, data)
                            found.append((view, far))
            return found

        present = [s.key for s in seeds if s.key in self.graph]
        depth_of, edges, truncated = breadth_first(present, hop, depth=depth, limit=limit)
        return Subgraph(depth_of=depth_of, edges=edges, truncated=truncated)

    @staticmethod
    def _view(subject: str, obj: str, data: dict[str, object]) -> EdgeView:
        source, attrs, at = data["row"]  # type: ignore[misc]
        data["view"] = view = EdgeView(
            kind=str(data["kind"]),
            subject=NodeRef.from_key(subject),
            object=NodeRef.from_key(obj),
            source=source,
            attrs=json.loads(attrs),
            valid_from=datetime.fromisoformat(at),
            valid_to=None,
        )
        return view


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--copies", type=int, default=25)
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--store", type=Path, default=Path("/tmp/baton-impact-bench"))
    args = parser.parse_args()
    store = EmbeddedStore(args.store / "baton.db")
    store.migrate()
    build(store, args.manifest, args.copies)
    nodes = dict(store.connection().execute("SELECT kind, count(*) FROM nodes GROUP BY kind"))
    print(f"graph: {nodes['DATASET']:,} datasets, {nodes['COLUMN']:,} columns", flush=True)
    t = time.perf_counter()
    in_memory = InMemoryWalks(store)
    print(f"the walked edges in networkx in {time.perf_counter() - t:.1f} s", flush=True)
    graph: nx.DiGraph = nx.DiGraph(
        (u, v) for u, v, kind in in_memory.graph.edges(data="kind") if kind == "DERIVES"
    )
    rng = random.Random(7)
    sources = sorted(node for node, out in graph.out_degree() if out)
    starts = [NodeRef.from_key(rng.choice(sources)) for _ in range(args.starts)]

    indexed = EmbeddedStore(args.store / "baton.db", walk_index=True)
    assert indexed.adjacency is not None
    t = time.perf_counter()
    indexed.adjacency.read()  # (`baton serve` reads it in the background)
    print(f"in-memory walk index built in {time.perf_counter() - t:.1f} s", flush=True)
    full, raw, full_indexed, raw_indexed, memory, sizes = [], [], [], [], [], []
    floor = []
    for start in starts:
        request = [impact.ChangeRequest(ChangeKind.DROP_COLUMN, start)]
        for on, walks, reports in ((store, raw, full), (indexed, raw_indexed, full_indexed)):
            impact.traverse(on, request, depth=10, limit=5_000)  # warm caches alike
            t = time.perf_counter()
            found = impact.traverse(on, request, depth=10, limit=5_000).found
            walks.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = impact.analyse(on, request, depth=10, limit=5_000)
            reports.append(time.perf_counter() - t)
        impact.traverse(in_memory, request, depth=10, limit=5_000)  # type: ignore[arg-type]
        t = time.perf_counter()
        same = impact.traverse(in_memory, request, depth=10, limit=5_000)  # type: ignore[arg-type]
        floor.append(time.perf_counter() - t)
        assert same.found.keys() == found.keys(), f"the floor reached other nodes from {start}"
        t = time.perf_counter()
        nx.single_source_shortest_path_length(graph, start.key, cutoff=10)
        memory.append(time.perf_counter() - t)
        sizes.append(len(report.affected))

    def line(label: str, values: list[float]) -> str:
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        return f"  {label:42} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms"

    reached = f"median {statistics.median(sizes):.0f}, max {max(sizes)}"
    print(f"{args.starts} random starting columns, depth 10; affected assets {reached}")
    print(
        line("impact analysis (report, owners, contracts)", full)
        + "   targets p50 <= 50, p95 <= 200"
    )
    print(line("raw traversal (columns, tables, jobs, consumers)", raw))
    print(line("impact analysis, walk index (as baton serve)", full_indexed))
    print(line("raw traversal, walk index", raw_indexed))
    print(line("the same traversal over networkx in memory (floor)", floor))
    print(line("networkx BFS over column edges alone", memory))
    overhead = statistics.median(full) / statistics.median(raw)
    print(f"  analysis / raw traversal: {overhead:.1f}x (target <= 2x)")
    for label, walks in (("SQL walks", raw), ("walk index", raw_indexed)):
        for name, bound in (("the floor", floor), ("column BFS", memory)):
            p50 = percentile(walks, 0.5) / max(percentile(bound, 0.5), 1e-9)
            p95 = percentile(walks, 0.95) / max(percentile(bound, 0.95), 1e-9)
            print(f"  raw traversal, {label} / {name}: p50 {p50:.1f}x, p95 {p95:.1f}x")


if __name__ == "__main__":
    main()
