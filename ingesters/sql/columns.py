"""Column lineage in one pass: qualify the query once, then walk its scopes.

sqlglot's own `lineage` traces each output column separately and copies the query at every
step, which is quadratic in the width of a SELECT (a 700-column staging model took
seconds). Here each (scope, column) is resolved once and memoized, so a statement costs
about one qualification plus one walk over its projections.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from sqlglot import exp
from sqlglot.dialects.dialect import DialectType
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

from ingesters.sql.dialects import sqlglot_dialect
from ingesters.sql.elimination import (
    attributed_by_elimination,
    is_star,
    only_holder,
    output_aliases,
    selected,
    sole_holder,
)
from ingesters.sql.names import TableName, table_name


class Transformation(StrEnum):
    """How an output column's value derives from an input column (OpenLineage vocabulary)."""

    IDENTITY = "IDENTITY"
    TRANSFORMATION = "TRANSFORMATION"
    AGGREGATION = "AGGREGATION"


_STRENGTH = {kind: rank for rank, kind in enumerate(Transformation)}

SourceColumn = tuple[TableName, str, Transformation]
"""A base-table column an output derives from, and the strongest transformation on the way."""


def stronger(a: Transformation, b: Transformation) -> Transformation:
    return a if _STRENGTH[a] >= _STRENGTH[b] else b


def _strongest(sources: Iterable[SourceColumn]) -> list[SourceColumn]:
    """Each source column once, with the strongest transformation it was reached by (a
    column reached along many paths would otherwise multiply through every hop)."""
    best: dict[tuple[TableName, str], Transformation] = {}
    for table, column, kind in sources:
        known = best.get((table, column))
        best[(table, column)] = kind if known is None else stronger(known, kind)
    return [(table, column, kind) for (table, column), kind in best.items()]


def classify(projection: exp.Expr) -> Transformation:
    inner = projection.this if isinstance(projection, exp.Alias) else projection
    if isinstance(inner, exp.Column | exp.Table):
        return Transformation.IDENTITY
    if inner.find(exp.AggFunc) is not None:
        return Transformation.AGGREGATION
    return Transformation.TRANSFORMATION


def qualified(query: exp.Query, dialect: str, schema: dict[str, object]) -> exp.Query:
    """The query with every column qualified (and `*` expanded) as far as the schema allows,
    in place: a statement is analysed once, and copying it cost a tenth of the analysis.

    The query is prepared (identifiers normalized, tables qualified: `names.prepare`) and so
    is the schema, so this is sqlglot's `qualify` without its first two passes, over a
    schema that takes names as they are instead of normalizing each one at every lookup.
    """
    known = _PreparedSchema(schema, dialect=sqlglot_dialect(dialect), normalize=False)
    try:
        result = _qualify_columns(query, known)
    except OptimizeError:
        # sqlglot refuses a bare name in a LATERAL function's arguments while any source's
        # columns are unknown; placing such names by elimination first often settles it.
        if not attributed_by_elimination(query, known):
            raise
        result = _qualify_columns(query, known)
    return result


class _PreparedSchema(MappingSchema):
    """A schema keyed by prepared names (taken as they are); with no tables at all, every
    lookup answers at once instead of normalizing the table it is asked about."""

    def column_names(
        self,
        table: exp.Table | str,
        only_visible: bool = False,
        dialect: DialectType = None,
        normalize: bool | None = None,
    ) -> list[str]:
        if not self.mapping:
            return []
        return super().column_names(table, only_visible, dialect, normalize)


def _qualify_columns(query: exp.Query, schema: MappingSchema) -> exp.Query:
    result = qualify_columns(
        query, schema, expand_alias_refs=False, allow_partial_qualification=True
    )
    assert isinstance(result, exp.Query)
    return result


@dataclass(frozen=True)
class _Outputs:
    """A SELECT's projections by output name (the first of a name, as in SQL), and by
    case-folded name where only one output folds to it."""

    exact: dict[str, exp.Expr]
    folded: dict[str, exp.Expr]

    @classmethod
    def of(cls, select: exp.Select) -> _Outputs:
        exact: dict[str, exp.Expr] = {}
        alike: dict[str, list[exp.Expr]] = {}
        for projection in select.expressions:
            exact.setdefault(projection.alias_or_name, projection)
            alike.setdefault(projection.alias_or_name.casefold(), []).append(projection)
        return cls(exact, {key: found[0] for key, found in alike.items() if len(found) == 1})


@dataclass
class _Walker:
    root: Scope
    memo: dict[tuple[int, str], list[SourceColumn]] = field(default_factory=dict)
    scope_of: dict[int, Scope] = field(default_factory=dict)
    """Subquery scopes by their SELECT, for columns inside scalar subqueries."""

    all_scopes: dict[int, Scope] = field(default_factory=dict)
    """Every scope by its expression, for LATERAL subqueries."""
    projections: dict[int, _Outputs] = field(default_factory=dict)
    """Each SELECT's outputs, by its expression."""
    aliases: dict[int, set[str]] = field(default_factory=dict)
    """Each SELECT's output aliases, by its scope."""
    reads: list[TableName] = field(default_factory=list)
    """The base tables the query reads, scope by scope."""
    inferred: set[tuple[TableName, str]] = field(default_factory=set)
    """Base-table columns known only by inference through a star (no schema said so)."""
    ambiguous: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    """Unqualified columns several sources could hold, with no schema to say which:
    (column, candidate sources). Never guessed: reported."""

    def __post_init__(self) -> None:
        for scope in self.root.traverse():
            self.all_scopes.setdefault(id(scope.expression), scope)
            for subquery in scope.subquery_scopes:
                self.scope_of[id(subquery.expression)] = subquery
            self.reads += tables_of(scope)

    def outputs(self) -> list[tuple[str, list[SourceColumn]]]:
        return [(name, self.column(self.root, name)) for name in _names(self.root)]

    def influences(self) -> list[Influence]:
        """Columns that decide which rows exist, in every scope of the query."""
        found: list[Influence] = []
        for scope in self.root.traverse():
            select = scope.expression
            if not isinstance(select, exp.Select):
                continue
            for subtype, clause in [*_row_clauses(select), *_shaping_clauses(select)]:
                for column in clause.find_all(exp.Column):
                    found += [
                        (table, name, subtype) for table, name, _ in self._sources(column, scope)
                    ]
        return list(dict.fromkeys(found))

    def column(self, scope: Scope, name: str) -> list[SourceColumn]:
        key = (id(scope), name)
        if key not in self.memo:
            self.memo[key] = []  # breaks cycles (recursive CTEs)
            self.memo[key] = self._resolve(scope, name)
        return self.memo[key]

    def _resolve(self, scope: Scope, name: str) -> list[SourceColumn]:
        if scope.set_operation_scopes:  # UNION etc.: every branch's column at that position
            names = _names(scope)
            position = names.index(name) if name in names else -1
            found: list[SourceColumn] = []
            for branch in scope.set_operation_scopes:
                branch_names = _names(branch)
                if 0 <= position < len(branch_names):
                    found += self.column(branch, branch_names[position])
            return _strongest(found)
        select = scope.expression
        if isinstance(select, exp.UDTF):  # UNNEST, FLATTEN, LATERAL: from their arguments
            return self._table_function(scope, select, name)
        if not isinstance(select, exp.Select):
            return []
        projection = self._projection(select, name)
        if projection is None:
            return self._through_star(scope, select, name)
        kind = classify(projection)
        return _strongest(
            (table, source_column, stronger(kind, step))
            for column in value_columns(projection)
            for table, source_column, step in self._sources(column, scope)
        )

    def _projection(self, select: exp.Select, name: str) -> exp.Expr | None:
        """The SELECT's output `name` (the first of that name, as in SQL); failing that,
        the only one whose name differs from it in case alone: a quoted lower-case name
        (`"loaded_at"`) read unquoted (`loaded_at`, which Snowflake folds to LOADED_AT).
        SQL that runs means that column, whatever setting of the warehouse lets it."""
        outputs = self.projections.get(id(select))
        if outputs is None:
            outputs = self.projections[id(select)] = _Outputs.of(select)
        return outputs.exact.get(name) or outputs.folded.get(name.casefold())

    def _through_star(self, scope: Scope, select: exp.Select, name: str) -> list[SourceColumn]:
        """A column an outer query names that this SELECT only passes on through `*` (or
        `t.*`) with no schema to expand it: it comes from the one source the star can
        stand for, or the only one of several that could hold it (the others' columns
        being known and lacking it), and is marked inferred. Otherwise: unresolved."""
        stars = [p for p in select.expressions if is_star(p)]
        candidates = set()
        for star in stars:
            if isinstance(star, exp.Column) and star.table:
                candidates.add(star.table)
            else:
                candidates |= set(scope.selected_sources)
        if len(candidates) > 1:
            starred = {a: s for a, s in selected(scope).items() if a in candidates}
            holder = only_holder(starred, name, None)
            candidates = {holder} if holder is not None else set()
        if len(candidates) != 1:
            return []
        source = scope.sources.get(next(iter(candidates)))
        if isinstance(source, exp.Table):
            source = cte_behind(scope, source) or source
        if isinstance(source, exp.Table):
            self.inferred.add((table_name(source), name))
            return [(table_name(source), name, Transformation.IDENTITY)]
        return self.column(source, name) if isinstance(source, Scope) else []

    def _table_function(self, scope: Scope, function: exp.UDTF, name: str) -> list[SourceColumn]:
        inner = function.this
        if isinstance(inner, exp.Subquery):  # LATERAL (SELECT ...): its column by name
            child = self.all_scopes.get(id(inner.this))
            return self.column(child, name) if child is not None else []
        found: list[SourceColumn] = []
        for argument in function.find_all(exp.Column):
            for table, column, _ in self._sources(argument, scope):
                found.append((table, column, Transformation.TRANSFORMATION))
        return found

    def _sources(self, column: exp.Column, outer: Scope) -> list[SourceColumn]:
        """Where a column referenced in a projection of `outer` comes from."""
        if isinstance(column.this, exp.Star):
            return []
        select = column.parent_select
        # Inside a scalar subquery of the projection the column belongs to that subquery.
        scope: Scope | None = (
            outer if select is outer.expression else self.scope_of.get(id(select), outer)
        )
        while scope is not None:
            source = self._source(scope, column)
            if isinstance(source, exp.Table):
                return [(table_name(source), column.name, Transformation.IDENTITY)]
            if isinstance(source, Scope):
                return self.column(source, column.name)
            if not column.table and len(scope.selected_sources) > 1:
                # The nearest SELECT with several sources is where the name resolves; which
                # source holds it only a schema can say.
                self.ambiguous.add((column.name, tuple(sorted(scope.selected_sources))))
                return []
            scope = scope.parent  # correlated: the name belongs to an enclosing query
        return []

    def _source(self, scope: Scope, column: exp.Column) -> exp.Table | Scope | None:
        if column.table:
            source = scope.sources.get(column.table)
        elif len(scope.selected_sources) == 1:  # unqualified, and one FROM it can come from
            _, source = next(iter(scope.selected_sources.values()))
        else:  # several: the one whose columns may hold it, the others' being known
            sources = selected(scope)
            aliases = self.aliases.get(id(scope))
            if aliases is None:
                aliases = self.aliases[id(scope)] = output_aliases(scope.expression)
            owner = sole_holder(sources, column, aliases, None)
            if owner is None:
                return None
            source = sources[owner]
        if isinstance(source, exp.Table):
            return cte_behind(scope, source) or source
        return source if isinstance(source, Scope) else None


def value_columns(expression: exp.Expr) -> Iterator[exp.Column]:
    """The columns whose values flow into an expression. Inside a nested SELECT (a scalar
    subquery) only its projection's count: its WHERE, JOIN or GROUP BY columns decide
    which row is read, and are INDIRECT lineage, found with the other row clauses."""
    pending: list[exp.Expr] = [expression]
    while pending:  # a loop, not recursion: CASE chains run thousands of levels deep
        node = pending.pop()
        if isinstance(node, exp.Column):
            yield node
        elif isinstance(node, exp.Select) and node is not expression:
            pending.extend(reversed(node.expressions))
        else:
            pending.extend(node.iter_expressions(reverse=True))


def tables_of(scope: Scope) -> list[TableName]:
    """The base tables a scope reads (not CTEs, not derived tables)."""
    return [
        table_name(source)
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and cte_behind(scope, source) is None
    ]


def cte_behind(scope: Scope, table: exp.Table) -> Scope | None:
    """The CTE an unqualified table reference names, where sqlglot's scope left the table
    (a pivoted CTE, `FROM cte UNPIVOT (...)`, is kept as a table)."""
    if table.args.get("db"):
        return None
    cte = scope.cte_sources.get(table.name)
    return cte if isinstance(cte, Scope) else None


class Indirect(StrEnum):
    """How a column influences a result without flowing into it (OpenLineage INDIRECT)."""

    JOIN = "JOIN"
    FILTER = "FILTER"
    GROUP_BY = "GROUP_BY"
    SORT = "SORT"
    WINDOW = "WINDOW"  # PARTITION BY / ORDER BY of a window in the projection
    CONDITIONAL = "CONDITIONAL"  # the condition of a CASE WHEN or IF in the projection


Influence = tuple[TableName, str, Indirect]


def _row_clauses(select: exp.Select) -> list[tuple[Indirect, exp.Expr]]:
    clauses: list[tuple[Indirect, exp.Expr]] = []
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            clauses.append((Indirect.JOIN, on))
        clauses += [(Indirect.JOIN, column) for column in join.args.get("using") or []]
    for key, subtype in (
        ("where", Indirect.FILTER),
        ("having", Indirect.FILTER),
        ("qualify", Indirect.FILTER),
        ("group", Indirect.GROUP_BY),
        ("order", Indirect.SORT),
    ):
        clause = select.args.get(key)
        if clause is not None:
            clauses.append((subtype, clause))
    return clauses


def _shaping_clauses(select: exp.Select) -> list[tuple[Indirect, exp.Expr]]:
    """Parts of a projection that shape a value without being it: window specifications
    and CASE / IF conditions. Their columns stay DIRECT upstreams of that output (as
    OpenLineage producers and the reference suites count them) and are also reported
    here, with the subtype that says how they take part."""
    clauses: list[tuple[Indirect, exp.Expr]] = []
    for projection in select.expressions:
        for node in projection.find_all(exp.Window, exp.If):  # one walk; CASE branches are Ifs
            if isinstance(node, exp.If):
                clauses.append((Indirect.CONDITIONAL, node.this))
                continue
            clauses += [(Indirect.WINDOW, part) for part in node.args.get("partition_by") or []]
            if node.args.get("order") is not None:
                clauses.append((Indirect.WINDOW, node.args["order"]))
    return clauses


def _names(scope: Scope) -> list[str]:
    query = scope.expression
    return list(query.named_selects) if isinstance(query, exp.Query) else []


Ambiguity = tuple[str, tuple[str, ...]]
Resolved = tuple[
    list[tuple[str, list[SourceColumn]]],
    list[Influence],
    set[tuple[TableName, str]],
    set[Ambiguity],
    list[TableName],
]


def column_sources(query: exp.Query) -> Resolved:
    """Each output column of a qualified query with the base-table columns it derives from;
    the base-table columns that only influence which rows there are; the base-table
    columns known only by inference through a `*`; the unqualified columns several
    sources could hold; and the base tables the query reads, in the order it names them."""
    while isinstance(query, exp.Subquery):  # `INSERT INTO t (SELECT ...)`
        query = query.this
    scope = build_scope(query)
    if scope is None:
        return [], [], set(), set(), []
    walker = _Walker(scope)
    outputs, influences = walker.outputs(), walker.influences()
    return outputs, influences, walker.inferred, walker.ambiguous, walker.reads
