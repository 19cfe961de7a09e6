"""Ingestion use cases: read a source, parse it with an ingester, write via the write path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import sql


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
    parsed = sql.parse(texts, options, progress)
    batch = parsed.model_copy(update={"errors": [*read_errors, *parsed.errors]})
    source = "sql " + " ".join(p.as_posix() for p in paths)
    return write_batch(store, batch, WriteRequest(actor=actor, source=source, reason=reason))
