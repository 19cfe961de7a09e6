"""Search latency on a large catalog, against the substring scan it replaced, in one run.

    .venv/bin/python bench/search.py --datasets 100000 --columns 10

Loads N datasets with M columns each (names shaped like dbt projects':
`db.schema.prefix_entity_suffix`, columns from a vocabulary) through the real write path,
then times searches for what people type (a whole table name, a name part, the first
letters of one, a column name, two words) three ways:

- baton: `catalog.search` (the FTS5 index, ranked, with the found nodes' facts);
- substring scan: `LIKE '%text%'` over every node's name, as dataset search worked before;
- the same scan, ranked in Python like baton's (exact, then suffix): the fair peer.

Prints p50 and p95 of each and baton's ratio to the scan. Target (issue 15): p95 under
100 ms at 100k datasets and 1M columns.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from catalog.domain import Batch, EdgeKind, SnapshotBuilder, column_ref, dataset_ref
from catalog.services import catalog
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch

NAMESPACE = "snowflake://bench"
PREFIXES = ["stg", "int", "fct", "dim", "rpt", "prep", "base", "mart"]
ENTITIES = ["orders", "customers", "payments", "sessions", "events", "invoices", "refunds",
            "accounts", "subscriptions", "usage", "leads", "opportunities", "products"]  # fmt: skip
COLUMNS = ["id", "created_at", "updated_at", "amount", "status", "customer_id", "order_id",
           "email", "country", "plan", "net_paid", "currency", "channel", "is_active"]  # fmt: skip


def table_name(i: int) -> str:
    rng = random.Random(i)
    return (
        f"db{i % 7}.schema_{i % 40}."
        f"{rng.choice(PREFIXES)}_{rng.choice(ENTITIES)}_{rng.choice(ENTITIES)}_{i}"
    )


def load(store: EmbeddedStore, datasets: int, columns: int, chunk: int = 5_000) -> float:
    started = time.perf_counter()
    for first in range(0, datasets, chunk):
        builder = SnapshotBuilder(f"bench:{first}")
        for i in range(first, min(first + chunk, datasets)):
            table = builder.node(dataset_ref(NAMESPACE, table_name(i)), description=f"table {i}")
            for c in range(columns):
                column = column_ref(NAMESPACE, table.name, COLUMNS[(i + c) % len(COLUMNS)] + str(c))
                builder.edge(EdgeKind.HAS_COLUMN, table, builder.node(column, ordinal=c + 1))
        write_batch(store, Batch(snapshots=[builder.build()]), WriteRequest("b", "b", "load"))
    return time.perf_counter() - started


def scan(store: EmbeddedStore, text: str) -> list[str]:
    pattern = f"%{text}%"
    rows = store._conn().execute(
        "SELECT key, name FROM nodes WHERE name LIKE ? OR column_name LIKE ? LIMIT 20",
        (pattern, pattern),
    )
    return [key for key, _ in rows]


def ranked_scan(store: EmbeddedStore, text: str) -> list[str]:
    folded = text.lower()
    rows = (
        store._conn()
        .execute("SELECT key, name FROM nodes WHERE name LIKE ? LIMIT 5000", (f"%{text}%",))
        .fetchall()
    )
    rows.sort(key=lambda r: (r[1].lower() != folded, not r[1].lower().endswith("." + folded)))
    return [key for key, _ in rows[:20]]


def quantiles(fn: Callable[[str], object], texts: list[str]) -> tuple[float, float]:
    samples = []
    for text in texts:
        started = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - started) * 1000)
    cut = statistics.quantiles(samples, n=100)
    return cut[49], cut[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "bench.db")
        store.migrate()
        seconds = load(store, args.datasets, args.columns)
        print(
            f"loaded {args.datasets:,} datasets and {args.datasets * args.columns:,} columns "
            f"through the write path in {seconds:.1f} s"
        )
        texts = []
        for _ in range(args.queries):
            name = table_name(rng.randrange(args.datasets)).rsplit(".", 1)[-1]
            texts.append(rng.choice([
                name, name.split("_")[1], name.split("_")[1][:3],
                rng.choice(COLUMNS), " ".join(name.split("_")[:2]),
            ]))  # fmt: skip
        runs = {
            "baton search": lambda t: catalog.search(store, t, limit=20),
            "LIKE scan": lambda t: scan(store, t),
            "LIKE scan, ranked": lambda t: ranked_scan(store, t),
        }
        results = {name: quantiles(fn, texts) for name, fn in runs.items()}
        store.close()
    base = results["baton search"]
    for name, (p50, p95) in results.items():
        print(
            f"{name:<18} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
            f"  (baton / this: p50 {base[0] / p50:.2f}x, p95 {base[1] / p95:.2f}x)"
        )


if __name__ == "__main__":
    main()
