"""SQL lineage speed: Baton's ingester against peers on the same statements, in one run.

    .venv/bin/python bench/sql_lineage_speed.py ../shared/fixtures/sql/gitlab_snowflake
    .venv/bin/python bench/sql_lineage_speed.py ../shared/fixtures/sql/gitlab_snowflake \
        --datahub-python /path/to/venv-with-acryl-datahub/bin/python
    .venv/bin/python bench/sql_lineage_speed.py ../shared/fixtures/sql-lineage/dev-cases.jsonl \
        --datahub-python /path/to/venv-with-acryl-datahub/bin/python --repeat 5

The corpus is a folder of `.sql` files (all in `--dialect`) or a cases file (JSON lines
with `sql` and `dialect`, like the SQL lineage dev set). Wall and CPU time are both
reported, and both ratios: CPU time is the steadier on a shared machine.

Every tool gets each file's SQL and produces full column lineage for it:
- baton: `ingesters.sql.script.analyse_script` (one qualification and walk per statement);
- naive: sqlglot's `sqlglot.lineage.lineage` traced once per output column;
- datahub: `datahub.sql_parsing.sqlglot_lineage.sqlglot_lineage`, run in the interpreter
  given by --datahub-python (acryl-datahub pins its own sqlglot, so it gets its own venv).
The naive baseline and DataHub run on the first --peer-files statements (they are slow);
Baton runs on those and on the whole corpus. Ratios compare the same statements.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage

from ingesters.sql.script import analyse_script

DATAHUB_RUNNER = Path(__file__).with_name("datahub_lineage_runner.py")


def baton(text: str, dialect: str) -> None:
    analyse_script(text, dialect)


def naive(text: str, dialect: str) -> None:
    try:
        statements = sqlglot.parse(text, dialect=dialect)
    except sqlglot.errors.SqlglotError:
        return  # a statement sqlglot cannot parse has no lineage to trace
    for statement in statements:
        if isinstance(statement, exp.Query):
            for column in statement.named_selects:
                try:
                    lineage(column, statement, {}, dialect=dialect)
                except Exception:
                    continue


@dataclass(frozen=True)
class Item:
    sql: str
    dialect: str


def corpus(path: Path, dialect: str) -> list[Item]:
    """A folder's `.sql` files (in `dialect`), or a cases file's statements (each in its
    own dialect, `dialect` when it names none)."""
    if path.is_dir():
        return [Item(f.read_text(encoding="utf-8"), dialect) for f in sorted(path.glob("*.sql"))]
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Item(c["sql"], c.get("dialect") or "") for c in cases]


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def timed(tool: Callable[[str, str], None], items: list[Item], repeat: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        for item in items:
            tool(item.sql, item.dialect)
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def datahub(python: str, items: list[Item], repeat: int) -> Timing | None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as listing:
        json.dump([vars(i) for i in items] * repeat, listing)
    done = subprocess.run(
        [python, str(DATAHUB_RUNNER), listing.name], capture_output=True, text=True, check=False
    )
    Path(listing.name).unlink()
    if done.returncode != 0:
        print(f"datahub runner failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    found = json.loads(done.stdout)
    return Timing(float(found["wall"]), float(found["cpu"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="A folder of .sql files, or a cases .jsonl.")
    parser.add_argument("--dialect", default="snowflake")
    parser.add_argument("--peer-files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1, help="Passes over the corpus (short "
                        "statements need several for steady figures).")  # fmt: skip
    parser.add_argument("--datahub-python")
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    items = corpus(args.corpus, args.dialect)
    subset = items[: args.peer_files]
    count = len(subset) * args.repeat
    timings = {
        "baton (all)": timed(baton, items, args.repeat),
        "baton": timed(baton, subset, args.repeat),
        "naive sqlglot.lineage": timed(naive, subset, args.repeat),
    }
    if args.datahub_python:
        found = datahub(args.datahub_python, subset, args.repeat)
        if found:
            timings["datahub sqlglot_lineage"] = found

    print(f"{len(items)} statements x {args.repeat}; peers on the first {len(subset)}")
    for tool, t in timings.items():
        n = len(items) * args.repeat if tool == "baton (all)" else count
        print(f"  {tool:26s} {n / t.wall:8.1f}/s wall  {n / t.cpu:8.1f}/s cpu")
    mine = timings["baton"]
    for peer in ("naive sqlglot.lineage", "datahub sqlglot_lineage"):
        if peer in timings:
            other = timings[peer]
            print(f"baton / {peer}: {other.wall / mine.wall:.1f}x wall, "
                  f"{other.cpu / mine.cpu:.1f}x cpu")  # fmt: skip


if __name__ == "__main__":
    main()
