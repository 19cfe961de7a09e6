"""Every data-moving statement as queries into a target: one shape for lineage to analyse.

CREATE ... AS, INSERT, SELECT INTO and a plain SELECT carry their query. UPDATE and MERGE
carry none, so each SET / INSERT branch becomes a synthetic SELECT over the same sources
(`SELECT <expression> AS <column> FROM target JOIN source ON ...`): the ordinary column
lineage of that SELECT is the lineage of the assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from ingesters.sql.names import TableName, table_name


@dataclass(frozen=True)
class Movement:
    """Rows produced by `query` flowing into `target` (None: a SELECT's result set)."""

    query: exp.Query
    target_columns: tuple[str, ...] = ()
    """Target columns by output position; empty when outputs keep their own names."""


@dataclass(frozen=True)
class StatementShape:
    target: TableName | None
    target_type: str | None  # TABLE, VIEW, MATERIALIZED VIEW... for CREATE
    movements: tuple[Movement, ...]
    extra_reads: tuple[exp.Table, ...] = ()  # tables read outside any movement (DELETE USING)
    declared: dict[str, str] | None = None  # columns and types of CREATE TABLE t (...)
    positional: bool = False
    """True when outputs fill the target's existing columns in order (INSERT, no column list)."""
    static_partition: tuple[str, ...] = ()
    """Columns given constant values by `PARTITION (p = 'v')`: not filled by the query."""
    copies: exp.Table | None = None
    """A table the target becomes a copy of, column for column (CLONE, RENAME)."""


def shape_of(statement: exp.Expr) -> StatementShape | None:
    """The target and movements of a statement; None when it neither reads nor writes data."""
    for kind, shaper in _SHAPERS.items():
        if isinstance(statement, kind):
            return shaper(statement)
    return None


def _with_ctes(statement: exp.Expr, query: exp.Query) -> exp.Query:
    """`WITH ... INSERT INTO t SELECT ...` hangs the CTEs on the statement; move them down."""
    with_ = statement.args.get("with_")
    if with_ is None or query.args.get("with_") is not None:
        return query
    query = query.copy()
    query.set("with_", with_.copy())
    return query


def _target(expression: exp.Expr | None) -> tuple[exp.Table | None, tuple[str, ...]]:
    if isinstance(expression, exp.Schema):
        columns = tuple(
            c.name for c in expression.expressions if isinstance(c, exp.Identifier | exp.Column)
        )
        table = expression.this
        return (table if isinstance(table, exp.Table) else None), columns
    return (expression if isinstance(expression, exp.Table) else None), ()


def _create(statement: exp.Create) -> StatementShape | None:
    table, columns = _target(statement.this)
    if table is None:
        return None
    kind = str(statement.args.get("kind") or "TABLE").upper()
    if statement.find(exp.MaterializedProperty) is not None:
        kind = f"MATERIALIZED {kind}"
    clone = statement.args.get("clone")
    like = statement.find(exp.LikeProperty)
    copied = clone.this if isinstance(clone, exp.Clone) else like.this if like else None
    if isinstance(clone, exp.Clone) and isinstance(copied, exp.Table):
        return StatementShape(table_name(table), kind, (), extra_reads=(copied,), copies=copied)
    if isinstance(copied, exp.Table):  # CREATE TABLE t LIKE s: structure only
        return StatementShape(table_name(table), kind, (), extra_reads=(copied,))
    query = statement.expression
    if isinstance(query, exp.Query):
        movement = Movement(_with_ctes(statement, query), columns)
        return StatementShape(table_name(table), kind, (movement,))
    schema = statement.this
    if query is None and isinstance(schema, exp.Schema):
        definitions = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        declared = {c.name: c.kind.sql() if c.kind else "UNKNOWN" for c in definitions}
        return StatementShape(table_name(table), kind, (), declared=declared)
    return None


def _insert(statement: exp.Insert) -> StatementShape | None:
    table, columns = _target(statement.this)
    if table is None:
        return None
    query = statement.expression
    movements = (
        (Movement(_with_ctes(statement, query), columns),) if isinstance(query, exp.Query) else ()
    )
    partition = table.args.get("partition")
    static = tuple(
        p.this.name
        for p in (partition.expressions if isinstance(partition, exp.Partition) else [])
        if isinstance(p, exp.EQ) and isinstance(p.this, exp.Column)
    )
    values = tuple(query.find_all(exp.Table)) if isinstance(query, exp.Values) else ()
    return StatementShape(
        table_name(table),
        None,
        movements,
        extra_reads=values,
        positional=not columns,
        static_partition=static,
    )


def _query(query: exp.Query) -> StatementShape:
    first = _first_select(query)
    into = first.args.get("into") if first is not None else None
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table) and first is not query:
        assert first is not None
        plain = query.copy()
        inner = _first_select(plain)
        assert inner is not None
        inner.set("into", None)
        return StatementShape(table_name(into.this), "TABLE", (Movement(plain),))
    if (
        isinstance(query, exp.Select)
        and isinstance(into, exp.Into)
        and isinstance(into.this, exp.Table)
    ):
        plain = query.copy()
        plain.set("into", None)
        return StatementShape(table_name(into.this), "TABLE", (Movement(plain),))
    return StatementShape(None, None, (Movement(query),))


def _first_select(query: exp.Expr) -> exp.Select | None:
    """The leftmost SELECT of a set operation (where `SELECT ... INTO` puts its target)."""
    while isinstance(query, exp.SetOperation):
        query = query.this
    return query if isinstance(query, exp.Select) else None


def _assignments(pairs: list[exp.Expr]) -> tuple[list[exp.Expr], tuple[str, ...]]:
    """`col = expr` pairs as (aliased expressions, target column names)."""
    projections: list[exp.Expr] = []
    columns: list[str] = []
    for pair in pairs:
        if isinstance(pair, exp.EQ) and isinstance(pair.this, exp.Column):
            columns.append(pair.this.name)
            projections.append(exp.alias_(pair.expression.copy(), pair.this.name))
    return projections, tuple(columns)


def _update(statement: exp.Update) -> StatementShape | None:
    table = statement.this
    if not isinstance(table, exp.Table):
        return None
    from_ = statement.args.get("from_")
    joins = [join.copy() for join in statement.args.get("joins") or []]
    sources = [from_.this.copy()] if isinstance(from_, exp.From) else []
    # T-SQL `UPDATE t SET ... FROM tab1 t JOIN ...` names the target by an alias.
    aliased = next((s for s in sources + [j.this for j in joins] if _is_alias_of(table, s)), None)
    target = aliased if aliased is not None else table
    projections, columns = _assignments(list(statement.expressions))
    if not projections:
        return StatementShape(table_name(target), None, ())
    select = exp.select(*projections).from_(sources[0] if aliased is not None else table.copy())
    for source in sources if aliased is None else sources[1:]:
        select = select.join(source, join_type="CROSS")
    for join in joins:
        select = select.join(join)
    where = statement.args.get("where")
    if isinstance(where, exp.Where):
        select.set("where", where.copy())
    movement = Movement(_with_ctes(statement, select), columns)
    return StatementShape(table_name(target), None, (movement,))


def _is_alias_of(target: exp.Table, source: exp.Expr) -> bool:
    return (
        isinstance(source, exp.Table)
        and not target.db
        and bool(source.alias)
        and source.alias == target.name
    )


def _merge(statement: exp.Merge) -> StatementShape | None:
    table = statement.this
    source = statement.args.get("using")
    if not isinstance(table, exp.Table) or source is None:
        return None
    on = statement.args.get("on")
    movements: list[Movement] = []
    whens = statement.args.get("whens")
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        action = when.args.get("then")
        if isinstance(action, exp.Update):
            projections, columns = _assignments(list(action.expressions))
            if projections:
                select = exp.select(*projections).from_(table.copy())
                select = select.join(source.copy(), on=on.copy() if on is not None else None)
                movements.append(Movement(_with_ctes(statement, select), columns))
        elif isinstance(action, exp.Insert):
            targets = action.this.expressions if isinstance(action.this, exp.Tuple) else []
            values = (
                action.expression.expressions if isinstance(action.expression, exp.Tuple) else []
            )
            if targets and values:
                projections = [
                    exp.alias_(v.copy(), t.name) for t, v in zip(targets, values, strict=False)
                ]
                select = exp.select(*projections).from_(source.copy())
                movements.append(
                    Movement(_with_ctes(statement, select), tuple(t.name for t in targets))
                )
    extra = (source,) if isinstance(source, exp.Table) else ()
    return StatementShape(table_name(table), None, tuple(movements), extra_reads=extra)


def _delete(statement: exp.Delete) -> StatementShape | None:
    table = statement.this
    if not isinstance(table, exp.Table):
        return None
    reads = [t for using in statement.args.get("using") or [] for t in using.find_all(exp.Table)]
    where = statement.args.get("where")
    if where is not None:
        reads += list(where.find_all(exp.Table))
    return StatementShape(table_name(table), None, (), extra_reads=tuple(reads))


def _alter(statement: exp.Alter) -> StatementShape | None:
    """`ALTER TABLE a RENAME TO b`: b is a, under a new name."""
    table = statement.this
    rename = next(
        (a for a in statement.args.get("actions") or [] if isinstance(a, exp.AlterRename)), None
    )
    if not isinstance(table, exp.Table) or rename is None or not isinstance(rename.this, exp.Table):
        return None
    new = rename.this.copy()
    if not new.db and table.db:  # `RENAME TO b` stays in a's schema
        new.set("db", table.args["db"].copy())
        if table.catalog:
            new.set("catalog", table.args["catalog"].copy())
    return StatementShape(table_name(new), None, (), extra_reads=(table,), copies=table)


_SHAPERS: dict[type[exp.Expr], Callable[[Any], StatementShape | None]] = {
    exp.Create: _create,
    exp.Insert: _insert,
    exp.Update: _update,
    exp.Merge: _merge,
    exp.Delete: _delete,
    exp.Alter: _alter,
    exp.Query: _query,
}
