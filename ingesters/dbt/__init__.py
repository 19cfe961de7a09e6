"""dbt ingester: a project's artifacts in, normalized batches out.

`read_artifacts` loads and validates every artifact before anything is built (a bad one
raises `ArtifactError` naming file and JSON path), and `parse` is pure over them. The
project is one source (`dbt:<project>`): re-ingesting it replaces what it asserted before,
so a removed model's edges are ended. Each run_results file is its own source, keyed by
its invocation, so test outcomes accumulate as history and the latest one shows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from catalog.domain import (
    Batch,
    EdgeKind,
    IngestError,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    SourceSnapshot,
    job_ref,
    last_write,
)
from catalog.heap import release_freed_heap
from ingesters.dbt import project
from ingesters.dbt.artifacts import (
    ArtifactError,
    Catalog,
    Manifest,
    ManifestNode,
    RunResults,
    SemanticManifest,
    load,
    read_artifact,
    validated,
)
from ingesters.dbt.compiled_sql import Columns, ModelSql, analyse_models
from ingesters.dbt.relations import Relations
from ingesters.fingerprints import input_fingerprint
from ingesters.sql import assert_column_lineage, default_namespace
from ingesters.sql.dialects import dialect_of
from ingesters.sql.names import TableName

SOURCE_PREFIX = "dbt:"
RUN_SOURCE_PREFIX = "dbt-run:"
ARTIFACT_FILES = {
    "manifest": ("manifest.json", "manifest.json.gz"),
    "catalog": ("catalog.json", "catalog.json.gz"),
    "run_results": ("run_results.json", "run_results.json.gz"),
    "semantic_manifest": ("semantic_manifest.json", "semantic_manifest.json.gz"),
}


@dataclass(frozen=True)
class DbtOptions:
    namespace: str | None = None
    """OpenLineage namespace of the warehouse; `<adapter>://default` when not given."""
    job_namespace: str = "dbt"
    owner_role: str = "steward"
    """The role dbt groups and `meta.owner` owners hold on what they own."""
    column_lineage: bool = True


@dataclass(frozen=True)
class DbtArtifacts:
    manifest_file: str
    manifest: Manifest
    catalog: Catalog | None = None
    run_results: RunResults | None = None
    semantic: SemanticManifest | None = None
    project_digest: str = ""
    """sha256 over the bytes the project is read from (manifest, catalog, semantic
    manifest; not run results, which are read every time)."""


@dataclass(frozen=True)
class ArtifactPaths:
    manifest: Path
    catalog: Path | None = None
    run_results: Path | None = None
    semantic_manifest: Path | None = None

    @classmethod
    def find(cls, path: Path) -> ArtifactPaths:
        """A dbt `target/` folder's artifacts, or a manifest file and the artifacts beside it."""
        folder = path if path.is_dir() else path.parent
        found: dict[str, Path] = {}
        for kind, names in ARTIFACT_FILES.items():
            existing = [folder / name for name in names if (folder / name).is_file()]
            if existing:
                found[kind] = existing[0]
        if not path.is_dir():
            found["manifest"] = path
        elif "manifest" not in found:
            raise ArtifactError(path.as_posix(), "$", "no manifest.json(.gz) in this folder")
        return cls(**found)


def read_artifacts(paths: ArtifactPaths) -> DbtArtifacts:
    """Load and validate every artifact; the first bad one raises `ArtifactError`."""
    digest = hashlib.sha256()

    def project_file(label: str, file: Path) -> bytes:
        data = read_artifact(file)
        digest.update(label.encode() + hashlib.sha256(data).digest())
        return data

    manifest, catalog, semantic = paths.manifest, paths.catalog, paths.semantic_manifest
    read = DbtArtifacts(
        manifest_file=manifest.as_posix(),
        manifest=validated(Manifest, project_file("manifest", manifest), manifest.as_posix()),
        catalog=validated(Catalog, project_file("catalog", catalog), catalog.as_posix())
        if catalog
        else None,
        run_results=load(RunResults, paths.run_results) if paths.run_results else None,
        semantic=validated(
            SemanticManifest, project_file("semantic", semantic), semantic.as_posix()
        )
        if semantic
        else None,
        project_digest=digest.hexdigest(),
    )
    release_freed_heap()  # the files' text and the parser's own memory
    return read


def fingerprint(artifacts: DbtArtifacts, options: DbtOptions) -> str:
    """What the project snapshot `parse` builds is a function of (`ingesters.fingerprints`)."""
    return input_fingerprint(artifacts.project_digest, asdict(options))


def project_job(manifest: Manifest, options: DbtOptions) -> NodeRef:
    """The project itself, as the job its models are tasks of: its facts record the
    ingest that asserted them (`input_fingerprint`, `ingest_errors`, `ingest_counts`)."""
    return job_ref(options.job_namespace, f"project.{project_name(manifest)}")


def project_name(manifest: Manifest) -> str:
    """The root project: named in the metadata since dbt 1.6, else the package most
    nodes belong to."""
    if manifest.metadata.project_name:
        return manifest.metadata.project_name
    packages = Counter(n.package_name for n in manifest.nodes.values() if n.package_name)
    return packages.most_common(1)[0][0] if packages else "dbt"


def relations_of(manifest: Manifest, options: DbtOptions) -> Relations:
    adapter = manifest.metadata.adapter_type or ""
    dialect = dialect_of(adapter)
    return Relations.of(manifest, dialect, options.namespace or default_namespace(adapter or "dbt"))


def parse(
    artifacts: DbtArtifacts,
    options: DbtOptions,
    progress: Callable[[int, int], None] | None = None,
) -> Batch:
    """The project's snapshot (and one per run_results), with counts for the summary.

    A model whose compiled SQL cannot be analysed keeps its table lineage and is
    reported in `errors`; the snapshot stays complete, since its table lineage is.
    """
    manifest = artifacts.manifest
    relations = relations_of(manifest, options)
    errors: list[IngestError] = []
    compiled = [
        n
        for n in manifest.nodes.values()
        if n.resource_type in project.JOB_TYPES and n.unique_id in relations.tables
        if n.compiled_code
    ]
    analysed: list[ModelSql] = []
    if options.column_lineage and compiled:
        authoritative, documented = known_columns(artifacts, relations)
        analysed = list(analyse_models(compiled, relations, authoritative, documented, progress))
    coverage = {m.node.unique_id: m.lineage.coverage.value for m in analysed if m.lineage}
    builder = SnapshotBuilder(SOURCE_PREFIX + project_name(manifest))
    project.add_datasets(builder, manifest, relations, artifacts.catalog)
    jobs = project.add_jobs(builder, manifest, relations, options.job_namespace, coverage)
    project.add_owners(builder, manifest, relations, options.owner_role)
    project.add_exposures(builder, manifest, relations, options.job_namespace)
    project.add_contracts(builder, manifest, relations)
    project.add_checks(builder, manifest, relations, options.job_namespace)
    if artifacts.semantic is not None:
        project.add_semantic_layer(
            builder, artifacts.semantic, relations, manifest, options.job_namespace
        )
    for model in analysed:
        if model.lineage is None:
            errors.append(_model_error(artifacts.manifest_file, model))
        else:
            _add_sql_lineage(builder, model, jobs[model.node.unique_id], relations)
    counts = dict(Counter(f"{ref.kind.value.lower()}s" for ref in builder.declared()))
    counts |= {
        "models_with_sql": len(compiled),
        "models_with_column_lineage": len(compiled) - len(errors) if options.column_lineage else 0,
    }
    builder.node(
        project_job(manifest, options),
        input_fingerprint=fingerprint(artifacts, options),
        ingest_errors=[e.model_dump(exclude={"source"}, exclude_none=True) for e in errors],
        ingest_counts=counts,
    )
    snapshots = [builder.build(), *run_snapshots(artifacts, options, relations)]
    return Batch(snapshots=snapshots, errors=errors, counts=counts)


def run_snapshots(
    artifacts: DbtArtifacts, options: DbtOptions, relations: Relations | None = None
) -> list[SourceSnapshot]:
    """What the run results say (outcomes, last writes): read whether or not the project
    itself needs reading again."""
    if artifacts.run_results is None:
        return []
    relations = relations or relations_of(artifacts.manifest, options)
    return [
        _run_snapshot(artifacts.run_results, options.job_namespace),
        *_writes(artifacts.run_results, options.job_namespace, relations),
    ]


def recorded_ingest(
    artifacts: DbtArtifacts, options: DbtOptions, facts: Mapping[str, Any]
) -> Batch:
    """The batch of an ingest that does not read the project again: its run results, and
    the errors and counts the earlier ingest of the same project recorded (`facts` of
    its project job)."""
    errors = [
        IngestError(source=artifacts.manifest_file, **error)
        for error in facts.get("ingest_errors", [])
    ]
    return Batch(
        snapshots=run_snapshots(artifacts, options),
        errors=errors,
        counts={**facts.get("ingest_counts", {}), "unchanged_project": 1},
    )


def known_columns(
    artifacts: DbtArtifacts, relations: Relations
) -> tuple[dict[TableName, Columns], dict[TableName, Columns]]:
    """Columns known before SQL is read: (catalog.json and contracts, documented)."""
    authoritative: dict[TableName, Columns] = {}
    documented: dict[TableName, Columns] = {}
    nodes: Mapping[str, ManifestNode | object] = {
        **artifacts.manifest.nodes,
        **artifacts.manifest.sources,
    }
    for unique_id, table in relations.tables.items():
        node = nodes[unique_id]
        columns = {
            relations.column(c.name): c.data_type or "UNKNOWN"
            for c in getattr(node, "columns", {}).values()
        }
        cataloged = artifacts.catalog.table(unique_id) if artifacts.catalog else None
        if cataloged is not None and cataloged.columns:
            ordered = sorted(cataloged.columns.values(), key=lambda c: c.index or 0)
            authoritative[table] = {relations.column(c.name): c.type or "UNKNOWN" for c in ordered}
        elif isinstance(node, ManifestNode) and node.enforced_contract and columns:
            authoritative[table] = columns
        elif columns:
            documented[table] = columns
    return authoritative, documented


def _add_sql_lineage(
    builder: SnapshotBuilder, model: ModelSql, job: NodeRef, relations: Relations
) -> None:
    """Column lineage from the compiled SQL; a table it reads that `depends_on` does not
    name (a hard-coded relation) is added with `evidence: sql`."""
    assert model.lineage is not None
    target = relations.dataset_of(model.lineage.target or ())
    where = {"model": model.node.unique_id}
    declared = {relations.tables.get(p) for p in model.node.depends_on.nodes}
    for read in model.lineage.reads:
        if read in declared or read == model.lineage.target:
            continue
        upstream = builder.node(relations.dataset_of(read))
        builder.edge(EdgeKind.READS, job, upstream, **where)
        builder.edge(EdgeKind.FEEDS, upstream, target, job=job.key, evidence="sql", **where)
    assert_column_lineage(builder, job, target, model.lineage, **where)


def _model_error(manifest_file: str, model: ModelSql) -> IngestError:
    return IngestError(
        source=manifest_file,
        field=f'nodes["{model.node.unique_id}"].compiled_code',
        message=f"{model.problem}; table lineage from depends_on kept",
    )


def _run_snapshot(results: RunResults, job_namespace: str) -> SourceSnapshot:
    """Outcomes of one invocation: test results on checks, run status on jobs."""
    invocation = results.metadata.invocation_id or results.metadata.generated_at or "unknown"
    builder = SnapshotBuilder(RUN_SOURCE_PREFIX + invocation)
    at = results.metadata.generated_at
    for result in results.results:
        kind = result.unique_id.split(".", 1)[0]
        if kind == "test":
            builder.node(
                NodeRef(kind=NodeKind.CHECK, namespace=job_namespace, name=result.unique_id),
                status=result.status,
                failures=result.failures,
                message=result.message,
                checked_at=at,
                invocation=invocation,
            )
        elif kind in project.JOB_TYPES:
            builder.node(
                job_ref(job_namespace, result.unique_id),
                last_run_status=result.status,
                last_run_at=at,
                last_run_seconds=result.execution_time,
                last_run_message=result.message,
                invocation=invocation,
            )
    return builder.build()


def _writes(results: RunResults, job_namespace: str, relations: Relations) -> list[SourceSnapshot]:
    """Each model, seed or snapshot the invocation built successfully was written then."""
    at = results.metadata.generated_at
    found = []
    for result in results.results:
        dataset = relations.dataset(result.unique_id)
        if at and dataset is not None and result.status == "success":
            found.append(last_write(dataset, at, job_ref(job_namespace, result.unique_id)))
    return found


__all__ = [
    "ArtifactError",
    "ArtifactPaths",
    "DbtArtifacts",
    "DbtOptions",
    "fingerprint",
    "known_columns",
    "parse",
    "project_job",
    "project_name",
    "read_artifacts",
    "recorded_ingest",
    "relations_of",
]
