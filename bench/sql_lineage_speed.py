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
Baton runs on those and once on the whole corpus. Ratios compare the same statements:
each tool makes one untimed warm-up pass, then --repeat timed passes, interleaved with
the other tools' (this machine's speed drifts within minutes), and the best is reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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


Pass = Callable[[], Timing]


def local_pass(tool: Callable[[str, str], None], items: list[Item]) -> Pass:
    """One timed pass of `tool` over `items`, after one untimed pass made now (lazy
    imports, dialect set-up; the DataHub runner warms up the same way)."""
    for item in items:
        tool(item.sql, item.dialect)

    def one() -> Timing:
        wall, cpu = time.perf_counter(), time.process_time()
        for item in items:
            tool(item.sql, item.dialect)
        return Timing(time.perf_counter() - wall, time.process_time() - cpu)

    return one


@contextmanager
def datahub_pass(python: str, items: list[Item]) -> Iterator[Pass | None]:
    """DataHub's parser in its own interpreter, one timed pass per call."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as listing:
        json.dump([vars(i) for i in items], listing)
        listing.flush()
        runner = subprocess.Popen(
            [python, str(DATAHUB_RUNNER), listing.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert runner.stdin is not None and runner.stdout is not None
        stdin, stdout = runner.stdin, runner.stdout

        def one() -> Timing:
            stdin.write("pass\n")
            stdin.flush()
            found = json.loads(stdout.readline())
            return Timing(float(found["wall"]), float(found["cpu"]))

        try:
            ready = stdout.readline().strip() == "ready"
            if not ready:
                print("datahub runner failed to start", file=sys.stderr)
            yield one if ready else None
        finally:
            stdin.close()
            runner.wait()


def summary(times: list[Timing]) -> Timing:
    """The best pass: on a shared machine, noise only ever adds time."""
    return Timing(min(t.wall for t in times), min(t.cpu for t in times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="A folder of .sql files, or a cases .jsonl.")
    parser.add_argument("--dialect", default="snowflake")
    parser.add_argument("--peer-files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="Timed passes per tool, "
                        "interleaved; the best of each is reported.")  # fmt: skip
    parser.add_argument("--datahub-python")
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    items = corpus(args.corpus, args.dialect)
    subset = items[: args.peer_files]
    started = time.perf_counter()
    whole = local_pass(baton, items)()
    with ExitStack() as stack:
        passes = {
            "baton": local_pass(baton, subset),
            "naive sqlglot.lineage": local_pass(naive, subset),
        }
        if args.datahub_python:
            found = stack.enter_context(datahub_pass(args.datahub_python, subset))
            if found:
                passes["datahub sqlglot_lineage"] = found
        runs: dict[str, list[Timing]] = {tool: [] for tool in passes}
        for _ in range(args.repeat):  # interleaved, so a slow minute slows every tool
            for tool, one in passes.items():
                runs[tool].append(one())
    timings = {tool: summary(times) for tool, times in runs.items()}

    print(f"{len(items)} statements; Baton over all of them once: {len(items) / whole.wall:.1f}/s"
          f" wall, {len(items) / whole.cpu:.1f}/s cpu")  # fmt: skip
    print(f"first {len(subset)}, best of {args.repeat} interleaved passes per tool "
          f"({time.perf_counter() - started:.0f} s in all):")  # fmt: skip
    for tool, t in timings.items():
        print(f"  {tool:26s} {len(subset) / t.wall:8.1f}/s wall  {len(subset) / t.cpu:8.1f}/s cpu")
    mine = timings["baton"]
    for peer in ("naive sqlglot.lineage", "datahub sqlglot_lineage"):
        if peer in timings:
            other = timings[peer]
            print(f"baton / {peer}: {other.wall / mine.wall:.1f}x wall, "
                  f"{other.cpu / mine.cpu:.1f}x cpu")  # fmt: skip


if __name__ == "__main__":
    main()
