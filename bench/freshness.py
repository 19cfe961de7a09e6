"""Judging freshness SLAs over a large catalog: `freshness.evaluate` against the floor of
one SQL scan of the same facts.

    .venv/bin/python bench/freshness.py --datasets 100000

Loads N datasets through the write path, each with a freshness SLA (an ownership-map
style `freshness_sla` fact) and a last successful write (its `written:` source), a tenth
of them stale; then times the evaluation (best of 3) and a bare SQLite query reading the
same two facts of every dataset. Target: under 2 s at 100k datasets.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalog.domain import Batch, SnapshotBuilder, dataset_ref, job_ref, last_write
from catalog.services import freshness
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch

FLOOR = """
SELECT n.key, json_extract(a.attrs, '$.freshness_sla.seconds'),
       json_extract(w.attrs, '$.last_written_at')
FROM nodes n
JOIN assertions a ON a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL
     AND a.source = 'ownership-map:bench'
LEFT JOIN assertions w ON w.subject_id = n.id AND w.kind = 'FACT' AND w.to_seq IS NULL
     AND w.source LIKE 'written:%'
WHERE n.kind = 'DATASET'
"""


def load(store: EmbeddedStore, count: int, now: datetime) -> None:
    promises = SnapshotBuilder("ownership-map:bench")
    snapshots = []
    for n in range(count):
        ref = dataset_ref("postgres://bench", f"public.t{n:07d}")
        promises.node(ref, freshness_sla={"within": "6h", "seconds": 21600,
                                          "source": "ownership-map:bench rule 0"})  # fmt: skip
        age = timedelta(hours=8 if n % 10 == 0 else 1)
        snapshots.append(last_write(ref, (now - age).isoformat(), job_ref("bench", f"j{n}")))
    batch = Batch(snapshots=[promises.build(), *snapshots])
    write_batch(store, batch, WriteRequest("bench", "bench", "freshness bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as home:
        store = EmbeddedStore(Path(home) / "baton.db")
        store.migrate()
        started = time.perf_counter()
        load(store, args.datasets, now)
        print(f"loaded {args.datasets:,} datasets in {time.perf_counter() - started:.1f} s")
        times, results = [], []
        for _ in range(3):
            started = time.perf_counter()
            results = freshness.evaluate(store, now)
            times.append(time.perf_counter() - started)
        stale = sum(r.state is freshness.State.STALE for r in results)
        conn = sqlite3.connect(Path(home) / "baton.db")
        started = time.perf_counter()
        rows = conn.execute(FLOOR).fetchall()
        floor = time.perf_counter() - started
        conn.close()
        store.close()
    best = min(times)
    print(f"evaluate: {len(results):,} SLAs judged, {stale:,} stale, best of 3 {best:.2f} s "
          f"(target < 2 s)")  # fmt: skip
    print(f"floor (one SQL scan of the same facts, {len(rows):,} rows): {floor:.2f} s; "
          f"evaluate / floor {best / floor:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
