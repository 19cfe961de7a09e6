"""Times DataHub's SQL parser over files; run by sql_lineage_speed.py in a venv that has
acryl-datahub installed (it pins its own sqlglot). Prints {"seconds": ...} as JSON.

    python datahub_lineage_runner.py DIALECT FILE...
"""

import json
import sys
import time
from pathlib import Path

from datahub.sql_parsing.schema_resolver import SchemaResolver
from datahub.sql_parsing.sqlglot_lineage import sqlglot_lineage


def main() -> None:
    dialect, *paths = sys.argv[1:]
    resolver = SchemaResolver(platform=dialect, env="PROD")
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    started = time.perf_counter()
    for text in texts:
        sqlglot_lineage(text, schema_resolver=resolver)
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
