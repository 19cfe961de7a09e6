"""Table- and column-level lineage of one prepared SQL statement, on sqlglot.

`movements.shape_of` turns the statement into queries flowing into a target; this module
finds the tables those queries read and, per output column, the source columns it derives
from and how (identity, transformation, aggregation).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from ingesters.sql.columns import (
    Influence,
    Resolved,
    SourceColumn,
    Transformation,
    classify,
    column_sources,
    qualified,
    stronger,
    tables_of,
    value_columns,
)
from ingesters.sql.movements import shape_of
from ingesters.sql.names import Schema, TableName, table_name

log = logging.getLogger(__name__)


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
    inferred: bool = False
    """The source column is known only by inference (a `*` over one source, no schema)."""


@dataclass(frozen=True)
class StatementLineage:
    target: TableName | None
    target_type: str | None  # TABLE, VIEW, ... for CREATE; None for INSERT
    reads: tuple[TableName, ...]
    columns: tuple[str, ...]  # output columns of the target, in order, where known
    column_types: Mapping[str, str] = field(default_factory=dict)  # declared by DDL
    moves_data: bool = True  # False for plain DDL (CREATE TABLE t (columns...))
    flows: tuple[ColumnFlow, ...] = ()
    influences: tuple[Influence, ...] = ()
    """Columns that decide which rows reach the target (joins, filters, grouping, order)."""
    coverage: Coverage = Coverage.NONE
    notes: tuple[str, ...] = field(default=())
    unknown_columns: tuple[tuple[TableName, str], ...] = ()
    """Columns the SQL names that the given schema of their table does not hold: reported
    as unresolved, never turned into edges to columns that do not exist."""


def target_and_reads(statement: exp.Expr) -> tuple[TableName | None, set[TableName]]:
    """Cheaply: the table a statement writes (if any) and every other table it names."""
    shape = shape_of(statement)
    target = shape.target if shape is not None else None
    named = {table_name(t) for t in statement.find_all(exp.Table)}
    return target, {name for name in named if name != target}


def statement_lineage(
    statement: exp.Expr, dialect: str, schema: Schema, authoritative: Schema | None = None
) -> StatementLineage | None:
    """Lineage of a prepared statement, which the analysis qualifies in place; None when it
    neither reads nor writes tables.
    `authoritative`: the tables whose columns a caller vouches for (a given schema, not
    columns inferred along the way); a column one of them lacks is left unresolved."""
    shape = shape_of(statement)
    if shape is None:
        return None
    if shape.declared is not None:
        assert shape.target is not None
        return StatementLineage(
            shape.target,
            shape.target_type,
            (),
            tuple(shape.declared),
            column_types=shape.declared,
            moves_data=False,
            coverage=Coverage.COMPLETE,
        )
    reads = [table_name(t) for t in shape.extra_reads]
    flows: list[ColumnFlow] = []
    columns: list[str] = []
    if shape.copies is not None:
        source = table_name(shape.copies)
        columns = list(schema.get(source, {}))
        flows = [ColumnFlow(source, c, c, Transformation.IDENTITY) for c in columns]
    influences: list[Influence] = []
    unknown: list[tuple[TableName, str]] = []
    notes: list[str] = []
    coverage = Coverage.COMPLETE
    existing = [
        c
        for c in (schema.get(shape.target, {}) if shape.target and shape.positional else {})
        if c not in shape.static_partition
    ]
    for movement in shape.movements:
        try:
            found, unresolved, output, influenced, phantoms, movement_reads = _column_flows(
                movement.query,
                dialect,
                schema,
                authoritative or {},
                list(movement.target_columns),
                existing,
            )
        except (SqlglotError, ValueError) as error:  # sqlglot's lineage raises both
            reads += _tables_read(movement.query)
            coverage = Coverage.NONE
            notes.append(str(error))
            continue
        reads += movement_reads
        flows += found
        influences += influenced
        unknown += phantoms
        columns += [c for c in output if "*" not in c]
        if unresolved or phantoms:
            coverage = Coverage.PARTIAL if coverage is Coverage.COMPLETE else coverage
        if unresolved:
            coverage = Coverage.PARTIAL if coverage is Coverage.COMPLETE else coverage
            notes += [f"unresolved column {c}" if " " in c else f"unresolved output column {c!r}"
                      for c in unresolved]  # fmt: skip
    return StatementLineage(
        shape.target,
        shape.target_type,
        tuple(dict.fromkeys(reads)),
        tuple(dict.fromkeys(columns)),
        flows=tuple(dict.fromkeys(flows)),
        influences=tuple(dict.fromkeys(influences)),
        coverage=coverage,
        notes=tuple(notes),
        unknown_columns=tuple(dict.fromkeys(unknown)),
    )


def _tables_read(query: exp.Query) -> list[TableName]:
    return [table for scope in traverse_scope(query) for table in tables_of(scope)]


def _column_flows(
    query: exp.Query,
    dialect: str,
    schema: Schema,
    authoritative: Schema,
    target_columns: list[str],
    existing_columns: list[str],
) -> tuple[
    list[ColumnFlow],
    list[str],
    list[str],
    list[Influence],
    list[tuple[TableName, str]],
    list[TableName],
]:
    """Flows into each output column; the unresolved outputs (and the unqualified columns
    several sources could hold, never guessed); the target columns; the columns that
    influence the rows; columns the schema says their table lacks; and the tables read.

    Outputs map to an INSERT's target column list by position, as the database does; with
    no list, to the target's known columns when there are exactly as many.
    """
    # Only a schema needs the tables read before resolving; the walk finds them anyway.
    nested = _sqlglot_schema(schema, _tables_read(query)) if schema else {}
    per_output, influences, inferred, ambiguous, reads = _resolve(query, dialect, nested)

    def phantom(table: TableName, column: str) -> bool:
        declared = authoritative.get(table)
        return column not in declared if declared else False

    phantoms = [(t, c) for _, sources in per_output for t, c, _ in sources if phantom(t, c)]
    phantoms += [(t, c) for t, c, _ in influences if phantom(t, c)]
    per_output = [(o, [s for s in found if not phantom(s[0], s[1])]) for o, found in per_output]
    influences = [i for i in influences if not phantom(i[0], i[1])]
    if not target_columns and len(existing_columns) == len(per_output):
        target_columns = existing_columns
    strongest: dict[tuple[TableName, str, str], Transformation] = {}
    unresolved: list[str] = []
    for position, (output, sources) in enumerate(per_output):
        if "*" in output:
            unresolved.append(output)
            continue
        target_column = target_columns[position] if position < len(target_columns) else output
        for table, column, transformation in sources:
            key = (table, column, target_column)
            known = strongest.get(key, transformation)
            strongest[key] = stronger(known, transformation)
    # A column reached along several paths keeps its strongest transformation, so the
    # result does not depend on the order sqlglot walks them in.
    flows = [
        ColumnFlow(t, c, target, kind, inferred=(t, c) in inferred)
        for (t, c, target), kind in sorted(strongest.items())
    ]
    outputs = [
        target_columns[i] if i < len(target_columns) else name
        for i, (name, _) in enumerate(per_output)
    ]
    unresolved += [
        f"{column} (any of {', '.join(sources)} could hold it; no schema says which)"
        for column, sources in sorted(ambiguous)
    ]
    return flows, unresolved, outputs, influences, list(dict.fromkeys(phantoms)), reads


_OPTIMIZER_FAILURES = (OptimizeError, AssertionError, KeyError, IndexError, TypeError)
"""What sqlglot's optimizer raises on queries it cannot resolve without a schema, and on
some valid SQL that trips its internal assertions (`ORDER BY 1` over `SELECT *`): gaps
in the optimizer, not bad input."""


def _resolve(query: exp.Query, dialect: str, schema: dict[str, object]) -> Resolved:
    """Each output column's source columns and the row-deciding columns, resolved over the
    qualified query; or only the former, read off the syntax, when the query cannot be
    qualified without a schema."""
    try:
        return column_sources(qualified(query, dialect, schema))
    except _OPTIMIZER_FAILURES as error:
        log.debug("qualification failed, walking the query as written: %r", error)
    try:
        return column_sources(query)
    except _OPTIMIZER_FAILURES as error:
        log.debug("cannot walk the query's scopes, reading the syntax instead: %r", error)
        return syntactic_sources(query), [], set(), set(), _tables_read(query)


def syntactic_sources(query: exp.Query) -> list[tuple[str, list[SourceColumn]]]:
    """Best effort without name resolution: each column of an output's expression (scalar
    subqueries' projections included) belongs to the table its qualifier names, or to the
    only table of the nearest SELECT that has one."""
    branches = _branches(query)
    ctes = {cte.alias for cte in query.find_all(exp.CTE)}  # names of no table
    outputs = []
    for position, name in enumerate(branches[0].named_selects):
        sources: list[SourceColumn] = []
        for select in branches:
            if position >= len(select.expressions):
                continue
            projection = select.expressions[position]
            kind = classify(projection)
            for column in value_columns(projection):
                table = _owning_table(column)
                if table is not None and not (table.name in ctes and not table.args.get("db")):
                    sources.append((table_name(table), column.name, kind))
        outputs.append((name, sources))
    return outputs


def _branches(query: exp.Query) -> list[exp.Select]:
    if isinstance(query, exp.SetOperation):
        return _branches(query.this) + _branches(query.expression)
    if isinstance(query, exp.Subquery):
        return _branches(query.this)
    return [query] if isinstance(query, exp.Select) else []


def _owning_table(column: exp.Column) -> exp.Table | None:
    select = column.parent_select
    while select is not None:
        sources = [
            s
            for s in [_from_source(select), *(j.this for j in select.args.get("joins") or [])]
            if s is not None
        ]
        tables = {t.alias_or_name: t for t in sources if isinstance(t, exp.Table)}
        if column.table and column.table in tables:
            return tables[column.table]
        if not column.table and len(sources) == 1 and len(tables) == 1:
            return next(iter(tables.values()))
        if sources and not column.table:
            return None
        select = select.parent_select
    return None


def _from_source(select: exp.Select) -> exp.Expr | None:
    from_ = select.args.get("from_")
    return from_.this if isinstance(from_, exp.From) else None


def _sqlglot_schema(schema: Schema, reads: list[TableName]) -> dict[str, object]:
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
