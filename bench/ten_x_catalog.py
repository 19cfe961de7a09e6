"""A catalog ten times the design brief's: build it through the write path, then measure
it the way its users would meet it.

    .venv/bin/python bench/ten_x_catalog.py ../shared/fixtures/dbt/gitlab_snowflake/manifest.json.gz
    .venv/bin/python bench/ten_x_catalog.py MANIFEST --datasets 20000      # a quick run

Shape, drawn from the real dbt project given (GitLab's): the share of sources and of
models at each depth of the DAG, each model's number of upstream relations (fan-in) and
each relation's number of documented columns (rescaled to `--columns-per-dataset` on
average); column lineage at GitLab's rates (0.72 DERIVES and 0.13 INFLUENCES edges per
column); one job per model reading its upstreams and writing it. The catalog is written
as the ingests that would make it: chunks of `--chunk` datasets, each its own source and
ledger entry, each through the real write path.

Reports: build time and rate, store size on disk, `baton ledger verify` and
`baton ledger export` time and rate, and against a real `baton serve` (walk index on):
its RSS, and p50/p95 of GraphQL lineage (downstream, depth 10), impact (drop a column)
and search (a dataset's name).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from bench.lineage_walk import percentile
from bench.served import baton_serving
from catalog.domain import FACT, Assertion, Batch, EdgeKind, NodeKind, NodeRef, SourceSnapshot
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch

NAMESPACE = "snowflake://tenx"
JOBS = "dbt"
DERIVES_PER_COLUMN = 0.72
INFLUENCES_PER_COLUMN = 0.13


@dataclass(frozen=True)
class Shape:
    """Distributions read off a real dbt project."""

    depth_share: dict[int, float]
    """Share of relations at each DAG depth (0: sources)."""
    fan_in: list[int]
    """Upstream relations of each model."""
    columns: list[int]
    """Documented columns of each relation that documents any."""


def shape_of(manifest_file: Path) -> Shape:
    manifest = json.loads(gzip.decompress(manifest_file.read_bytes()))
    kinds = ("model", "seed", "snapshot")
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] in kinds}
    sources = manifest["sources"]

    def upstream(node: dict[str, Any]) -> list[str]:
        found = node.get("depends_on", {}).get("nodes", [])
        return [d for d in found if d in models or d in sources]

    @cache
    def depth(unique_id: str) -> int:
        node = models.get(unique_id)
        return 0 if node is None else 1 + max(map(depth, upstream(node)), default=0)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    depths = Counter(depth(u) for u in models) + Counter({0: len(sources)})
    total = sum(depths.values())
    documented = [len(n.get("columns", {})) for n in [*models.values(), *sources.values()]]
    return Shape(
        depth_share={d: n / total for d, n in sorted(depths.items())},
        fan_in=[len(upstream(n)) for n in models.values()],
        columns=[c for c in documented if c],
    )


class Catalog:
    """The synthetic catalog: every dataset's layer, columns and upstreams, decided up
    front (so a chunk can draw lineage from datasets written in earlier chunks)."""

    def __init__(self, shape: Shape, datasets: int, columns_per_dataset: float, seed: int):
        rng = random.Random(seed)
        scale = columns_per_dataset / statistics.mean(shape.columns)
        self.layer_start: list[int] = []
        self.layer: list[int] = []
        for depth, share in shape.depth_share.items():
            self.layer_start.append(len(self.layer))
            self.layer += [depth] * round(share * datasets)
        self.count = len(self.layer)
        self.columns = [max(1, round(rng.choice(shape.columns) * scale)) for _ in self.layer]
        self.upstreams: list[list[int]] = []
        for depth in self.layer:
            if depth == 0:
                self.upstreams.append([])
                continue
            previous = self.layer_start[depth - 1], self.layer_start[depth]
            lower = self.layer_start[depth]
            fan_in = max(1, rng.choice(shape.fan_in))
            chosen = {rng.randrange(*previous)}  # one in the layer below keeps the depth
            chosen.update(rng.randrange(lower) for _ in range(fan_in - 1))
            self.upstreams.append(sorted(chosen))
        self.rng = rng

    def name(self, d: int) -> str:
        return f"analytics.layer{self.layer[d]:02d}.table_{d:07d}"

    def dataset(self, d: int) -> NodeRef:
        return _ref(NodeKind.DATASET, self.name(d), None)

    def column(self, d: int, c: int) -> NodeRef:
        return _ref(NodeKind.COLUMN, self.name(d), f"col_{c:03d}")

    def snapshot(self, first: int, last: int) -> SourceSnapshot:
        """Datasets first..last-1 as one ingest would assert them."""
        rng, out = self.rng, []
        for d in range(first, last):
            dataset = self.dataset(d)
            out.append(_fact(dataset, {"description": f"table {d}", "tags": [f"t{d % 50}"]}))
            ups = self.upstreams[d]
            job = _ref(NodeKind.JOB, f"model.tenx.table_{d:07d}", None, JOBS)
            if ups:
                out.append(_fact(job, {"materialized": "table"}))
                out.append(_edge(EdgeKind.WRITES, job, dataset))
            for u in ups:
                out.append(_edge(EdgeKind.FEEDS, self.dataset(u), dataset))
                out.append(_edge(EdgeKind.READS, job, self.dataset(u)))
            for c in range(self.columns[d]):
                column = self.column(d, c)
                out.append(_fact(column, {"data_type": "VARCHAR" if c % 3 else "NUMBER"}))
                out.append(_edge(EdgeKind.HAS_COLUMN, dataset, column))
                if not ups:
                    continue
                if rng.random() < DERIVES_PER_COLUMN:
                    u = rng.choice(ups)
                    out.append(_edge(EdgeKind.DERIVES, self.column(u, c % self.columns[u]), column))
                if rng.random() < INFLUENCES_PER_COLUMN:
                    u = rng.choice(ups)
                    out.append(
                        _edge(EdgeKind.INFLUENCES, self.column(u, c % self.columns[u]), dataset)
                    )
        return SourceSnapshot.model_construct(
            source=f"synthetic:{first:07d}", assertions=out, complete=True
        )


def _ref(kind: NodeKind, name: str, column: str | None, namespace: str = NAMESPACE) -> NodeRef:
    return NodeRef(kind=kind, namespace=namespace, name=name, column=column)


def _fact(subject: NodeRef, attrs: dict[str, Any]) -> Assertion:
    return Assertion(kind=FACT, subject=subject, attrs=attrs)


def _edge(kind: EdgeKind, subject: NodeRef, obj: NodeRef) -> Assertion:
    return Assertion(kind=kind.value, subject=subject, object=obj)


def build(catalog: Catalog, home: Path, chunk: int) -> tuple[float, float, int]:
    """(seconds writing, seconds generating, assertions) for the whole catalog."""
    store = EmbeddedStore(home / "baton.db")
    store.migrate()
    writing = generating = 0.0
    assertions = 0
    for first in range(0, catalog.count, chunk):
        started = time.perf_counter()
        snapshot = catalog.snapshot(first, min(first + chunk, catalog.count))
        generated = time.perf_counter()
        write_batch(
            store,
            Batch.model_construct(snapshots=[snapshot], errors=[], counts={}, scopes=[]),
            WriteRequest("bench:tenx", "bench", f"chunk {first}"),
        )
        generating += generated - started
        writing += time.perf_counter() - generated
        assertions += len(snapshot.assertions)
        rate = assertions / writing
        print(
            f"  {first + chunk:>9,} datasets, {assertions:>11,} assertions, {rate:,.0f}/s",
            flush=True,
        )
    store.close()
    return writing, generating, assertions


def timed_command(home: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "catalog", "--home", str(home), *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> str:
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    return f"p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"


LINEAGE = """query($ns: String!, $name: String!) {
  lineage(namespace: $ns, name: $name, direction: DOWNSTREAM, depth: 10) {
    truncated nodes { name depth } edges { fromId toId } } }"""
IMPACT = """query($ns: String!, $name: String!, $column: String!) {
  impact(changes: [{kind: DROP_COLUMN, namespace: $ns, name: $name, column: $column}]) {
    severity affected { label depth } } }"""
SEARCH = """query($text: String!) { search(text: $text) { name kind } }"""


def served_latencies(
    catalog: Catalog, home: Path, samples: int
) -> tuple[dict[str, list[float]], float, float]:
    """Latencies of each query kind, the server's RSS after start and its peak."""
    rng = random.Random(11)
    lower = [d for d in range(catalog.count) if catalog.layer[d] <= 2]
    with baton_serving(str(home)) as (url, _), httpx.Client(timeout=600) as client:
        pid = int(
            subprocess.run(
                ["pgrep", "-f", "--", f"--home {home} serve"], capture_output=True, text=True
            ).stdout.split()[0]
        )
        started_rss = peak_rss_mb(pid)

        def ask(query: str, **variables: Any) -> float:
            started = time.perf_counter()
            response = client.post(f"{url}/graphql", json={"query": query, "variables": variables})
            elapsed = time.perf_counter() - started
            body = response.json()
            assert "errors" not in body, body["errors"]
            return elapsed

        kinds: dict[str, Callable[[int], float]] = {
            "lineage downstream, depth 10": lambda d: ask(
                LINEAGE, ns=NAMESPACE, name=catalog.name(d)
            ),
            "impact of dropping a column": lambda d: ask(
                IMPACT, ns=NAMESPACE, name=catalog.name(d), column="col_000"
            ),
            "search for a table's name": lambda d: ask(SEARCH, text=f"table_{d:07d}"),
        }
        started = time.perf_counter()
        meanwhile = [kinds["lineage downstream, depth 10"](rng.choice(lower)) for _ in range(10)]
        latencies = {"lineage while the walk index is read (SQL walks)": meanwhile}
        wait_until_idle(pid)
        print(f"  walk index read in the background: {time.perf_counter() - started:.0f} s")
        latencies |= {
            label: [run(rng.choice(lower)) for _ in range(samples)] for label, run in kinds.items()
        }
        return latencies, started_rss, peak_rss_mb(pid)


def wait_until_idle(pid: int) -> None:
    """Until the server has used less than a tenth of a CPU for two seconds (its walk
    index read in the background is done)."""

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in ticks

    before = cpu_seconds()
    while True:
        time.sleep(2)
        now = cpu_seconds()
        if now - before < 0.2:
            return
        before = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "manifest", type=Path, help="a dbt manifest.json(.gz) to draw the shape from"
    )
    parser.add_argument("--datasets", type=int, default=1_000_000)
    parser.add_argument("--columns-per-dataset", type=float, default=10.0)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--home", type=Path, help="data directory (default: a temporary one)")
    parser.add_argument(
        "--serve-only", action="store_true", help="measure baton serve on --home, built before"
    )
    args = parser.parse_args()

    shape = shape_of(args.manifest)
    catalog = Catalog(shape, args.datasets, args.columns_per_dataset, seed=7)
    columns = sum(catalog.columns)
    print(
        f"catalog: {catalog.count:,} datasets, {columns:,} columns, {len(shape.depth_share)} layers"
    )
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        if args.serve_only:
            report_served(catalog, home, args.samples)
            return
        writing, generating, assertions = build(catalog, home, args.chunk)
        size = sum(f.stat().st_size for f in home.glob("baton.db*")) / 2**30
        rate = assertions / writing
        print(
            f"built: {assertions:,} assertions written in {writing:.0f} s ({rate:,.0f}/s;"
            f" generating them took {generating:.0f} s more); store {size:.1f} GiB on disk"
        )
        entries = -(-catalog.count // args.chunk)
        verify = timed_command(home, "ledger", "verify")
        verified = assertions / verify
        print(f"ledger verify: {verify:.1f} s ({verified:,.0f} changes/s, {entries} entries)")
        export = timed_command(home, "ledger", "export", str(home / "ledger.jsonl"))
        exported = (home / "ledger.jsonl").stat().st_size / 2**30
        rate = assertions / export
        print(f"ledger export: {export:.1f} s ({exported:.1f} GiB, {rate:,.0f} changes/s)")
        (home / "ledger.jsonl").unlink()
        report_served(catalog, home, args.samples)


def report_served(catalog: Catalog, home: Path, samples: int) -> None:
    latencies, started_rss, peak_rss = served_latencies(catalog, home, samples)
    print(f"baton serve: RSS {started_rss:.0f} MB after start, peak {peak_rss:.0f} MB")
    for label, times in latencies.items():
        print(f"  {label:50} {percentiles(times)}")


if __name__ == "__main__":
    main()
