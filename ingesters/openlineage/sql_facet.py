"""Column lineage from a job's `sql` facet, when the producer sent no columnLineage facet.

The SQL is analysed as a script in the dialect its output's namespace implies; result
columns of a plain SELECT belong to the event's single output, and tables in the SQL are
matched to the event's inputs by their trailing name parts (case-insensitively), since a
dbt model's compiled SQL names `db.schema.table` while OpenLineage may add more.
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.domain import NodeRef, column_ref
from ingesters.sql.dialects import dialect_of
from ingesters.sql.names import Defaults, normalize_schema
from ingesters.sql.script import analyse_script

ColumnKey = tuple[NodeRef, str]


def sql_column_lineage(
    query: str, output: NodeRef, inputs: list[NodeRef], known: Mapping[NodeRef, list[str]]
) -> dict[ColumnKey, list[NodeRef]]:
    """Output column -> the input columns it derives from (only inputs of the event).

    `known` holds the columns the event's schema facets list for its inputs; they expand
    `SELECT *` as far as they go (producers often list only documented columns).
    """
    if not query.strip():
        return {}
    dialect = dialect_of(output.namespace)
    schema = {
        dataset.name: dict.fromkeys(columns, None) for dataset, columns in known.items() if columns
    }
    result = analyse_script(query, dialect, normalize_schema(schema, dialect, Defaults()))
    found: dict[ColumnKey, list[NodeRef]] = {}
    for (table, column), upstreams in result.column_lineage.items():
        if table is not None and not _matches(table, output):
            continue
        sources = [
            column_ref(match.namespace, match.name, up_column)
            for (up_table, up_column) in upstreams
            if up_table is not None
            for match in inputs
            if _matches(up_table, match)
        ]
        if sources:
            found[(output, column)] = sources
    return found


def _matches(parts: tuple[str, ...], dataset: NodeRef) -> bool:
    name = [p.lower() for p in dataset.name.split(".")]
    wanted = [p.lower() for p in parts]
    return len(wanted) <= len(name) and name[-len(wanted) :] == wanted
