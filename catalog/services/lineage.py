"""Lineage around a dataset or column: a bounded walk up and/or downstream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from catalog.domain import LINEAGE_EDGE_KINDS, NodeRef
from catalog.errors import InvalidArgument, NotFound
from catalog.services import suggestions
from catalog.services.limits import DEFAULT_LIMITS, Limits, check_range
from catalog.stores.protocol import Direction, EdgeView, NodeView, Store


class LineageDirection(StrEnum):
    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"
    BOTH = "BOTH"

    def walks(self) -> list[Direction]:
        if self is LineageDirection.BOTH:
            return [Direction.UPSTREAM, Direction.DOWNSTREAM]
        return [Direction(self.value)]


@dataclass(frozen=True)
class LineageNode:
    node: NodeView
    depth: int
    """Hops from the root: negative upstream, positive downstream, 0 for the root."""


@dataclass(frozen=True)
class LineageResult:
    root: NodeRef
    nodes: list[LineageNode]
    edges: list[EdgeView]
    jobs: list[NodeView]
    """Jobs that create the edges (each edge's `job` attribute)."""
    truncated: bool
    as_of_seq: int | None


def lineage(
    store: Store,
    root: NodeRef,
    *,
    direction: LineageDirection = LineageDirection.BOTH,
    depth: int = 3,
    limit: int | None = None,
    as_of: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LineageResult:
    check_range("depth", depth, limits.max_depth)
    limit = check_range("limit", limit or limits.max_lineage_nodes, limits.max_lineage_nodes)
    edge_kinds = LINEAGE_EDGE_KINDS.get(root.kind)
    if edge_kinds is None:
        raise InvalidArgument(f"lineage is kept for datasets and columns, not {root.kind.value}")
    as_of_seq = store.seq_at(as_of) if as_of else None
    if not store.nodes([root], as_of_seq):
        if as_of is not None and store.nodes([root]):
            raise NotFound(
                f"{root} was not in the catalog yet as of {as_of.isoformat()} "
                f"(ledger entry {as_of_seq or 0}); it is now"
            )
        raise suggestions.unknown(store, root)

    depth_of: dict[str, int] = {root.key: 0}
    edges: dict[tuple[str, str, str, str], EdgeView] = {}
    truncated = False
    for walk in direction.walks():
        sign = -1 if walk is Direction.UPSTREAM else 1
        sub = store.subgraph(
            [root],
            kinds=[kind.value for kind in edge_kinds],
            direction=walk,
            depth=depth,
            limit=limit,
            as_of=as_of_seq,
        )
        truncated = truncated or sub.truncated
        for key, hops in sub.depth_of.items():
            depth_of.setdefault(key, sign * hops)
        for edge in sub.edges:
            edges.setdefault((edge.kind, edge.subject.key, edge.object.key, edge.source), edge)

    views = store.nodes([NodeRef.from_key(k) for k in depth_of], as_of_seq)
    job_keys = sorted({str(e.attrs["job"]) for e in edges.values() if "job" in e.attrs})
    jobs = store.nodes([NodeRef.from_key(k) for k in job_keys], as_of_seq)
    return LineageResult(
        root=root,
        nodes=sorted(
            (LineageNode(v, depth_of[v.ref.key]) for v in views),
            key=lambda n: (n.depth, str(n.node.ref)),
        ),
        edges=list(edges.values()),
        jobs=jobs,
        truncated=truncated,
        as_of_seq=as_of_seq,
    )
