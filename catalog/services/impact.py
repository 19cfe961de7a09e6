"""Impact analysis: from a change set to everything downstream it reaches, with evidence,
confidence, owners to notify, contracts broken, sign-offs needed and a severity.

Column changes are followed through column lineage (DERIVES, then INFLUENCES into the
datasets whose rows a column decides): those results are certain. Where a dataset feeds
another without complete column lineage (unresolved `SELECT *`, unparsed SQL, table-level
sources), the downstream dataset is possibly affected, and so is everything it feeds.
Dropping or renaming a dataset, or changing a job, breaks every reader for certain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from catalog import compatibility
from catalog.contracts import ContractVersion, latest_versions
from catalog.domain import EdgeKind, NodeKind, NodeRef
from catalog.errors import NotFound
from catalog.impact import (
    CONFIDENCE_RANK,
    Affected,
    Change,
    ChangeKind,
    Confidence,
    ContractViolation,
    Hop,
    ImpactReport,
    OwnerToNotify,
    Severity,
)
from catalog.services import catalog, contracts, ownership, suggestions
from catalog.services.limits import check_range
from catalog.stores.protocol import Direction, EdgeView, Store

DEFAULT_DEPTH = 10
MAX_DEPTH = 20
DEFAULT_LIMIT = 1_000
MAX_LIMIT = 5_000
COLUMN_LINEAGE_COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class ChangeRequest:
    kind: ChangeKind
    target: NodeRef
    new_name: str | None = None
    new_type: str | None = None
    old_type: str | None = None
    """The type before the change, when the caller knows it (else the catalog's)."""
    compatible: bool | None = None
    """Whether readers keep working (values may still change); None: Baton decides."""


@dataclass
class _Found:
    ref: NodeRef
    confidence: Confidence
    lineage: str
    depth: int
    path: tuple[Hop, ...]


@dataclass
class _Walk:
    store: Store
    depth: int
    limit: int
    found: dict[str, _Found] = field(default_factory=dict)
    truncated_at: list[str] = field(default_factory=list)

    def improves(self, key: str, confidence: Confidence) -> bool:
        """Whether reaching `key` with `confidence` says more than what was found."""
        known = self.found.get(key)
        return known is None or CONFIDENCE_RANK[known.confidence] < CONFIDENCE_RANK[confidence]

    def add(
        self, ref: NodeRef, confidence: Confidence, lineage: str, path: tuple[Hop, ...]
    ) -> bool:
        if not self.improves(ref.key, confidence):
            return False
        known = self.found.get(ref.key)
        if known is None and len(self.found) >= self.limit:
            self.truncated_at.append(str(ref))
            return False
        self.found[ref.key] = _Found(ref, confidence, lineage, len(path), path)
        return True


def analyse(
    store: Store,
    requests: Sequence[ChangeRequest],
    *,
    depth: int = DEFAULT_DEPTH,
    limit: int = DEFAULT_LIMIT,
) -> ImpactReport:
    """The impact of `requests`; NOT_FOUND, naming each and the nearest names, when a
    change names something the catalog does not hold (an unknown thing is not SAFE)."""
    _require_known(store, requests)
    changes = [_change(store, r) for r in requests]
    walk = traverse(store, requests, depth=depth, limit=limit)
    affected = _affected(walk)
    owners, unowned = _owners(store, affected)
    violations = _contracts(store, requests, changes, walk)
    sign_offs = _sign_offs(store, requests)
    severity, rule = _severity(changes, affected, violations)
    return ImpactReport(
        changes=tuple(changes),
        affected=affected,
        owners=owners,
        unowned=unowned,
        contracts=violations,
        sign_offs=sign_offs,
        severity=severity,
        rule=rule,
        depth=depth,
        limit=limit,
        truncated=bool(walk.truncated_at),
        truncated_at=tuple(sorted(set(walk.truncated_at))),
    )


def _require_known(store: Store, requests: Sequence[ChangeRequest]) -> None:
    targets = {r.target.key: r.target for r in requests}
    known = {view.ref.key for view in store.nodes(list(targets.values()))}
    missing = [
        ref for key, ref in targets.items() if key not in known and not _columns_unknown(store, ref)
    ]
    if len(missing) == 1:
        raise suggestions.unknown(store, missing[0])
    if missing:
        reasons = "; ".join(str(suggestions.unknown(store, ref)) for ref in missing[:10])
        raise NotFound(
            f"{len(missing)} of the {len(targets)} changed things are not in the catalog "
            f"(wrong namespace or name?): {reasons}"
        )


def _columns_unknown(store: Store, ref: NodeRef) -> bool:
    """A column of a dataset the catalog holds without any columns (read by `SELECT *`
    from an undescribed source, say): the column may well exist, and the walk reports
    table-level impact as possible."""
    return (
        ref.kind is NodeKind.COLUMN
        and bool(store.nodes([ref.dataset]))
        and not catalog.columns(store, ref.dataset)
    )


def traverse(store: Store, requests: Sequence[ChangeRequest], *, depth: int, limit: int) -> _Walk:
    """The graph walk alone: everything the change set reaches, with paths."""
    check_range("depth", depth, MAX_DEPTH)
    check_range("limit", limit, MAX_LIMIT)
    walk = _Walk(store, depth, limit)
    changed_keys = {r.target.key for r in requests}
    columns = [r.target for r in requests if r.target.kind is NodeKind.COLUMN]
    _follow_columns(walk, columns, changed_keys)
    _follow_tables(walk, columns, _dataset_seeds(store, requests), changed_keys)
    _add_jobs(walk)
    _add_consumers(walk, [r.target for r in requests])
    return walk


def _change(store: Store, request: ChangeRequest) -> Change:
    compatible = request.kind is ChangeKind.CHANGE_COLUMN
    if request.compatible is not None:
        compatible = request.compatible
    elif request.kind is ChangeKind.RETYPE_COLUMN and request.new_type:
        current = store.nodes([request.target])
        old_type = request.old_type or (current[0].attrs.get("data_type") if current else None)
        compatible = isinstance(old_type, str) and compatibility.widens(old_type, request.new_type)
    return Change(
        kind=request.kind,
        target=request.target.key,
        label=str(request.target),
        new_name=request.new_name,
        new_type=request.new_type,
        compatible=compatible,
    )


def _hop(edge: EdgeView) -> Hop:
    attrs = edge.attrs
    indirect = edge.kind == EdgeKind.INFLUENCES.value
    line = attrs.get("line")
    file = edge.source.removeprefix("sql:") if edge.source.startswith("sql:") else None
    where = f"{file}:{line}" if file and line else attrs.get("model") or edge.source
    return Hop(
        kind=edge.kind,
        source_node=str(edge.subject),
        target_node=str(edge.object),
        lineage="INDIRECT" if indirect else "DIRECT",
        detail=attrs.get("transformation") or attrs.get("subtype"),
        job=str(NodeRef.from_key(attrs["job"])) if attrs.get("job") else None,
        where=str(where) if where else None,
    )


def _follow_columns(walk: _Walk, seeds: list[NodeRef], changed: set[str]) -> None:
    """Column lineage: DERIVES (and aliases) to columns, then INFLUENCES to datasets."""
    if not seeds:
        return
    sub = walk.store.subgraph(
        seeds, kinds=[EdgeKind.DERIVES.value, EdgeKind.ALIAS_OF.value],
        direction=Direction.DOWNSTREAM, depth=walk.depth, limit=walk.limit,
    )  # fmt: skip
    paths, inferred = bfs_paths(seeds, sub.edges)

    def confidence(key: str) -> Confidence:
        return Confidence.INFERRED if key in inferred else Confidence.CERTAIN

    for key in sorted(sub.depth_of, key=lambda k: (sub.depth_of[k], k)):
        if key not in changed:
            walk.add(NodeRef.from_key(key), confidence(key), "DIRECT", paths[key])
    if sub.truncated:
        walk.truncated_at += [
            str(NodeRef.from_key(k))
            for k, d in sub.depth_of.items()
            if d == max(sub.depth_of.values())
        ]
    reached = [NodeRef.from_key(k) for k in sub.depth_of]
    influences = walk.store.subgraph(
        reached, kinds=[EdgeKind.INFLUENCES.value], direction=Direction.DOWNSTREAM,
        depth=1, limit=walk.limit + len(reached),
    )  # fmt: skip
    for edge in sorted(influences.edges, key=lambda e: (e.object.key, e.subject.key)):
        walk.add(
            edge.object,
            confidence(edge.subject.key),
            "INDIRECT",
            (*paths.get(edge.subject.key, ()), _hop(edge)),
        )
    for key in list(walk.found):  # a dataset whose column is affected is affected
        column = walk.found[key]
        if column.ref.kind is NodeKind.COLUMN:
            walk.add(column.ref.dataset, column.confidence, column.lineage, column.path)


def bfs_paths(
    seeds: Iterable[NodeRef], edges: Iterable[EdgeView]
) -> tuple[dict[str, tuple[Hop, ...]], set[str]]:
    """The first path found to each node, breadth-first from the seeds; and the nodes
    whose path passes an edge inferred without a schema (`inferred` on the edge)."""
    out: dict[str, list[EdgeView]] = {}
    for edge in sorted(edges, key=lambda e: (e.subject.key, e.object.key, e.source)):
        out.setdefault(edge.subject.key, []).append(edge)
    paths: dict[str, tuple[Hop, ...]] = {s.key: () for s in seeds}
    inferred: set[str] = set()
    frontier = [s.key for s in seeds]
    while frontier:
        following = []
        for key in frontier:
            for edge in out.get(key, []):
                if edge.object.key not in paths:
                    paths[edge.object.key] = paths[key] + (_hop(edge),)
                    if key in inferred or edge.attrs.get("inferred"):
                        inferred.add(edge.object.key)
                    following.append(edge.object.key)
        frontier = following
    return paths, inferred


def _dataset_seeds(store: Store, requests: Sequence[ChangeRequest]) -> list[NodeRef]:
    """Datasets every reader of which breaks: dropped, renamed, or written by a changed job."""
    seeds = [
        r.target for r in requests if r.kind in (ChangeKind.DROP_DATASET, ChangeKind.RENAME_DATASET)
    ]
    for request in requests:
        if request.kind is ChangeKind.CHANGE_JOB:
            writes = store.subgraph(
                [request.target], kinds=[EdgeKind.WRITES.value], direction=Direction.DOWNSTREAM,
                depth=1, limit=10_000,
            )  # fmt: skip
            seeds += [e.object for e in writes.edges]
    return seeds


def _follow_tables(
    walk: _Walk, changed_columns: list[NodeRef], broken: list[NodeRef], changed: set[str]
) -> None:
    """Table lineage, hop by hop. Readers of a broken dataset are certainly affected. A
    dataset whose rows an affected column decides (INDIRECT) passes different rows to every
    reader: they are affected indirectly, with the same confidence. A dataset fed without
    complete column lineage by an affected one is possibly affected."""
    certain = {d.key for d in broken}
    origins = {c.dataset.key for c in changed_columns} | certain
    origins |= {k for k, f in walk.found.items() if f.ref.kind is NodeKind.DATASET}
    frontier = sorted(origins)
    for _ in range(walk.depth):
        if not frontier:
            return
        sub = walk.store.subgraph(
            [NodeRef.from_key(k) for k in frontier], kinds=[EdgeKind.FEEDS.value],
            direction=Direction.DOWNSTREAM, depth=1, limit=walk.limit + len(frontier),
        )  # fmt: skip
        following = []
        for edge in sorted(sub.edges, key=lambda e: (e.subject.key, e.object.key, e.source)):
            if edge.object.key in changed:
                continue
            upstream = walk.found.get(edge.subject.key)
            if edge.subject.key in certain:
                verdict: tuple[Confidence, str] | None = (Confidence.CERTAIN, "DIRECT")
            elif upstream is not None and upstream.lineage == "INDIRECT":
                verdict = (upstream.confidence, "INDIRECT")
            elif edge.attrs.get("column_lineage") != COLUMN_LINEAGE_COMPLETE:
                verdict = (Confidence.POSSIBLE, "DIRECT")
            else:
                verdict = None  # column lineage is complete: the column walk decided
            if verdict is None or not walk.improves(edge.object.key, verdict[0]):
                continue  # (most edges of a wide walk: no path built for them)
            path = (*(upstream.path if upstream else ()), _hop(edge))
            if walk.add(edge.object, *verdict, path):
                if edge.subject.key in certain:
                    certain.add(edge.object.key)
                following.append(edge.object.key)
        frontier = sorted(set(following))
    if frontier:
        walk.truncated_at += [str(NodeRef.from_key(k)) for k in frontier]


def _add_jobs(walk: _Walk) -> None:
    """The job behind the last hop to each affected node is affected with it."""
    for found in list(walk.found.values()):
        if found.path and found.path[-1].job:
            job = found.path[-1].job
            namespace, _, name = job.partition("/")
            ref = NodeRef(kind=NodeKind.JOB, namespace=namespace, name=name)
            walk.add(ref, found.confidence, found.lineage, found.path)


def _add_consumers(walk: _Walk, changed: list[NodeRef]) -> None:
    used = [f.ref for f in walk.found.values() if f.ref.kind in (NodeKind.DATASET, NodeKind.COLUMN)]
    used += changed
    if not used:
        return
    sub = walk.store.subgraph(
        used, kinds=[EdgeKind.USES.value], direction=Direction.UPSTREAM, depth=1,
        limit=walk.limit + len(used),
    )  # fmt: skip
    for edge in sorted(sub.edges, key=lambda e: (e.subject.key, e.object.key)):
        reached = walk.found.get(edge.object.key)
        confidence = reached.confidence if reached else Confidence.CERTAIN
        path = (reached.path if reached else ()) + (_hop(edge),)
        walk.add(edge.subject, confidence, reached.lineage if reached else "DIRECT", path)


def _affected(walk: _Walk) -> tuple[Affected, ...]:
    return tuple(
        Affected(
            node=f.ref.key,
            label=str(f.ref),
            kind=f.ref.kind.value,
            confidence=f.confidence,
            lineage=f.lineage,
            depth=f.depth,
            path=f.path,
        )
        for f in sorted(walk.found.values(), key=lambda f: (f.ref.kind.value, f.depth, str(f.ref)))
    )


def _owners(
    store: Store, affected: tuple[Affected, ...]
) -> tuple[tuple[OwnerToNotify, ...], tuple[str, ...]]:
    """Owners of affected datasets, columns and consumers (one query for all), grouped by
    owner and role; a column's inherited owners are its dataset's, listed there."""
    kinds = (NodeKind.DATASET.value, NodeKind.CONSUMER.value, NodeKind.COLUMN.value)
    items = [a for a in affected if a.kind in kinds]
    found = ownership.owners_of_many(store, [NodeRef.from_key(a.node) for a in items])
    groups: dict[tuple[str, str], tuple[OwnerToNotify, set[str]]] = {}
    unowned = []
    for item in items:
        held = found.get(item.node, [])
        if not held and item.kind != NodeKind.COLUMN.value:
            unowned.append(item.label)
        for o in held:
            key = (str(o.owner.ref), o.role)
            if key not in groups:
                attrs = o.owner.attrs
                contact = attrs.get("pager") or attrs.get("email") or attrs.get("slack")
                escalation = tuple(str(e) for e in attrs.get("escalation") or [])
                groups[key] = (OwnerToNotify(key[0], o.role, contact, escalation, ()), set())
            groups[key][1].add(item.label)
    owners = tuple(
        OwnerToNotify(o.owner, o.role, o.contact, o.escalation, tuple(sorted(assets)))
        for o, assets in (groups[k] for k in sorted(groups))
    )
    return owners, tuple(sorted(unowned))


def _contracts(
    store: Store, requests: Sequence[ChangeRequest], changes: list[Change], walk: _Walk
) -> tuple[ContractViolation, ...]:
    """Contract versions whose promises the change breaks: on the changed data itself, and
    on certainly affected columns downstream (their values derive from the change)."""
    violations: dict[tuple[str, str], ContractViolation] = {}
    touched: list[tuple[NodeRef, str]] = []
    for request, change in zip(requests, changes, strict=True):
        if change.compatible:
            continue
        what = {
            ChangeKind.DROP_COLUMN: "a declared column is dropped",
            ChangeKind.RENAME_COLUMN: f"a declared column is renamed to {request.new_name}",
            ChangeKind.RETYPE_COLUMN: f"a declared column becomes {request.new_type}",
            ChangeKind.DROP_DATASET: "the dataset is dropped",
            ChangeKind.RENAME_DATASET: f"the dataset is renamed to {request.new_name}",
        }.get(request.kind)
        if what is not None:
            touched.append((request.target, what))
    touched += [
        (f.ref, f"a declared column derives from {f.path[0].source_node}")
        for f in walk.found.values()
        if f.path
        and f.ref.kind is NodeKind.COLUMN
        and f.confidence is Confidence.CERTAIN
        and f.lineage == "DIRECT"
    ]
    published: dict[str, list[ContractVersion]] = {}
    for ref, reason in touched:
        dataset_key = ref.dataset.key
        if dataset_key not in published:
            published[dataset_key] = latest_versions(contracts.of_dataset(store, ref.dataset))
        for version in published[dataset_key]:
            declared = ref.column is None or any(
                d.ref == ref.dataset and d.column(ref.column) is not None for d in version.datasets
            )
            key = (version.contract_id, version.version)
            if declared and key not in violations:
                pins = [
                    p
                    for p in contracts.dependents(store, version.contract_id)
                    if p.version == version.version
                ]
                violations[key] = ContractViolation(
                    version.contract_id,
                    version.version,
                    reason,
                    tuple(sorted(str(p.dependent) for p in pins)),
                )
    return tuple(violations[k] for k in sorted(violations))


def _sign_offs(store: Store, requests: Sequence[ChangeRequest]) -> tuple[str, ...]:
    """Approvers of the changed data; where a dataset has none, the role is still named."""
    needed = set()
    for request in requests:
        dataset = request.target.dataset
        approvers = [o for o in ownership.owners_of(store, dataset) if o.role == "approver"]
        if approvers:
            needed |= {f"approver {o.owner.ref} for {dataset}" for o in approvers}
        elif request.target.kind is not NodeKind.JOB:
            needed.add(f"approver of {dataset} (nobody holds the role)")
    return tuple(sorted(needed))


def _severity(
    changes: list[Change], affected: tuple[Affected, ...], violations: tuple[ContractViolation, ...]
) -> tuple[Severity, str]:
    """The first rule that holds decides."""
    certain = [a for a in affected if a.confidence is Confidence.CERTAIN]
    inferred = [a for a in affected if a.confidence is Confidence.INFERRED]
    breaking_change = any(not c.compatible for c in changes)
    if any(v.dependents for v in violations):
        return Severity.BREAKING, "breaking: a contract version others rely on no longer holds"
    if breaking_change and any(a.lineage == "DIRECT" for a in certain):
        return Severity.BREAKING, "breaking: changed data flows, for certain, into downstream data"
    if breaking_change and any(a.lineage == "DIRECT" for a in inferred):
        return (
            Severity.RISKY,
            "risky: changed data flows into downstream data through column lineage inferred "
            "over a `*` with no schema (give Baton the schema to be sure)",
        )
    if violations:
        return Severity.RISKY, "risky: a published contract no longer holds (nobody pins it)"
    if affected:
        return (
            Severity.RISKY,
            "risky: impact is only possible, indirect, or from a compatible change",
        )
    return Severity.SAFE, "safe: nothing downstream reads the changed data"


def resolve_target(store: Store, spec: str, namespace: str | None = None) -> NodeRef:
    """`name` or `name.column` of a dataset the catalog knows (the longest dataset name
    that exists wins, so dots in names are fine)."""
    try:
        return catalog.resolve_dataset(store, spec, namespace)
    except NotFound as as_dataset:
        name, _, column = spec.rpartition(".")
        if not name:
            raise
        try:
            dataset = catalog.resolve_dataset(store, name, namespace)
        except NotFound:  # neither a dataset nor a column of one: suggest for both readings
            near = suggestions.near_nodes(store, NodeKind.DATASET, spec)
            near += suggestions.near_nodes(store, NodeKind.DATASET, name)
            raise suggestions.not_found(
                f"no dataset {spec!r} nor a dataset {name!r} with a column {column!r} "
                "in the catalog",
                list(dict.fromkeys(near))[: suggestions.MAX_SUGGESTIONS],
            ) from as_dataset
        ref = NodeRef(
            kind=NodeKind.COLUMN, namespace=dataset.namespace, name=dataset.name, column=column
        )
        if not store.nodes([ref]) and not _columns_unknown(store, ref):
            raise suggestions.unknown(store, ref) from None
        return ref
