"""Ingestion use cases: read a source, parse it with an ingester, write via the write path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog.domain import IngestError, dataset_ref
from catalog.services import catalog, source_identity
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import dbt, openlineage, sql
from ingesters.sql.names import TableName, dotted


def ingest_sql(
    store: Store,
    paths: Sequence[Path],
    options: sql.SqlOptions,
    *,
    actor: str,
    reason: str,
    progress: sql.Progress | None = None,
    project: str | None = None,
) -> WriteResult:
    """Lineage of the SQL files under `paths`, each named by its project (the folder's
    name, or `project`) and its path inside it, so another checkout is the same source;
    a file gone from a folder ingested before has its lineage retired."""
    source_identity.migrate(store, actor=actor)  # lineage written before, under typed paths
    files = sql.read_sql_files(paths, project)
    parsed = sql.parse(
        files.texts, options, progress, known_columns=catalog_columns(store, options.namespace)
    )
    errors = [*files.errors, *(files.located(e) for e in parsed.errors)]
    batch = parsed.model_copy(update={"errors": errors, "scopes": files.scopes})
    source = "sql " + " ".join(sorted({s.prefix for s in files.scopes} or files.texts))
    return write_batch(store, batch, WriteRequest(actor=actor, source=source, reason=reason))


def ingest_dbt(
    store: Store,
    paths: dbt.ArtifactPaths,
    options: dbt.DbtOptions,
    *,
    actor: str,
    reason: str,
    progress: sql.Progress | None = None,
    full: bool = False,
) -> WriteResult:
    """Read every artifact first (raises `dbt.ArtifactError`, and then writes nothing),
    then write the project and its run results in one ledger entry.

    A project the catalog holds as ingested from the same bytes with the same options
    and code (`dbt.fingerprint`) is not analysed again, unless `full`: its snapshot
    would change nothing. Its run results are read all the same, and the errors and
    counts that ingest recorded are reported again."""
    artifacts = dbt.read_artifacts(paths)
    recorded = None if full else _unchanged_project(store, artifacts, options)
    if recorded is not None:
        batch = dbt.recorded_ingest(artifacts, options, recorded)
    else:
        batch = dbt.parse(artifacts, options, progress)
    del artifacts  # the parsed manifest (GitLab's: ~250 MB) is not needed by the write
    source = f"dbt {paths.manifest.as_posix()}"
    return write_batch(store, batch, WriteRequest(actor=actor, source=source, reason=reason))


def _unchanged_project(
    store: Store, artifacts: dbt.DbtArtifacts, options: dbt.DbtOptions
) -> dict[str, Any] | None:
    """The facts of the project job, when its source asserts the fingerprint of these
    artifacts and options now (the last ingest of the project read the same input)."""
    job = dbt.project_job(artifacts.manifest, options)
    source = dbt.SOURCE_PREFIX + dbt.project_name(artifacts.manifest)
    fingerprint = dbt.fingerprint(artifacts, options)
    held = dict(store.source_facts(source, "input_fingerprint"))
    if held.get(job.key) != fingerprint:
        return None
    (view,) = store.nodes([job])
    return view.attrs


def catalog_columns(store: Store, namespace: str) -> sql.KnownColumns:
    """Columns the catalog already holds for tables in the ingested warehouse."""

    def lookup(tables: set[TableName]) -> dict[TableName, dict[str, str]]:
        known = {}
        for table in tables:
            columns = catalog.columns(store, dataset_ref(namespace, dotted(table)))
            if columns:
                known[table] = {
                    str(c.ref.column): str(c.attrs.get("data_type", "UNKNOWN")) for c in columns
                }
        return known

    return lookup


def ingest_openlineage_event(store: Store, event: Any, *, actor: str) -> WriteResult:
    """Validate and write one event (raises `InvalidEvent`, and then writes nothing)."""
    batch = openlineage.parse_event(event)
    job = event.get("job") or {}
    what = event.get("eventType") or ("dataset" if "dataset" in event else "job")
    reason = f"OpenLineage {what} {job.get('namespace', '')}/{job.get('name', '')}".rstrip("/ ")
    return write_batch(store, batch, WriteRequest(actor=actor, source="openlineage", reason=reason))


def ingest_openlineage_files(
    store: Store, paths: Sequence[Path], *, actor: str
) -> tuple[int, list[WriteResult], list[IngestError]]:
    """Every event of the files, in order, each its own write; returns (events read,
    results of the writes, errors naming file, line and JSON path)."""
    read, results, errors = 0, [], []
    for path in paths:
        for line, event in openlineage.read_events(path):
            if isinstance(event, IngestError):
                errors.append(event)
                continue
            read += 1
            try:
                results.append(ingest_openlineage_event(store, event, actor=actor))
            except openlineage.InvalidEvent as invalid:
                errors += [
                    IngestError(
                        source=path.as_posix(),
                        line=line,
                        field=p.split(":", 1)[0],
                        message=p.split(": ", 1)[-1],
                    )
                    for p in invalid.problems
                ]
    return read, results, errors
