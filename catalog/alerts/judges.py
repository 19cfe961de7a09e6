"""Judging observations against the graph: a schema change is contract drift only where
a contract covers the dataset; dropped columns are a breaking change only where something
downstream derives from them; a contract version is breaking only against the one before.
Each judge turns one raw event into the alert events it calls for, or into none.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog import compatibility
from catalog.alerts.events import JUDGED, AlertEvent, EventType
from catalog.alerts.model import OutboxEvent
from catalog.contracts import ContractVersion, latest_versions
from catalog.domain import LINEAGE_EDGE_KINDS, EdgeKind, NodeKind, NodeRef, column_ref
from catalog.errors import NotFound
from catalog.services import contracts
from catalog.services.impact import bfs_paths
from catalog.stores.protocol import Direction, EdgeView, Store

DOWNSTREAM_DEPTH = 10
DOWNSTREAM_LIMIT = 2000
LISTED = 20
"""Downstream assets (with their paths) a breaking-change message names."""


def judge(store: Store, items: Sequence[OutboxEvent]) -> dict[int, list[AlertEvent]]:
    """Outbox event id -> the alert events it stands for (itself, unless it is raw)."""
    contracted = _contracts_of(
        store, [i.event.subject for i in items if i.event.type is EventType.SCHEMA_CHANGED]
    )
    judged: dict[int, list[AlertEvent]] = {}
    for item in items:
        event = item.event
        if event.type not in JUDGED:
            judged[item.id] = [event]
        elif event.type is EventType.SCHEMA_CHANGED:
            judged[item.id] = _drift(store, event, contracted.get(event.subject.key, []))
        elif event.type is EventType.COLUMNS_DROPPED:
            judged[item.id] = _dropped(store, event)
        else:
            judged[item.id] = _published(store, event)
    return judged


def _contracts_of(store: Store, datasets: list[NodeRef]) -> dict[str, list[ContractVersion]]:
    """Dataset key -> the latest version of each contract it publishes (one read)."""
    if not datasets:
        return {}
    bound = store.subgraph(
        datasets, kinds=[EdgeKind.HAS_CONTRACT.value], direction=Direction.DOWNSTREAM,
        depth=1, limit=len(datasets) + 10_000,
    )  # fmt: skip
    found: dict[str, list[ContractVersion]] = {}
    for edge in bound.edges:
        try:
            version = contracts.version(store, edge.object.namespace, edge.object.name)
        except NotFound:
            continue
        found.setdefault(edge.subject.key, []).append(version)
    return {key: latest_versions(versions) for key, versions in found.items()}


def _drift(store: Store, event: AlertEvent, bound: list[ContractVersion]) -> list[AlertEvent]:
    """Per contract on the dataset: drift appeared (or still there), or cleared."""
    judged = []
    for contract in bound:
        found = [
            d for d in contracts.drift(store, contract.contract_id, contract.version)
            if d.dataset == event.subject
        ]  # fmt: skip
        attrs = {
            "contract": contract.contract_id,
            "version": contract.version,
            "drift": [f"{d.kind.value} {d.column}" if d.column else d.kind.value for d in found],
        }
        kind = EventType.DRIFT_APPEARED if found else EventType.DRIFT_CLEARED
        judged.append(AlertEvent(kind, event.subject, event.source, attrs))
    return judged


def _dropped(store: Store, event: AlertEvent) -> list[AlertEvent]:
    """Columns dropped that something downstream still derives from: breaking."""
    dataset = event.subject
    columns = [column_ref(dataset.namespace, dataset.name, c) for c in event.attrs["columns"]]
    kinds = [k.value for k in LINEAGE_EDGE_KINDS[NodeKind.COLUMN]]
    walk = store.subgraph(
        columns, kinds=kinds, direction=Direction.DOWNSTREAM, depth=DOWNSTREAM_DEPTH,
        limit=DOWNSTREAM_LIMIT,
    )  # fmt: skip
    if not walk.edges:
        return []
    paths = _paths(columns, walk.edges)
    reached = sorted({NodeRef.from_key(k).dataset for k in paths}, key=str)
    attrs = {
        "columns": event.attrs["columns"],
        "downstream": [str(r) for r in reached[:LISTED]],
        "downstream_keys": [r.key for r in reached[:LISTED]],
        "count": len(reached),
        "paths": [" -> ".join(paths[k]) for k in sorted(paths)[:LISTED]],
        "truncated": walk.truncated,
    }
    return [AlertEvent(EventType.CHANGE_BREAKING, dataset, event.source, attrs)]


def _paths(seeds: list[NodeRef], edges: list[EdgeView]) -> dict[str, list[str]]:
    """Each node reached (seeds aside) -> its lineage path from a seed, as names (the
    first path found breadth-first, as impact analysis finds them)."""
    hops, _ = bfs_paths(seeds, edges)
    return {
        key: [path[0].source_node, *(hop.target_node for hop in path)]
        for key, path in hops.items()
        if path
    }


def _published(store: Store, event: AlertEvent) -> list[AlertEvent]:
    """A contract version with breaking changes from the version before it: who pins an
    older version or reads its datasets must hear of it."""
    contract_id, number = event.subject.namespace, event.subject.name
    versions = contracts.versions(store, contract_id)
    new = next((v for v in versions if v.version == number), None)
    older = [v for v in versions if new is not None and v.semver < new.semver]
    if new is None or not older:
        return []
    breaking = [str(c) for c in compatibility.diff(older[-1], new) if c.breaking]
    if not breaking:
        return []
    pins = [p for p in contracts.dependents(store, contract_id) if p.version != number]
    below = store.subgraph(
        [d.ref for d in new.datasets], kinds=[EdgeKind.FEEDS.value],
        direction=Direction.DOWNSTREAM, depth=DOWNSTREAM_DEPTH, limit=DOWNSTREAM_LIMIT,
    )  # fmt: skip
    paths = _paths([d.ref for d in new.datasets], below.edges)
    attrs = {
        "contract": contract_id,
        "version": number,
        "previous": older[-1].version,
        "breaking": breaking,
        "pinned": [f"{p.dependent} pins {p.version}" for p in pins],
        "pinned_keys": [p.dependent.key for p in pins],
        "datasets": [d.ref.key for d in new.datasets],
        "downstream": [str(NodeRef.from_key(k)) for k in sorted(paths)[:LISTED]],
        "downstream_keys": sorted(paths)[:LISTED],
        "count": len(paths),
        "paths": [" -> ".join(paths[k]) for k in sorted(paths)[:LISTED]],
    }
    return [AlertEvent(EventType.CONTRACT_BREAKING, event.subject, event.source, attrs)]
