"""Table names: normalized per dialect, qualified with defaults, compared part by part."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_tables import qualify_tables

from ingesters.sql.dialects import sqlglot_dialect

TableName = tuple[str, ...]
"""A table's name parts, outermost first (catalog, schema, table), normalized."""

Schema = Mapping[TableName, Mapping[str, str]]
"""Known columns (name -> type) of tables, used to expand `*` and qualify columns."""


@dataclass(frozen=True)
class Defaults:
    """Database and schema that unqualified table names live in."""

    database: str | None = None
    schema: str | None = None


def dotted(name: TableName) -> str:
    """A table's dataset name: its parts joined by dots, a part that itself holds a dot or
    a double quote written quoted (`public."a.b"`), so two tables never share a name."""
    return ".".join(
        f'"{part.replace(chr(34), chr(34) * 2)}"' if "." in part or '"' in part else part
        for part in name
    )


def table_name(table: exp.Table) -> TableName:
    return tuple(part.name for part in table.parts)


def prepare(statement: exp.Expr, dialect: str, defaults: Defaults) -> exp.Expr:
    """Normalize identifier case for the dialect and qualify table names with defaults."""
    normalized = normalize_identifiers(statement, dialect=sqlglot_dialect(dialect))
    _mark_recursive_ctes(normalized)
    return qualify_tables(
        normalized, db=defaults.schema, catalog=defaults.database, dialect=sqlglot_dialect(dialect)
    )


def normalized_table(table: exp.Table, dialect: str) -> TableName:
    """A table's name parts as prepared statements name it (identifier case per dialect)."""
    prepared = prepare(table, dialect, Defaults())
    assert isinstance(prepared, exp.Table)
    return table_name(prepared)


def normalized_column(name: str, dialect: str) -> str:
    """A column name as the dialect normalizes an unquoted identifier."""
    return normalize_identifiers(exp.to_identifier(name), dialect=sqlglot_dialect(dialect)).name


def _mark_recursive_ctes(statement: exp.Expr) -> None:
    """Flag WITH clauses whose CTEs read themselves as RECURSIVE: Snowflake and others
    allow the keyword to be left out, and without it the self-reference would be taken
    for a table of the default schema."""
    for with_ in statement.find_all(exp.With):
        if with_.args.get("recursive"):
            continue
        for cte in with_.expressions:
            name = cte.alias
            if any(not t.args.get("db") and t.name == name for t in cte.this.find_all(exp.Table)):
                with_.set("recursive", True)
                break


def normalize_schema(
    tables: Mapping[str, Mapping[str, str | None]], dialect: str, defaults: Defaults
) -> dict[TableName, dict[str, str]]:
    """A user-given schema ({"db.table": {column: type}}) keyed like prepared statements."""
    normalized: dict[TableName, dict[str, str]] = {}
    for name, columns in tables.items():
        table = prepare(exp.to_table(name, dialect=sqlglot_dialect(dialect)), dialect, defaults)
        assert isinstance(table, exp.Table)
        normalized[table_name(table)] = {
            normalized_column(c, dialect): (t or "UNKNOWN") for c, t in columns.items()
        }
    return normalized


def partially_named(
    schema: Mapping[TableName, Mapping[str, str]], named: Iterable[TableName]
) -> dict[TableName, dict[str, str]]:
    """Schema entries for tables a statement names with fewer or more parts than the
    schema does, under the statement's own name: `orders` and `public.orders` are the
    schema's `shop.public.orders`, and `shop.public.orders` its `public.orders`, when no
    other table of the schema ends in the same parts (names keep the SQL's spelling, so
    lineage names the tables as the SQL does). Ambiguous names stay unresolved."""
    if not schema:
        return {}
    by_last: dict[str, list[TableName]] = {}
    found: dict[TableName, dict[str, str]] = {}
    for name in dict.fromkeys(named):
        if name in schema or not name:
            continue
        if not by_last:
            for key in schema:
                by_last.setdefault(key[-1], []).append(key)
        matches = [key for key in by_last.get(name[-1], []) if _same_ending(key, name)]
        if len(matches) == 1:
            found[name] = dict(schema[matches[0]])
    return found


def _same_ending(one: TableName, other: TableName) -> bool:
    """One name is the other's trailing parts (`public.orders`, `shop.public.orders`)."""
    shared = min(len(one), len(other))
    return one[-shared:] == other[-shared:]
