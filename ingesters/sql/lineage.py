"""Table- and column-level lineage of one parsed SQL statement, on sqlglot.

Handles the statements that move data into a table: CREATE TABLE ... AS SELECT,
CREATE [MATERIALIZED] VIEW ... AS SELECT and INSERT [INTO|OVERWRITE] ... SELECT. Names
are normalized for the dialect and qualified with the default database and schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node
from sqlglot.lineage import lineage as sqlglot_lineage
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import traverse_scope

TableName = tuple[str, ...]
"""A table's name parts, outermost first (catalog, schema, table), normalized."""

Schema = Mapping[TableName, Mapping[str, str]]
"""Known columns (name -> type) of tables, used to expand `*` and qualify columns."""


class Transformation(StrEnum):
    """How an output column's value derives from an input column (OpenLineage vocabulary)."""

    IDENTITY = "IDENTITY"
    TRANSFORMATION = "TRANSFORMATION"
    AGGREGATION = "AGGREGATION"


_STRENGTH = list(Transformation)


class Coverage(StrEnum):
    """How much of a statement's column lineage was resolved."""

    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"  # some output columns (e.g. from an unresolved `*`) have none
    NONE = "NONE"


@dataclass(frozen=True)
class ColumnFlow:
    source_table: TableName
    source_column: str
    target_column: str
    transformation: Transformation


@dataclass(frozen=True)
class StatementLineage:
    target: TableName | None
    target_type: str | None  # TABLE, VIEW, ... for CREATE; None for INSERT
    reads: tuple[TableName, ...]
    columns: tuple[str, ...]  # output columns of the target, in order, where known
    column_types: Mapping[str, str] = field(default_factory=dict)  # declared by DDL
    moves_data: bool = True  # False for plain DDL (CREATE TABLE t (columns...))
    flows: tuple[ColumnFlow, ...] = ()
    coverage: Coverage = Coverage.NONE
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Defaults:
    database: str | None = None
    schema: str | None = None


def table_name(table: exp.Table) -> TableName:
    return tuple(part.name for part in table.parts)


def prepare(statement: exp.Expr, dialect: str, defaults: Defaults) -> exp.Expr:
    """Normalize identifier case for the dialect and qualify table names with defaults."""
    normalized = normalize_identifiers(statement, dialect=dialect)
    return qualify_tables(
        normalized, db=defaults.schema, catalog=defaults.database, dialect=dialect
    )


def target_and_reads(statement: exp.Expr) -> tuple[TableName | None, set[TableName]]:
    """Cheaply: the table a statement writes (if any) and every other table it names."""
    written = statement.this if isinstance(statement, exp.Create | exp.Insert) else None
    if isinstance(written, exp.Schema):
        written = written.this
    target = table_name(written) if isinstance(written, exp.Table) else None
    named = {table_name(t) for t in statement.find_all(exp.Table)}
    return target, {name for name in named if name != target}


def statement_lineage(statement: exp.Expr, dialect: str, schema: Schema) -> StatementLineage | None:
    """Lineage of a prepared statement; None when it moves no data into a table."""
    target_and_query = _target_and_query(statement)
    if target_and_query is None:
        return None
    target, target_type, query, target_columns = target_and_query
    if query is None:
        return _declared_table(statement, target, target_type)
    reads = tuple(dict.fromkeys(_tables_read(query)))
    try:
        flows, unresolved, output = _column_flows(query, dialect, schema, reads, target_columns)
    except SqlglotError as error:
        return StatementLineage(target, target_type, reads, (), notes=(str(error),))
    known_columns = tuple(c for c in (target_columns or output) if "*" not in c)
    coverage = Coverage.PARTIAL if unresolved else Coverage.COMPLETE
    notes = tuple(f"unresolved output column {c!r}" for c in unresolved)
    return StatementLineage(
        target,
        target_type,
        reads,
        known_columns,
        flows=tuple(flows),
        coverage=coverage,
        notes=notes,
    )


def _declared_table(statement: exp.Expr, target: TableName, kind: str | None) -> StatementLineage:
    schema = statement.this
    definitions = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
    types = {c.name: c.kind.sql() if c.kind else "UNKNOWN" for c in definitions}
    return StatementLineage(
        target,
        kind,
        (),
        tuple(types),
        column_types=types,
        moves_data=False,
        coverage=Coverage.COMPLETE,
    )


def _target_and_query(
    statement: exp.Expr,
) -> tuple[TableName, str | None, exp.Query | None, list[str]] | None:
    if isinstance(statement, exp.Create):
        query = statement.expression
        target = statement.this
        if query is None and isinstance(target, exp.Schema):
            table = target.this
            return (table_name(table), "TABLE", None, []) if isinstance(table, exp.Table) else None
        if not isinstance(query, exp.Query):
            return None
        kind = str(statement.args.get("kind") or "TABLE").upper()
        if statement.find(exp.MaterializedProperty) is not None:
            kind = f"MATERIALIZED {kind}"
        columns: list[str] = []
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
    elif isinstance(statement, exp.Insert):
        query = statement.expression
        target = statement.this
        kind = None
        columns = []
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        if not isinstance(query, exp.Query):
            return None
    else:
        return None
    if not isinstance(target, exp.Table):
        return None
    # `WITH ... INSERT INTO t SELECT ...` attaches the CTEs to the statement; the query needs them.
    with_ = statement.args.get("with_")
    if with_ is not None and isinstance(query, exp.Query) and query.args.get("with_") is None:
        query = query.copy()
        query.set("with_", with_.copy())
    return table_name(target), kind, query, columns


def _tables_read(query: exp.Query) -> Iterator[TableName]:
    for scope in traverse_scope(query):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                yield table_name(source)


def _column_flows(
    query: exp.Query,
    dialect: str,
    schema: Schema,
    reads: tuple[TableName, ...],
    target_columns: list[str],
) -> tuple[list[ColumnFlow], list[str], list[str]]:
    """Flows into each output column; also the unresolved outputs and all output names.

    Outputs map to an INSERT's target column list by position, as the database does.
    """
    roots = sqlglot_lineage(None, query, _sqlglot_schema(schema, reads), dialect=dialect)
    assert isinstance(roots, dict)
    strongest: dict[tuple[TableName, str, str], Transformation] = {}
    unresolved: list[str] = []
    for position, (output, root) in enumerate(roots.items()):
        if "*" in output:
            unresolved.append(output)
            continue
        target_column = target_columns[position] if position < len(target_columns) else output
        for table, column, transformation in _leaves(root, Transformation.IDENTITY):
            key = (table, column, target_column)
            known = strongest.get(key, transformation)
            strongest[key] = max(known, transformation, key=_STRENGTH.index)
    # A column reached along several paths keeps its strongest transformation, so the
    # result does not depend on the order sqlglot walks them in.
    flows = [ColumnFlow(t, c, target, kind) for (t, c, target), kind in sorted(strongest.items())]
    return flows, unresolved, list(roots)


def _leaves(
    node: Node, strongest: Transformation
) -> Iterator[tuple[TableName, str, Transformation]]:
    """Source-table columns under `node`, with the strongest transformation on the path."""
    strongest = max(strongest, _classify(node.expression), key=_STRENGTH.index)
    if isinstance(node.expression, exp.Table):
        if not node.name.endswith("*"):
            yield table_name(node.expression), node.name.rsplit(".", 1)[-1], strongest
        return
    for child in node.downstream:
        yield from _leaves(child, strongest)


def _classify(projection: exp.Expr) -> Transformation:
    inner = projection.this if isinstance(projection, exp.Alias) else projection
    if isinstance(inner, exp.Column | exp.Table):
        return Transformation.IDENTITY
    if inner.find(exp.AggFunc) is not None:
        return Transformation.AGGREGATION
    return Transformation.TRANSFORMATION


def _sqlglot_schema(schema: Schema, reads: tuple[TableName, ...]) -> dict[str, object]:
    """sqlglot's nested schema for the known tables this statement reads.

    sqlglot needs every table at the same nesting depth; tables named with fewer parts
    than the deepest are left out (their columns stay unresolved rather than guessed).
    """
    known = [name for name in reads if name in schema]
    if not known:
        return {}
    depth = max(len(name) for name in known)
    nested: dict[str, object] = {}
    for name in known:
        if len(name) != depth:
            continue
        level = nested
        for part in name[:-1]:
            child = level.setdefault(part, {})
            assert isinstance(child, dict)
            level = child
        level[name[-1]] = dict(schema[name])
    return nested
