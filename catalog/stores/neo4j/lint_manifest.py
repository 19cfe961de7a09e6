"""Every Cypher statement Baton sends, as JSON for `tools/cypher-lint` (Neo4j's linter):
the statements of `cypher.py` with their declared parameters, each statement of each
`migrations/neo4j/*.cypher` file, and the graph model they are checked against.

    python -m catalog.stores.neo4j.lint_manifest | node tools/cypher-lint/lint.mjs
"""

from __future__ import annotations

import json
import sys
from typing import Any

from catalog.stores import migrations
from catalog.stores.neo4j import cypher


def manifest() -> dict[str, Any]:
    statements = [
        {"name": s.name, "text": s.text, "parameters": s.example}
        for s in cypher.STATEMENTS.values()
    ]
    for migration in migrations.load("neo4j"):
        file = f"migrations/neo4j/{migration.version:04d}_{migration.name}.cypher"
        statements += [
            {"name": f"{file} statement {i}", "text": text, "parameters": {}}
            for i, text in enumerate(migrations.cypher_statements(migration.text), 1)
        ]
    return {
        "schema": {
            "labels": list(cypher.LABELS),
            "relationshipTypes": list(cypher.RELATIONSHIP_TYPES),
            "propertyKeys": list(cypher.PROPERTY_KEYS),
        },
        "statements": statements,
    }


if __name__ == "__main__":
    json.dump(manifest(), sys.stdout, indent=1)
    sys.stdout.write("\n")
