"""Times DataHub's SQL parser over a corpus, one pass per request; driven by
sql_lineage_speed.py in a venv that has acryl-datahub installed (it pins its own sqlglot).

    python datahub_lineage_runner.py CORPUS.json

CORPUS.json is a list of {"sql": ..., "dialect": ...}; each statement is parsed with
column lineage, in the dialect given (DataHub's own default when it is empty). After one
untimed warm-up pass (imports, dialect set-up) it prints `ready`; then for each line read
from stdin it makes one timed pass and prints {"wall": s, "cpu": s}. DataHub memoizes
results and parse trees by SQL text; its caches are emptied before each pass, so every
pass analyses every statement (as Baton's passes do) instead of timing dictionary lookups.
"""

import json
import sys
import time
from pathlib import Path

from datahub.sql_parsing.schema_resolver import SchemaResolver
from datahub.sql_parsing.sqlglot_lineage import _sqlglot_lineage_cached, sqlglot_lineage
from datahub.sql_parsing.sqlglot_utils import _parse_statement


def main() -> None:
    items = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    resolvers = {}
    for item in items:
        platform = item["dialect"] or "sql"
        resolvers.setdefault(platform, SchemaResolver(platform=platform, env="PROD"))

    def one_pass() -> None:
        _sqlglot_lineage_cached.cache_clear()
        _parse_statement.cache_clear()
        for item in items:
            platform = item["dialect"] or "sql"
            sqlglot_lineage(
                item["sql"],
                schema_resolver=resolvers[platform],
                override_dialect=item["dialect"] or None,
            )

    one_pass()
    print("ready", flush=True)
    for _ in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        one_pass()
        took = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        print(json.dumps(took), flush=True)


if __name__ == "__main__":
    main()
