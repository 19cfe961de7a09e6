"""Column-lineage coverage without any catalog: in how many files of a corpus does a
parser find at least one output column with an upstream, knowing no table's columns?
Baton's `analyse_script` against DataHub's `sqlglot_lineage` (empty schema resolver), on
the same files, in one run.

    .venv/bin/python bench/sql_coverage.py ../shared/fixtures/sql/gitlab_snowflake \\
        --dialect snowflake --datahub-python /path/to/datahub-venv/bin/python

DataHub runs in its own virtualenv (`pip install 'acryl-datahub[sql-parser]'`: it pins
its own sqlglot); without `--datahub-python` only Baton is counted.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
from pathlib import Path

from ingesters.sql.script import analyse_script

DATAHUB = """
import json, logging, sys
logging.disable(logging.CRITICAL)
from datahub.sql_parsing.schema_resolver import SchemaResolver
from datahub.sql_parsing.sqlglot_lineage import sqlglot_lineage
platform, *paths = sys.argv[1:]
resolver = SchemaResolver(platform=platform, env="PROD")
covered = 0
for path in paths:
    try:
        result = sqlglot_lineage(open(path, encoding="utf-8").read(), schema_resolver=resolver)
    except Exception:
        continue
    covered += any(c.upstreams for c in (result.column_lineage or []))
print(json.dumps({"covered": covered}))
"""


def baton_covered(files: list[Path], dialect: str) -> int:
    covered = 0
    for path in files:
        try:
            result = analyse_script(path.read_text(encoding="utf-8"), dialect)
        except Exception:  # a crash covers nothing; the count goes on
            continue
        covered += bool(result.column_lineage)
    return covered


def datahub_covered(python: str, files: list[Path], dialect: str) -> int:
    platform = dialect or "postgres"
    done = subprocess.run(
        [python, "-c", DATAHUB, platform, *map(str, files)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(json.loads(done.stdout.strip().splitlines()[-1])["covered"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dialect", default="")
    parser.add_argument("--datahub-python")
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    files = sorted(args.folder.rglob("*.sql"))
    baton = baton_covered(files, args.dialect)
    print(f"{args.folder.name}: {len(files)} files")
    print(f"baton    {baton:>6} with column lineage")
    if args.datahub_python:
        peer = datahub_covered(args.datahub_python, files, args.dialect)
        ratio = baton / peer if peer else float("inf")
        print(f"datahub  {peer:>6} with column lineage   (baton / datahub: {ratio:.2f}x)")


if __name__ == "__main__":
    main()
