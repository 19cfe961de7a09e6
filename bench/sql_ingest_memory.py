"""Peak memory of `baton ingest sql` over a folder of at least 10,000 statements.

    .venv/bin/python bench/sql_ingest_memory.py ../shared/fixtures/sql/gitlab_snowflake

Copies the folder's .sql files into a temporary tree until it holds --statements files
(one statement each in dbt's compiled models), ingests it into a fresh store in a child
process, and prints the child's peak RSS against the 500 MB budget.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_MB = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--dialect", default="snowflake")
    args = parser.parse_args()
    files = sorted(args.folder.glob("*.sql"))
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "sql"
        for n in range(args.statements):
            copy = tree / f"copy{n // len(files)}" / files[n % len(files)].name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[n % len(files)], copy)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "catalog",
                "--home",
                str(Path(work) / "home"),
                "ingest",
                "sql",
                str(tree),
                "--dialect",
                args.dialect,
                "--json",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    verdict = "within" if peak_mb < BUDGET_MB else "OVER"
    print(
        f"{args.statements} statements in {elapsed:.0f} s; peak RSS {peak_mb:.0f} MB "
        f"({verdict} the {BUDGET_MB} MB budget)"
    )


if __name__ == "__main__":
    main()
