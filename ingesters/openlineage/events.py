"""OpenLineage events to snapshots: jobs, datasets, columns, runs and their lineage.

Scoping follows what each event can vouch for:
- lineage (the job's inputs, outputs, column lineage and what it says of its datasets) is
  asserted by the job, source `openlineage:job:<namespace>/<name>`. A COMPLETE run event
  or a JobEvent replaces what the job asserted before; START, RUNNING and OTHER only add
  (provisional lineage); FAIL and ABORT keep the last good lineage and assert none;
- each run event is its own source, `openlineage:run:<runId>:<eventType>:<eventTime>`,
  recording that moment of the run, so a retried event changes nothing and an event
  arriving late never rewinds the run's state (readers take the latest `*_at`);
- a DatasetEvent is the dataset's own static metadata, `openlineage:dataset:<ns>/<name>`.

Facets Baton understands become attributes and edges; every facet, known or custom, is
also kept raw under `facets`, never dropped.
"""

from __future__ import annotations

from typing import Any

from catalog.domain import (
    Batch,
    EdgeKind,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    SourceSnapshot,
    column_ref,
    dataset_ref,
    job_ref,
    last_write,
    owner_named,
)
from ingesters.openlineage.sql_facet import sql_column_lineage

Event = dict[str, Any]

TERMINAL_OK = {"COMPLETE"}
PROVISIONAL = {"START", "RUNNING", "OTHER"}
_DIRECT = {"IDENTITY", "TRANSFORMATION", "AGGREGATION"}


def run_ref(job: NodeRef, run_id: str) -> NodeRef:
    return NodeRef(kind=NodeKind.RUN, namespace=job.namespace, name=run_id)


def to_batch(event: Event) -> Batch:
    """The snapshots one valid event asserts."""
    if "run" in event:
        return Batch(snapshots=_run_event(event))
    if "dataset" in event:
        return Batch(snapshots=[_dataset_event(event)])
    return Batch(snapshots=[_lineage(event, complete=True)])


def _run_event(event: Event) -> list[SourceSnapshot]:
    event_type = str(event.get("eventType") or "OTHER")
    snapshots = [_run_moment(event, event_type)]
    if event_type in TERMINAL_OK | PROVISIONAL:
        snapshots.append(_lineage(event, complete=event_type in TERMINAL_OK))
    if event_type in TERMINAL_OK:
        job = _job(event)
        snapshots += [
            last_write(dataset_ref(o["namespace"], o["name"]), event["eventTime"], job)
            for o in event.get("outputs") or []
        ]
    return snapshots


def _job(event: Event) -> NodeRef:
    return job_ref(event["job"]["namespace"], event["job"]["name"])


def _run_moment(event: Event, event_type: str) -> SourceSnapshot:
    job = _job(event)
    run_id = event["run"]["runId"]
    builder = SnapshotBuilder(f"openlineage:run:{run_id}:{event_type}:{event['eventTime']}")
    run = run_ref(job, run_id)
    facets = event["run"].get("facets") or {}
    attrs: dict[str, Any] = {f"{event_type.lower()}_at": event["eventTime"], "facets": facets}
    error = facets.get("errorMessage")
    if isinstance(error, dict):
        attrs["error_message"] = error.get("message")
    builder.node(run, **attrs)
    builder.edge(EdgeKind.HAS_RUN, builder.node(job), run)
    parent = facets.get("parent")
    if isinstance(parent, dict):  # a task's run belongs to its DAG's run
        parent_job = job_ref(parent["job"]["namespace"], parent["job"]["name"])
        parent_run = builder.node(run_ref(parent_job, parent["run"]["runId"]))
        builder.edge(EdgeKind.HAS_RUN, builder.node(parent_job), parent_run)
        builder.edge(EdgeKind.PART_OF, run, parent_run)
        builder.edge(EdgeKind.PART_OF, job, parent_job)
    return builder.build()


def _dataset_event(event: Event) -> SourceSnapshot:
    dataset = event["dataset"]
    builder = SnapshotBuilder(f"openlineage:dataset:{dataset['namespace']}/{dataset['name']}")
    _dataset(builder, dataset)
    return builder.build()


def _lineage(event: Event, *, complete: bool) -> SourceSnapshot:
    """What the job says: its inputs and outputs, their columns, and the lineage between."""
    job_node = event["job"]
    job = _job(event)
    builder = SnapshotBuilder(f"openlineage:job:{job.namespace}/{job.name}")
    job_facets = job_node.get("facets") or {}
    job_attrs: dict[str, Any] = {"type": "OPENLINEAGE", "facets": job_facets}
    sql = job_facets.get("sql")
    if isinstance(sql, dict):
        job_attrs["sql"] = sql.get("query")
    documentation = job_facets.get("documentation")
    if isinstance(documentation, dict):
        job_attrs["description"] = documentation.get("description")
    builder.node(job, **job_attrs)
    _owners(builder, job, job_facets)
    at = str(event.get("eventTime") or "")
    inputs = [_dataset(builder, d, at) for d in event.get("inputs") or []]
    known = {
        ref: [f["name"] for f in ((d.get("facets") or {}).get("schema") or {}).get("fields") or []]
        for ref, d in zip(inputs, event.get("inputs") or [], strict=True)
    }
    outputs = [_dataset(builder, d, at) for d in event.get("outputs") or []]
    where = {"job": job.key}
    for source in inputs:
        builder.edge(EdgeKind.READS, job, source)
    for target in outputs:
        builder.edge(EdgeKind.WRITES, job, target)
        for source in inputs:
            if source != target:
                builder.edge(EdgeKind.FEEDS, source, target, **where)
    explicit = False
    for output, target in zip(event.get("outputs") or [], outputs, strict=True):
        facet = (output.get("facets") or {}).get("columnLineage")
        if isinstance(facet, dict):
            explicit = True
            _column_lineage(builder, target, facet, where)
    if not explicit and isinstance(sql, dict) and len(outputs) == 1:
        for (table, column), upstreams in sql_column_lineage(
            str(sql.get("query") or ""), outputs[0], inputs, known
        ).items():
            for upstream in upstreams:
                _column_edge(
                    builder,
                    upstream,
                    column_ref(table.namespace, table.name, column),
                    "DIRECT",
                    "TRANSFORMATION",
                    {**where, "from_sql": True},
                )
    return builder.build(complete=complete)


def _aliases(builder: SnapshotBuilder, ref: NodeRef, symlinks: Any, columns: list[str]) -> None:
    """Each symlink identifier is the same dataset under another name: an alias node
    `ALIAS_OF` this one, its columns (those of the schema facet) likewise."""
    if not isinstance(symlinks, dict):
        return
    for identifier in symlinks.get("identifiers") or []:
        alias = builder.node(
            dataset_ref(identifier["namespace"], identifier["name"]),
            symlink_type=identifier.get("type"),
        )
        builder.edge(EdgeKind.ALIAS_OF, alias, ref)
        for column in columns:
            alias_column = builder.node(column_ref(alias.namespace, alias.name, column))
            builder.edge(EdgeKind.HAS_COLUMN, alias, alias_column)
            builder.edge(
                EdgeKind.ALIAS_OF, alias_column, column_ref(ref.namespace, ref.name, column)
            )


def _owners(builder: SnapshotBuilder, owned: NodeRef, facets: dict[str, Any]) -> None:
    """The `ownership` facet's owners, each owning the node in the role its `type` names."""
    ownership = facets.get("ownership")
    for owner in ownership.get("owners") or [] if isinstance(ownership, dict) else []:
        name = owner.get("name") if isinstance(owner, dict) else None
        if isinstance(name, str) and name.strip():
            role = str(owner.get("type") or "owner").lower()
            builder.owns(owner_named(name), owned, role, via="openlineage")


def _dataset(builder: SnapshotBuilder, dataset: dict[str, Any], at: str | None = None) -> NodeRef:
    ref = dataset_ref(dataset["namespace"], dataset["name"])
    facets = {**(dataset.get("facets") or {})}
    for extra in ("inputFacets", "outputFacets"):
        facets.update(dataset.get(extra) or {})
    attrs: dict[str, Any] = {"facets": facets} if facets else {}
    documentation = facets.get("documentation")
    if isinstance(documentation, dict):
        attrs["description"] = documentation.get("description")
    builder.node(ref, **attrs)
    _owners(builder, ref, facets)
    schema = facets.get("schema")
    fields = schema.get("fields") or [] if isinstance(schema, dict) else []
    _aliases(builder, ref, facets.get("symlinks"), [f["name"] for f in fields])
    for ordinal, field in enumerate(fields, 1):
        column = {"ordinal": ordinal}
        if field.get("type"):
            column["data_type"] = field["type"]
        if field.get("description"):
            column["description"] = field["description"]
        builder.edge(
            EdgeKind.HAS_COLUMN,
            ref,
            builder.node(column_ref(ref.namespace, ref.name, field["name"]), **column),
        )
    _assertions(builder, ref, facets.get("dataQualityAssertions"), at)
    return ref


def _assertions(builder: SnapshotBuilder, ref: NodeRef, facet: Any, at: str | None) -> None:
    """`dataQualityAssertions` as checks on the dataset or column, with the outcome the
    event reports (the job's next complete event replaces it, like dbt's next run)."""
    if not isinstance(facet, dict):
        return
    for assertion in facet.get("assertions") or []:
        column = assertion.get("column")
        name = f"{ref.name}:{assertion['assertion']}" + (f":{column}" if column else "")
        check = builder.node(
            NodeRef(kind=NodeKind.CHECK, namespace=ref.namespace, name=name),
            name=assertion["assertion"],
            status="success" if assertion.get("success") else "fail",
            arguments=assertion.get("params") or {},
            checked_at=at,
        )
        tested = ref
        if column:
            tested = builder.node(column_ref(ref.namespace, ref.name, column))
            builder.edge(EdgeKind.HAS_COLUMN, ref, tested)
        builder.edge(EdgeKind.CHECKS, check, tested)


def _column_lineage(
    builder: SnapshotBuilder, target: NodeRef, facet: dict[str, Any], where: dict[str, Any]
) -> None:
    for field, lineage in (facet.get("fields") or {}).items():
        downstream = column_ref(target.namespace, target.name, field)
        for source in lineage.get("inputFields") or []:
            upstream = column_ref(source["namespace"], source["name"], source["field"])
            for transformation in source.get("transformations") or [{"type": "DIRECT"}]:
                _column_edge(
                    builder,
                    upstream,
                    downstream,
                    transformation.get("type", "DIRECT"),
                    transformation.get("subtype"),
                    where,
                )
    for source in facet.get("dataset") or []:  # dataset-level (indirect) dependencies
        upstream = column_ref(source["namespace"], source["name"], source["field"])
        builder.edge(EdgeKind.HAS_COLUMN, builder.node(upstream.dataset), builder.node(upstream))
        for transformation in source.get("transformations") or []:
            builder.edge(
                EdgeKind.INFLUENCES,
                upstream,
                target,
                subtype=transformation.get("subtype"),
                **where,
            )


def _column_edge(
    builder: SnapshotBuilder,
    upstream: NodeRef,
    downstream: NodeRef,
    kind: str,
    subtype: str | None,
    where: dict[str, Any],
) -> None:
    for column in (upstream, downstream):
        builder.edge(EdgeKind.HAS_COLUMN, builder.node(column.dataset), builder.node(column))
    if kind == "INDIRECT":
        builder.edge(EdgeKind.INFLUENCES, upstream, downstream.dataset, subtype=subtype, **where)
        return
    transformation = subtype if subtype in _DIRECT else "TRANSFORMATION"
    builder.edge(EdgeKind.DERIVES, upstream, downstream, transformation=transformation, **where)
