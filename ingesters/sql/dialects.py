"""Which sqlglot dialect a warehouse speaks, from an OpenLineage namespace scheme or a dbt
adapter type (both name the warehouse the same way: `snowflake`, `bigquery`, ...)."""

from __future__ import annotations

import difflib
from functools import lru_cache

from sqlglot import Dialect
from sqlglot.dialects import Dialects

_DIALECTS = {
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "postgres": "postgres",
    "postgresql": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "trino": "trino",
    "presto": "presto",
    "databricks": "databricks",
    "spark": "spark",
    "hive": "hive",
    "sqlserver": "tsql",
    "mssql": "tsql",
    "fabric": "tsql",
    "synapse": "tsql",
    "oracle": "oracle",
    "teradata": "teradata",
    "athena": "athena",
    "clickhouse": "clickhouse",
}


def dialect_of(namespace: str) -> str:
    """`snowflake` for `snowflake://acct` or `snowflake`; empty when unknown."""
    scheme = namespace.split("://", 1)[0].lower() if "://" in namespace else namespace.lower()
    return _DIALECTS.get(scheme, "")


def unknown_dialect(name: str) -> str:
    """The message for a dialect sqlglot does not know: the near names, or all of them;
    a warehouse's own name (`sqlserver`, `postgresql`) suggests its dialect."""
    names = sorted(d.value for d in Dialects if d.value)
    near = [_DIALECTS[name.lower()]] if name.lower() in _DIALECTS else []
    near += [n for n in difflib.get_close_matches(name.lower(), names, 3, 0.6) if n not in near]
    hint = f"did you mean {', '.join(near)}?" if near else f"known: {', '.join(names)}"
    return f"unknown SQL dialect {name!r}; {hint}"


def known_dialect(name: str) -> bool:
    """Whether sqlglot has a dialect of this name (empty: generic SQL)."""
    if not name:
        return True
    try:
        sqlglot_dialect(name)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=64)
def sqlglot_dialect(name: str) -> Dialect:
    """sqlglot's dialect object for a name (empty: generic SQL), built once. Given a name,
    sqlglot builds a new one at every call that takes a dialect, several per statement: a
    tenth of the time short statements took."""
    return Dialect.get_or_raise(name)
