"""The lineage explorer's graph: a lineage walk as Cytoscape elements, laid out here in
layers (upstream left, downstream right) so the browser draws thousands of nodes without
running a layout of its own, and every edge carries its evidence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from catalog.console.rendering import label
from catalog.domain import EdgeKind, NodeKind, NodeRef, owner_key
from catalog.links import node_url
from catalog.services import ownership
from catalog.services.lineage import LineageResult
from catalog.stores.protocol import Direction, EdgeView, Store
from ingesters.ownership import Role

LAYER_GAP = 300
ROW_GAP = 64
SWEEPS = 4
"""Barycentre passes (each left-to-right then right-to-left): enough to untangle the
fan-in and fan-out of dbt projects; more rarely moves a node."""


@dataclass(frozen=True)
class Placed:
    key: str
    layer: int
    row: int


def layered(layer_of: dict[str, int], links: Iterable[tuple[str, str]]) -> list[Placed]:
    """Rows within each layer ordered by the barycentre of each node's neighbours in the
    layers beside it, which keeps crossings few (Sugiyama's heuristic, without dummy
    nodes: long edges simply run across the layers between)."""
    neighbours: dict[str, list[str]] = defaultdict(list)
    for a, b in links:
        if a != b and a in layer_of and b in layer_of:
            neighbours[a].append(b)
            neighbours[b].append(a)
    layers: dict[int, list[str]] = defaultdict(list)
    for key in sorted(layer_of):
        layers[layer_of[key]].append(key)
    order = sorted(layers)
    row = {key: i for members in layers.values() for i, key in enumerate(members)}

    def barycentre(key: str) -> float:
        near = [row[n] for n in neighbours[key] if layer_of[n] != layer_of[key]]
        return sum(near) / len(near) if near else row[key]

    def sweep(sequence: list[int]) -> None:
        for index in sequence:
            members = layers[index]
            members.sort(key=barycentre)
            row.update({key: i for i, key in enumerate(members)})

    for _ in range(SWEEPS):
        sweep(order)
        sweep(order[::-1])
    return [Placed(key, layer_of[key], row[key]) for key in sorted(layer_of)]


def elements(store: Store, result: LineageResult, as_of: datetime | None) -> dict[str, Any]:
    """Cytoscape elements (nodes with positions, edges with evidence) for a walk made
    `as_of` an instant (None: now); owners and contracts as of the same instant."""
    views = {n.node.ref.key: n for n in result.nodes}
    edges = [e for e in result.edges if e.subject.key in views and e.object.key in views]
    placed = layered(
        {key: n.depth for key, n in views.items()},
        ((e.subject.key, e.object.key) for e in edges),
    )
    heights: dict[int, int] = defaultdict(int)
    for p in placed:
        heights[p.layer] += 1
    datasets = sorted({n.node.ref.dataset for n in result.nodes}, key=lambda r: r.key)
    owners = ownership.owners_of_many(store, datasets, as_of=as_of)
    contracted = _with_contracts(store, datasets, result.as_of_seq)
    jobs = {j.ref.key: j.ref.name for j in result.jobs}
    nodes = []
    for p in placed:
        ref = views[p.key].node.ref
        held = owners.get(ref.dataset.key, [])
        nodes.append(
            {
                "data": {
                    "id": p.key,
                    "label": _short(ref),
                    "name": label(ref),
                    "kind": ref.kind.value,
                    "namespace": ref.namespace,
                    "dataset": ref.name,
                    "column": ref.column,
                    "depth": p.layer,
                    "root": p.key == result.root.key,
                    "url": node_url(ref),
                    "owners": _by_role(held),
                    "contract": ref.dataset.key in contracted,
                },
                "position": {
                    "x": p.layer * LAYER_GAP,
                    "y": (p.row - (heights[p.layer] - 1) / 2) * ROW_GAP,
                },
            }
        )
    return {
        "root": result.root.key,
        "truncated": result.truncated,
        "as_of_seq": result.as_of_seq,
        "nodes": nodes,
        "edges": [_edge(i, e, jobs, _instant) for i, e in enumerate(edges)],
    }


def _by_role(held: list[ownership.Ownership]) -> list[str]:
    """Owners in the roles' declared order (steward first): the first is drawn."""
    rank = {role.value: i for i, role in enumerate(Role)}
    found = {(rank.get(o.role, len(rank)), o.role, owner_key(o.owner.ref)) for o in held}
    return [f"{role}: {owner}" for _, role, owner in sorted(found)]


def _short(ref: NodeRef) -> str:
    table = ref.name.rsplit(".", 1)[-1]
    return f"{table}.{ref.column}" if ref.kind is NodeKind.COLUMN else table


@lru_cache(maxsize=4096)
def _instant(moment: datetime) -> str:
    """An edge's validity bound as text: one write stamps thousands of edges alike."""
    return moment.isoformat(timespec="seconds")


def _edge(
    index: int, edge: EdgeView, jobs: dict[str, str], instant: Callable[[datetime], str]
) -> dict[str, Any]:
    """An edge as OpenLineage types column lineage: DIRECT (the value flows: IDENTITY,
    TRANSFORMATION, AGGREGATION) or INDIRECT (it decides rows: JOIN, FILTER, ...)."""
    attrs = edge.attrs
    job = attrs.get("job")
    return {
        "data": {
            "id": f"e{index}",
            "source": edge.subject.key,
            "target": edge.object.key,
            "kind": edge.kind,
            "type": EDGE_TYPES.get(edge.kind, "DIRECT"),
            "subtype": str(attrs.get("subtype") or attrs.get("transformation") or ""),
            "inferred": bool(attrs.get("inferred")),
            "evidence": {
                "source": edge.source,
                "line": attrs.get("line"),
                "statement": attrs.get("statement"),
                "job": jobs.get(str(job), str(job)) if job else None,
                "since": instant(edge.valid_from),
                "until": instant(edge.valid_to) if edge.valid_to else None,
            },
        }
    }


EDGE_TYPES = {EdgeKind.INFLUENCES.value: "INDIRECT", EdgeKind.ALIAS_OF.value: "ALIAS"}


def _with_contracts(store: Store, datasets: list[NodeRef], seq: int | None) -> set[str]:
    """Keys of the datasets that publish a contract, in one walk."""
    found = store.subgraph(
        datasets, kinds=[EdgeKind.HAS_CONTRACT.value], direction=Direction.DOWNSTREAM,
        depth=1, limit=len(datasets) * 20 + 100, as_of=seq,
    )  # fmt: skip
    return {e.subject.key for e in found.edges}
