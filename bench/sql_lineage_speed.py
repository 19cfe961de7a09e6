"""SQL lineage speed: Baton's ingester against peers on the same statements, in one run.

    .venv/bin/python bench/sql_lineage_speed.py ../shared/fixtures/sql/gitlab_snowflake
    .venv/bin/python bench/sql_lineage_speed.py ../shared/fixtures/sql/gitlab_snowflake \
        --datahub-python /path/to/venv-with-acryl-datahub/bin/python

Every tool gets each file's SQL and produces full column lineage for it:
- baton: `ingesters.sql.script.analyse_script` (one qualification and walk per statement);
- naive: sqlglot's `sqlglot.lineage.lineage` traced once per output column;
- datahub: `datahub.sql_parsing.sqlglot_lineage.sqlglot_lineage`, run in the interpreter
  given by --datahub-python (acryl-datahub pins its own sqlglot, so it gets its own venv).
The naive baseline and DataHub run on the first --peer-files files (they are slow); Baton
runs on those and on the whole folder. Ratios compare the same files.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage

from ingesters.sql.script import analyse_script

DATAHUB_RUNNER = Path(__file__).with_name("datahub_lineage_runner.py")


def baton(text: str, dialect: str) -> None:
    analyse_script(text, dialect)


def naive(text: str, dialect: str) -> None:
    for statement in sqlglot.parse(text, dialect=dialect):
        if isinstance(statement, exp.Query):
            for column in statement.named_selects:
                try:
                    lineage(column, statement, {}, dialect=dialect)
                except Exception:
                    continue


def timed(tool: Callable[[str, str], None], texts: list[str], dialect: str) -> float:
    started = time.perf_counter()
    for text in texts:
        tool(text, dialect)
    return time.perf_counter() - started


def datahub(python: str, files: list[Path], dialect: str) -> float | None:
    done = subprocess.run(
        [python, str(DATAHUB_RUNNER), dialect, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"datahub runner failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return float(json.loads(done.stdout)["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dialect", default="snowflake")
    parser.add_argument("--peer-files", type=int, default=300)
    parser.add_argument("--datahub-python")
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    files = sorted(args.folder.glob("*.sql"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    subset = texts[: args.peer_files]

    rate = {}
    baton_all = timed(baton, texts, args.dialect)
    rate["baton (all files)"] = len(texts) / baton_all
    rate["baton"] = len(subset) / timed(baton, subset, args.dialect)
    rate["naive sqlglot.lineage"] = len(subset) / timed(naive, subset, args.dialect)
    if args.datahub_python:
        seconds = datahub(args.datahub_python, files[: args.peer_files], args.dialect)
        if seconds:
            rate["datahub sqlglot_lineage"] = len(subset) / seconds

    print(f"{len(texts)} statements in {baton_all:.1f} s; peers on the first {len(subset)}")
    for tool, per_second in rate.items():
        print(f"  {tool:26s} {per_second:8.1f} statements/s")
    for peer in ("naive sqlglot.lineage", "datahub sqlglot_lineage"):
        if peer in rate:
            print(f"baton / {peer}: {rate['baton'] / rate[peer]:.1f}x")


if __name__ == "__main__":
    main()
