"""Column lineage of dbt models from their compiled SQL, through the SQL ingester.

Models are analysed in the order of dbt's own DAG, so a model's output columns are known
(and expand `SELECT *`) by the time its children are analysed. Columns known before any
SQL is read come from the caller: catalog.json and contracts are authoritative, documented
columns only fill gaps.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError

from ingesters.dbt.artifacts import ManifestNode
from ingesters.dbt.relations import Relations
from ingesters.sql.lineage import Coverage, StatementLineage, statement_lineage
from ingesters.sql.names import Defaults, TableName
from ingesters.sql.script import StatementError, parse_statements

Columns = Mapping[str, str]
"""Column name -> type ("UNKNOWN" where no type is known)."""


@dataclass(frozen=True)
class ModelSql:
    """What the compiled SQL of one model says, or why it says nothing."""

    node: ManifestNode
    lineage: StatementLineage | None
    problem: str | None = None


def analyse_models(
    models: list[ManifestNode],
    relations: Relations,
    authoritative: Mapping[TableName, Columns],
    documented: Mapping[TableName, Columns],
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[ModelSql]:
    """Lineage of each model with compiled SQL, parents before children."""
    schema: dict[TableName, Columns] = {**documented, **authoritative}
    ordered = _in_dag_order(models)
    for done, node in enumerate(ordered, start=1):
        if progress is not None:
            progress(done, len(ordered))
        table = relations.tables.get(node.unique_id)
        if table is None or not node.compiled_code:
            continue
        found = model_lineage(node, table, relations.dialect, schema)
        if _improves(found.lineage, table, authoritative, schema):
            assert found.lineage is not None
            schema[table] = dict.fromkeys(found.lineage.columns, "UNKNOWN")
        yield found


def _improves(
    lineage: StatementLineage | None,
    table: TableName,
    authoritative: Mapping[TableName, Columns],
    schema: Mapping[TableName, Columns],
) -> bool:
    """Whether a model's SQL output columns should replace what is known of its table:
    never over catalog or contract columns; over documented ones when fully resolved."""
    if lineage is None or not lineage.columns or table in authoritative:
        return False
    return lineage.coverage is Coverage.COMPLETE or table not in schema


def model_lineage(
    node: ManifestNode, table: TableName, dialect: str, schema: Mapping[TableName, Columns]
) -> ModelSql:
    """Lineage of the model's compiled query, as if it were `CREATE TABLE <relation> AS`."""
    problems: list[StatementError] = []
    defaults = Defaults(database=node.database, schema=node.schema_)
    assert node.compiled_code is not None
    queries = [
        expression
        for _, expression in parse_statements(node.compiled_code, dialect, defaults, problems)
        if isinstance(expression, exp.Query)
    ]
    if problems:
        where = f"line {problems[0].line}: " if problems[0].line else ""
        return ModelSql(node, None, f"compiled SQL does not parse ({where}{problems[0].message})")
    if not queries:
        return ModelSql(node, None, "compiled SQL holds no query")
    create = exp.Create(this=_table(table), kind="TABLE", expression=queries[-1])
    try:
        return ModelSql(node, statement_lineage(create, dialect, schema))
    except (SqlglotError, RecursionError) as error:
        return ModelSql(node, None, f"cannot analyse lineage: {error}")


def _table(name: TableName) -> exp.Table:
    """A table expression for already-normalized name parts (quoted, so case is kept)."""
    *qualifiers, last = name
    catalog, db = ([None, None, *qualifiers])[-2:]
    return exp.table_(last, db=db, catalog=catalog, quoted=True)


def _in_dag_order(models: list[ManifestNode]) -> list[ManifestNode]:
    by_id = {node.unique_id: node for node in models}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in models:
        sorter.add(node.unique_id, *(p for p in node.depends_on.nodes if p in by_id))
    try:
        return [by_id[uid] for uid in sorter.static_order()]
    except graphlib.CycleError:  # dbt forbids cycles; keep going in manifest order
        return models
