"""Run the SQL ingester over a lineage cases file and write predictions for its scorer.

    .venv/bin/python bench/sql_lineage_accuracy.py ../shared/fixtures/sql-lineage/dev-cases.jsonl \
        --out /tmp/predictions.jsonl
    python ../shared/fixtures/sql-lineage/score.py \
        ../shared/fixtures/sql-lineage/dev-cases.jsonl /tmp/predictions.jsonl

Cases are JSON lines with `id`, `dialect` (empty: generic SQL), `sql`, `schemas`
({"db.table": {column: type or null}}) and, when the case gives them, `default_db` (or
`default_database`) and `default_schema`: every field a caller would pass is passed.
Predictions list only DIRECT column upstreams.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from ingesters.sql.names import Defaults, normalize_schema
from ingesters.sql.script import analyse_script


def predict(case: dict[str, Any]) -> dict[str, Any]:
    dialect = case.get("dialect") or ""
    defaults = Defaults(
        case.get("default_db") or case.get("default_database") or None,
        case.get("default_schema") or None,
    )
    try:
        schema = normalize_schema(case.get("schemas") or {}, dialect, defaults)
        result = analyse_script(case["sql"], dialect, schema, defaults)
    except Exception as error:  # a crash is scored as an error, and the run goes on
        return {"id": case["id"], "error": f"{type(error).__name__}: {error}"}
    prediction: dict[str, Any] = {"id": case["id"], **result.as_json()}
    del prediction["errors"]  # the scorer reads a non-empty "error" as a failed case
    del prediction["indirect_lineage"]  # it scores DIRECT column lineage only
    if result.understood == 0 and result.errors:
        prediction["error"] = "; ".join(e.message for e in result.errors)
    return prediction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # errors are in the predictions
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    with args.out.open("w") as out:
        for case in cases:
            out.write(json.dumps(predict(case)) + "\n")
    elapsed = time.perf_counter() - started
    print(f"{len(cases)} cases in {elapsed:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
