"""Times DataHub's SQL parser over a corpus; run by sql_lineage_speed.py in a venv that
has acryl-datahub installed (it pins its own sqlglot). Prints {"wall": s, "cpu": s}.

    python datahub_lineage_runner.py CORPUS.json

CORPUS.json is a list of {"sql": ..., "dialect": ...}; each statement is parsed with
column lineage, in the dialect given (DataHub's own default when it is empty).
"""

import json
import sys
import time
from pathlib import Path

from datahub.sql_parsing.schema_resolver import SchemaResolver
from datahub.sql_parsing.sqlglot_lineage import sqlglot_lineage


def main() -> None:
    items = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    resolvers = {}
    for item in items:
        platform = item["dialect"] or "sql"
        resolvers.setdefault(platform, SchemaResolver(platform=platform, env="PROD"))
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        platform = item["dialect"] or "sql"
        sqlglot_lineage(
            item["sql"],
            schema_resolver=resolvers[platform],
            override_dialect=item["dialect"] or None,
        )
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))


if __name__ == "__main__":
    main()
