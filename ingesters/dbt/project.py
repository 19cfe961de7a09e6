"""A dbt project as one source snapshot: its relations, jobs, lineage, owners, consumers,
contracts and checks.

Each function adds one aspect of the manifest to the project's snapshot builder; `parse`
in the package runs them in order. Table lineage comes from dbt's own `depends_on`;
column lineage from compiled SQL is added on top by `compiled_sql`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.contracts import ContractColumn, ContractDataset, ContractVersion
from catalog.domain import (
    TEAM,
    EdgeKind,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    column_ref,
    job_ref,
    owner_named,
    owner_ref,
)
from ingesters.dbt.artifacts import (
    Catalog,
    ColumnInfo,
    Manifest,
    ManifestNode,
    Owner,
    SemanticManifest,
    SourceDefinition,
)
from ingesters.dbt.relations import Relations

JOB_TYPES = frozenset({"model", "snapshot", "seed"})
"""Nodes dbt runs to build their relation: each is a job writing that relation."""


def _compact(**attrs: Any) -> dict[str, Any]:
    """Attributes worth storing: drop empty values so facts stay small and stable."""
    return {key: value for key, value in attrs.items() if value not in (None, "", [], {})}


def add_datasets(
    builder: SnapshotBuilder, manifest: Manifest, relations: Relations, catalog: Catalog | None
) -> None:
    """Models, seeds, snapshots and sources as datasets, with their documented and
    cataloged columns."""
    for node in _relation_nodes(manifest):
        dataset = relations.dataset(node.unique_id)
        if dataset is None:
            continue
        if isinstance(node, SourceDefinition):
            attrs = _compact(
                dbt_unique_id=node.unique_id,
                dbt_resource_type="source",
                description=node.description or node.source_description,
                source_name=node.source_name,
                loader=node.loader,
                tags=node.tags,
                meta={**node.source_meta, **node.meta},
                file=node.original_file_path,
            )
        else:
            attrs = _compact(
                dbt_unique_id=node.unique_id,
                dbt_resource_type=node.resource_type,
                description=node.description,
                materialized=node.materialized,
                access=node.access,
                group=node.group or node.config.group,
                version=node.version,
                tags=node.tags,
                meta=node.owner_meta,
                file=node.original_file_path,
            )
        table = catalog.table(node.unique_id) if catalog else None
        if table is not None:
            stats = {k: v.get("value") for k, v in table.stats.items() if k != "has_stats"}
            attrs |= _compact(type=table.metadata.type, stats=stats)
        builder.node(dataset, **attrs)
        _add_columns(builder, dataset, relations, node.columns.values())
        if table is not None:
            for column in table.columns.values():
                ref = column_ref(dataset.namespace, dataset.name, relations.column(column.name))
                builder.node(
                    ref,
                    **_compact(data_type=column.type, ordinal=column.index, comment=column.comment),
                )
                builder.edge(EdgeKind.HAS_COLUMN, dataset, ref)


def _add_columns(
    builder: SnapshotBuilder, dataset: NodeRef, relations: Relations, columns: Iterable[ColumnInfo]
) -> None:
    for column in columns:
        ref = column_ref(dataset.namespace, dataset.name, relations.column(column.name))
        builder.node(
            ref,
            **_compact(
                description=column.description,
                data_type=column.data_type,
                tags=column.tags,
                meta=column.meta,
                documented=True,
            ),
        )
        builder.edge(EdgeKind.HAS_COLUMN, dataset, ref)


def add_jobs(
    builder: SnapshotBuilder,
    manifest: Manifest,
    relations: Relations,
    job_namespace: str,
    coverage: Mapping[str, str],
) -> dict[str, NodeRef]:
    """Each model, snapshot and seed as a job writing its relation and reading what it
    `depends_on` (ephemeral parents included: they are datasets dbt inlines as CTEs).
    FEEDS edges say how complete the model's column lineage is (`coverage`: COMPLETE,
    PARTIAL, NONE; absent when its SQL was not analysed), which impact analysis needs to
    tell "not affected" from "possibly affected". Returns unique_id -> job."""
    jobs: dict[str, NodeRef] = {}
    for node in manifest.nodes.values():
        target = relations.dataset(node.unique_id)
        if node.resource_type not in JOB_TYPES or target is None:
            continue
        job = builder.node(
            job_ref(job_namespace, node.unique_id),
            **_compact(
                type=f"DBT_{node.resource_type.upper()}",
                materialized=node.materialized,
                sql=node.compiled_code,
                file=node.original_file_path,
            ),
        )
        jobs[node.unique_id] = job
        builder.edge(EdgeKind.WRITES, job, target, model=node.unique_id)
        for parent in node.depends_on.nodes:
            upstream = relations.dataset(parent)
            if upstream is None or upstream == target:
                continue
            builder.edge(EdgeKind.READS, job, upstream, model=node.unique_id)
            builder.edge(
                EdgeKind.FEEDS,
                upstream,
                target,
                job=job.key,
                model=node.unique_id,
                evidence="depends_on",
                **(
                    {"column_lineage": coverage[node.unique_id]}
                    if node.unique_id in coverage
                    else {}
                ),
            )
    return jobs


def add_owners(
    builder: SnapshotBuilder, manifest: Manifest, relations: Relations, role: str
) -> None:
    """dbt groups as teams owning their models (the group's owner is the team contact),
    and `meta.owner` / `meta.owners` of models and sources as owners."""
    teams = {}
    for group in manifest.groups.values():
        teams[group.name] = builder.node(
            owner_ref(TEAM, group.name),
            **_compact(
                name=group.name,
                contact_name=group.owner.name,
                contact_email=_first_email(group.owner),
                dbt_unique_id=group.unique_id,
            ),
        )
    for node in _relation_nodes(manifest):
        dataset = relations.dataset(node.unique_id)
        if dataset is None:
            continue
        if isinstance(node, SourceDefinition):
            team, meta = None, {**node.source_meta, **node.meta}
        else:
            team, meta = node.group or node.config.group, node.owner_meta
        if team in teams:
            builder.owns(teams[team], dataset, role, via="dbt group")
        for owner in _meta_owners(meta):
            builder.owns(owner, dataset, role, via="dbt meta")


def _meta_owners(meta: Mapping[str, Any]) -> list[NodeRef]:
    found = []
    for key in ("owner", "owners"):
        value = meta.get(key)
        for name in value if isinstance(value, list) else [value]:
            if isinstance(name, str) and name.strip():
                found.append(owner_named(name))
    return found


def _first_email(owner: Owner) -> str | None:
    emails = owner.email if isinstance(owner.email, list) else [owner.email]
    return next((e for e in emails if e), None)


def add_exposures(
    builder: SnapshotBuilder, manifest: Manifest, relations: Relations, job_namespace: str
) -> None:
    """Exposures as consumers using the datasets they depend on, owned by their owner."""
    for exposure in manifest.exposures.values():
        consumer = builder.node(
            NodeRef(kind=NodeKind.CONSUMER, namespace=job_namespace, name=exposure.unique_id),
            **_compact(
                name=exposure.label or exposure.name,
                type=exposure.type,
                maturity=exposure.maturity,
                url=exposure.url,
                description=exposure.description,
                tags=exposure.tags,
            ),
        )
        for parent in exposure.depends_on.nodes:
            dataset = relations.dataset(parent)
            if dataset is not None:
                builder.edge(EdgeKind.USES, consumer, dataset)
        email = _first_email(exposure.owner)
        if email or exposure.owner.name:
            owner = builder.node(
                owner_named(email or exposure.owner.name or ""),
                **_compact(name=exposure.owner.name, email=email),
            )
            builder.owns(owner, consumer, "consumer", via="dbt exposure")


def add_contracts(builder: SnapshotBuilder, manifest: Manifest, relations: Relations) -> int:
    """Enforced model contracts as contract versions of the model's dataset, in the same
    shape as ODCS contracts (so diff, drift and pins work on both). The contract id is
    `dbt:<package>.<model>`; the version is the model version (1 when unversioned) with
    the contract checksum as build metadata, e.g. `1.0.0+271f821cf894`: dbt bumps no
    number when a contract changes, so the checksum keeps each content its own version."""
    count = 0
    for node in manifest.nodes.values():
        contract = node.enforced_contract
        dataset = relations.dataset(node.unique_id)
        if contract is None or dataset is None:
            continue
        version = dbt_contract_version(node, dataset, relations, contract.checksum)
        builder.edge(
            EdgeKind.HAS_CONTRACT,
            dataset,
            builder.node(version.ref, digest=version.digest, **version.model_dump(mode="json")),
        )
        count += 1
    return count


def dbt_contract_version(
    node: ManifestNode, dataset: NodeRef, relations: Relations, checksum: str | None
) -> ContractVersion:
    """A model's contract: its columns with types, and `not_null`, `unique` and
    `primary_key` constraints (column or model level) as required, unique and key."""
    key_constraints = [
        c.get("columns") or [] for c in node.constraints if c.get("type") == "primary_key"
    ]
    model_key = [str(name) for names in key_constraints for name in names]
    columns = []
    for column in node.columns.values():
        kinds = {str(c.get("type")) for c in column.constraints}
        in_key = "primary_key" in kinds or column.name in model_key
        position = (
            (model_key.index(column.name) + 1 if column.name in model_key else 1)
            if in_key
            else None
        )
        columns.append(
            ContractColumn(
                name=relations.column(column.name),
                physical_type=column.data_type,
                required="not_null" in kinds or in_key,
                unique="unique" in kinds or in_key,
                primary_key_position=position,
                description=column.description or None,
            )
        )
    major = int(str(node.version)) if str(node.version or "").isdigit() else 1
    return ContractVersion(
        contract_id=f"dbt:{node.package_name}.{node.name}",
        version=f"{major}.0.0+{(checksum or 'unversioned')[:12]}",
        name=node.name,
        description=node.description or None,
        datasets=(ContractDataset(ref=dataset, object_name=node.name, columns=tuple(columns)),),
        standard="dbt model contract",
    )


def add_checks(
    builder: SnapshotBuilder, manifest: Manifest, relations: Relations, job_namespace: str
) -> int:
    """Data tests as checks on the dataset, or the column, they test."""
    count = 0
    for node in manifest.nodes.values():
        if node.resource_type != "test":
            continue
        check = builder.node(
            NodeRef(kind=NodeKind.CHECK, namespace=job_namespace, name=node.unique_id),
            **_compact(
                name=node.name,
                test=node.test_metadata.name if node.test_metadata else "singular",
                arguments=_test_arguments(node),
                severity=node.config.severity,
                description=node.description,
                file=node.original_file_path,
            ),
        )
        count += 1
        for dataset in _tested(node, relations):
            if node.column_name:
                column = builder.node(
                    column_ref(dataset.namespace, dataset.name, relations.column(node.column_name))
                )
                builder.edge(EdgeKind.HAS_COLUMN, dataset, column)
                builder.edge(EdgeKind.CHECKS, check, column)
            else:
                builder.edge(EdgeKind.CHECKS, check, dataset)
    return count


def _test_arguments(node: ManifestNode) -> dict[str, Any]:
    """A generic test's arguments, without the Jinja that only says which model it is on."""
    if node.test_metadata is None:
        return {}
    return {
        k: v for k, v in node.test_metadata.arguments.items() if k not in ("model", "column_name")
    }


def _tested(node: ManifestNode, relations: Relations) -> list[NodeRef]:
    """The dataset a test is attached to (dbt >= 1.5 says), else every relation it reads."""
    parents = [node.attached_node] if node.attached_node else node.depends_on.nodes
    return [d for d in (relations.dataset(p) for p in parents) if d is not None]


def add_semantic_layer(
    builder: SnapshotBuilder,
    semantic: SemanticManifest,
    relations: Relations,
    manifest: Manifest,
    job_namespace: str,
) -> None:
    """Semantic models as facts on their dataset; metrics as consumers of the datasets
    whose measures they aggregate."""
    by_relation = {
        (n.database, n.schema_, n.alias or n.name): n.unique_id
        for n in manifest.nodes.values()
        if n.resource_type == "model"
    }
    measure_datasets: dict[str, NodeRef] = {}
    for model in semantic.semantic_models:
        where = model.node_relation
        unique_id = (
            by_relation.get((where.database, where.schema_name, where.alias)) if where else None
        )
        dataset = relations.dataset(unique_id) if unique_id else None
        if dataset is None:
            continue
        builder.node(
            dataset,
            semantic_model=_compact(
                name=model.name,
                description=model.description,
                entities=[e.get("name") for e in model.entities],
                dimensions=[d.get("name") for d in model.dimensions],
                measures=[m.get("name") for m in model.measures],
            ),
        )
        measure_datasets |= {str(m.get("name")): dataset for m in model.measures}
    for metric in semantic.metrics:
        consumer = builder.node(
            NodeRef(kind=NodeKind.CONSUMER, namespace=job_namespace, name=f"metric.{metric.name}"),
            **_compact(
                name=metric.label or metric.name,
                type="metric",
                metric_type=metric.type,
                description=metric.description,
            ),
        )
        for measure in metric.type_params.input_measures:
            if measure.name in measure_datasets:
                builder.edge(EdgeKind.USES, consumer, measure_datasets[measure.name])


def _relation_nodes(manifest: Manifest) -> list[ManifestNode | SourceDefinition]:
    nodes: list[ManifestNode | SourceDefinition] = [
        n for n in manifest.nodes.values() if n.resource_type in JOB_TYPES
    ]
    return [*nodes, *manifest.sources.values()]
