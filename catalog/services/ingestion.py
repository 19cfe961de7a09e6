"""Ingestion use cases: read a source, parse it with an ingester, write via the write path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog.domain import dataset_ref
from catalog.services import catalog
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import sql
from ingesters.sql.names import TableName


def ingest_sql(
    store: Store,
    paths: Sequence[Path],
    options: sql.SqlOptions,
    *,
    actor: str,
    reason: str,
    progress: sql.Progress | None = None,
) -> WriteResult:
    texts, read_errors = sql.read_sql_files(paths)
    parsed = sql.parse(texts, options, progress, known_columns=_catalog_columns(store, options))
    batch = parsed.model_copy(update={"errors": [*read_errors, *parsed.errors]})
    source = "sql " + " ".join(p.as_posix() for p in paths)
    return write_batch(store, batch, WriteRequest(actor=actor, source=source, reason=reason))


def _catalog_columns(store: Store, options: sql.SqlOptions) -> sql.KnownColumns:
    """Columns the catalog already holds for tables in the ingested warehouse."""

    def lookup(tables: set[TableName]) -> dict[TableName, dict[str, str]]:
        known = {}
        for table in tables:
            columns = catalog.columns(store, dataset_ref(options.namespace, ".".join(table)))
            if columns:
                known[table] = {
                    str(c.ref.column): str(c.attrs.get("data_type", "UNKNOWN")) for c in columns
                }
        return known

    return lookup
