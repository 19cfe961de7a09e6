"""Which source can hold a bare column name when no schema says: by elimination.

A column named without a table, in a SELECT with several sources, belongs to the one
source that could hold it when the others' columns are known and lack it (a CTE's or
derived table's named outputs, a table function's column list, a table the schema
describes). The same reasoning places a name an outer query reads through a `*` over
several sources, and the bare arguments of a LATERAL table function, which sqlglot
refuses to qualify while any source's columns are unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema


def attributed_by_elimination(query: exp.Query, schema: MappingSchema) -> bool:
    """Qualify each bare column name that exactly one source could hold, the others'
    columns being known and lacking it; True if any was. The sources are the FROM items
    of its SELECT, or for a LATERAL table function the items before it. In a subquery
    they are its own FROM items, as SQL resolves a name in the innermost query that has
    it (`WHERE t > (SELECT max(t) FROM x)` reads x's t). Names the SELECT gives its own
    outputs are left alone (Snowflake's WHERE and QUALIFY may use those)."""
    root = build_scope(query)
    if root is None:
        return False
    placed = False
    for scope in root.traverse():
        select = scope.parent if scope.is_udtf else scope
        if select is None:
            continue
        candidates = dict(scope.lateral_sources) if scope.is_udtf else selected(scope)
        aliases = output_aliases(select.expression)
        for column in scope.unqualified_columns:
            if column.find_ancestor(exp.Select) is not select.expression:
                continue  # a nested query's column: placed in its own scope
            owner = sole_holder(candidates, column, aliases, schema)
            if owner is not None:
                column.set("table", exp.to_identifier(owner))
                placed = True
    return placed


def selected(scope: Scope) -> dict[str, exp.Table | Scope]:
    """The sources a SELECT's FROM and JOINs name, by alias."""
    return {alias: source for alias, (_, source) in scope.selected_sources.items()}


def sole_holder(
    candidates: Mapping[str, exp.Table | Scope],
    column: exp.Column,
    aliases: set[str],
    schema: MappingSchema | None,
) -> str | None:
    """The one source among `candidates` that could hold a bare column name, the others'
    columns being known and lacking it; None when several could, or none, or when the
    name may be another output of its SELECT (one of `aliases`: Snowflake's WHERE and
    QUALIFY may use those) or a lambda's parameter."""
    name = column.name
    if name in aliases and _projection_alias(column) != name:
        return None
    if column.find_ancestor(exp.Lambda) is not None:
        return None
    return only_holder(candidates, name, schema)


def only_holder(
    candidates: Mapping[str, exp.Table | Scope], name: str, schema: MappingSchema | None
) -> str | None:
    owners = [alias for alias, source in candidates.items() if _could_hold(source, name, schema)]
    return owners[0] if len(owners) == 1 else None


def output_aliases(select: exp.Expr) -> set[str]:
    """The names a SELECT gives its outputs with AS."""
    if not isinstance(select, exp.Select):
        return set()
    return {p.alias for p in select.expressions if isinstance(p, exp.Alias)}


def _projection_alias(column: exp.Column) -> str | None:
    """The output name of the projection a column is part of, if it is in one."""
    alias = column.find_ancestor(exp.Alias, exp.Select)
    return alias.alias if isinstance(alias, exp.Alias) else None


def _could_hold(source: exp.Table | Scope, name: str, schema: MappingSchema | None) -> bool:
    """Whether a source may have a column of this name: yes unless its columns are known
    (a query's named outputs, a function's or alias's column list, the schema's)."""
    query = source.expression if isinstance(source, Scope) else source
    if isinstance(query, exp.Query):
        return name in query.named_selects or any(is_star(p) for p in query.selects)
    alias = query.args.get("alias")
    declared = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    if declared:
        return name in declared
    if not isinstance(query, exp.Table) or isinstance(query.this, exp.Func):
        return True  # a table function without a column list: its columns are unknown
    columns = schema.column_names(query) if schema is not None else []
    return name in columns if columns else True


def is_star(projection: exp.Expr) -> bool:
    """`*` or `t.*`."""
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )
