"""Ownership use cases: apply an ownership map, assign and remove owners one at a time,
and look up who owns what (with escalation), what is unowned, and how ownership changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from catalog.domain import (
    Batch,
    EdgeKind,
    IngestError,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    owner_key,
    owner_named,
)
from catalog.errors import BatonError, InvalidArgument
from catalog.services import suggestions
from catalog.services.scan import every
from catalog.stores.protocol import Direction, EdgeView, NodeView, Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import ownership as maps
from ingesters.ownership import Conflict, Role, Target

API_SOURCE_PREFIX = "ownership-api:"
REQUIRED_ROLES = (Role.STEWARD, Role.OPERATOR)
"""Roles every dataset should have someone in; `unowned` lists those missing one."""


class InvalidMap(BatonError):
    code = "INVALID_ARGUMENT"

    def __init__(self, errors: list[IngestError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Ownership:
    owner: NodeView
    role: str
    target: NodeRef
    source: str
    via: str | None
    effective_from: str | None
    effective_to: str | None
    inherited: bool = False
    """True for a column's owner that comes from its dataset."""
    supersedes: tuple[str, ...] = ()
    """Owners whose earlier hold on this role and target ends where this one starts (a
    completed owner handoff), whichever source asserted theirs."""


def apply_map(
    store: Store, path: Path, *, actor: str, reason: str
) -> tuple[WriteResult, list[Conflict]]:
    """Resolve the map against every dataset the catalog knows and write the result as the
    map's source: what an earlier version of the map assigned and this one does not is
    ended (a recorded handoff, with history)."""
    ownership, errors = maps.read_map(path)
    if ownership is None:
        raise InvalidMap(errors)
    targets = list(_targets(store))
    assignments, conflicts = maps.resolve(ownership, targets)
    promises = maps.freshness(ownership, targets)
    batch = Batch(snapshots=[maps.snapshot(ownership.name, ownership, assignments, promises)])
    result = write_batch(
        store,
        batch,
        WriteRequest(actor=actor, source=f"ownership map {path.as_posix()}", reason=reason),
    )
    return result, conflicts


def _targets(store: Store) -> Iterator[Target]:
    """Every dataset with its domain: its own `domain` or `meta.domain`, else that of a
    contract it publishes."""
    contract_domains: dict[str, str] = {}
    for contract in every(store, NodeKind.CONTRACT):
        domain = contract.attrs.get("domain")
        for dataset in contract.attrs.get("datasets") or []:
            if domain and isinstance(dataset, dict):
                ref = NodeRef(**dataset["ref"])
                contract_domains.setdefault(ref.key, domain)
    for view in every(store, NodeKind.DATASET):
        yield Target(view.ref, own_domain(view) or contract_domains.get(view.ref.key))


def own_domain(view: NodeView) -> str | None:
    """A dataset's own domain: its `domain` attribute or dbt's `meta.domain`."""
    meta = view.attrs.get("meta")
    domain = view.attrs.get("domain") or (meta.get("domain") if isinstance(meta, dict) else None)
    return domain if isinstance(domain, str) else None


def owners_of(
    store: Store, target: NodeRef, at: date | None = None, as_of: datetime | None = None
) -> list[Ownership]:
    """Who owns `target` on `at` (default today, or the day of `as_of`), each role; a
    column inherits every role its dataset has that no owner holds on the column itself.
    `as_of` answers from what the catalog recorded at that instant (None: now)."""
    at = at or (as_of.date() if as_of else None)
    own = _effective(_ownerships(store, target, as_of), at)
    if target.column is None:
        return own
    held = {o.role for o in own}
    inherited = [
        Ownership(**{**o.__dict__, "inherited": True})
        for o in _effective(_ownerships(store, target.dataset, as_of), at)
        if o.role not in held
    ]
    return own + inherited


def owners_of_many(
    store: Store, targets: list[NodeRef], at: date | None = None, as_of: datetime | None = None
) -> dict[str, list[Ownership]]:
    """Owners asserted on each target (no inheritance), on `at`, in one query: target key
    -> ownerships."""
    if not targets:
        return {}
    seq = store.seq_at(as_of) if as_of else None
    sub = store.subgraph(
        targets, kinds=[EdgeKind.OWNS.value], direction=Direction.UPSTREAM, depth=1,
        limit=len(targets) + 100_000, as_of=seq,
    )  # fmt: skip
    found: dict[str, list[Ownership]] = {}
    at = at or (as_of.date() if as_of else None)
    for o in _effective(_expand(store, list(sub.edges), seq), at):
        found.setdefault(o.target.key, []).append(o)
    return found


def _ownerships(store: Store, target: NodeRef, as_of: datetime | None) -> list[Ownership]:
    edges = [
        e
        for e in store.edge_history(target)
        if e.kind == EdgeKind.OWNS.value and e.object == target and _valid(e, as_of)
    ]
    return _expand(store, edges, store.seq_at(as_of) if as_of else None)


def _valid(edge: EdgeView, as_of: datetime | None) -> bool:
    if as_of is None:
        return edge.valid_to is None
    return edge.valid_from <= as_of and (edge.valid_to is None or edge.valid_to > as_of)


def _expand(store: Store, edges: list[EdgeView], seq: int | None = None) -> list[Ownership]:
    views = {v.ref.key: v for v in store.nodes(list({e.subject for e in edges}), seq)}
    found = []
    for edge in edges:
        for role, terms in (edge.attrs.get("roles") or {}).items():
            found.append(
                Ownership(
                    owner=views[edge.subject.key],
                    role=role,
                    target=edge.object,
                    source=edge.source,
                    via=terms.get("via"),
                    effective_from=terms.get("effective_from"),
                    effective_to=terms.get("effective_to"),
                    supersedes=tuple(terms.get("supersedes", ())),
                )
            )
    return sorted(found, key=lambda o: (o.role, str(o.owner.ref), o.source))


def _effective(found: list[Ownership], at: date | None) -> list[Ownership]:
    day = (at or datetime.now(UTC).date()).isoformat()
    current = [
        o
        for o in found
        if (o.effective_from or "") <= day and (o.effective_to is None or day <= o.effective_to)
    ]
    return [o for o in current if not any(_supersedes(s, o) for s in current)]


def _supersedes(newer: Ownership, older: Ownership) -> bool:
    return (
        owner_key(older.owner.ref) in newer.supersedes
        and newer.role == older.role
        and newer.target == older.target
        and (older.effective_from or "") < (newer.effective_from or "")
    )


def owned_by(
    store: Store, owner: NodeRef, at: date | None = None, as_of: datetime | None = None
) -> list[Ownership]:
    """Everything `owner` holds a role on, on `at` (default today), as recorded at `as_of`;
    NOT_FOUND for an owner the catalog has never heard of."""
    if not store.nodes([owner]):
        raise suggestions.unknown(store, owner, "owner")
    sub = store.subgraph(
        [owner], kinds=[EdgeKind.OWNS.value], direction=Direction.DOWNSTREAM, depth=1,
        limit=100_000, as_of=store.seq_at(as_of) if as_of else None,
    )  # fmt: skip
    targets = sorted({e.object for e in sub.edges}, key=lambda r: r.key)
    # Others' holds on the same targets decide whether a handoff superseded this owner's.
    everyone = owners_of_many(store, targets, at, as_of)
    return [o for found in everyone.values() for o in found if o.owner.ref == owner]


def unowned(
    store: Store, roles: tuple[str, ...] = REQUIRED_ROLES, at: date | None = None
) -> list[tuple[NodeRef, list[str]]]:
    """Datasets with nobody in one of `roles`, and which roles they miss."""
    held: dict[str, set[str]] = {}
    for owner in every(store, NodeKind.OWNER):
        for o in owned_by(store, owner.ref, at):
            held.setdefault(o.target.key, set()).add(o.role)
    missing = []
    for view in every(store, NodeKind.DATASET):
        lacking = [r for r in roles if r not in held.get(view.ref.key, set())]
        if lacking:
            missing.append((view.ref, lacking))
    return missing


def history(store: Store, target: NodeRef) -> list[EdgeView]:
    """Every OWNS edge `target` ever had, ended ones included, oldest first."""
    return [
        e
        for e in store.edge_history(target)
        if e.kind == EdgeKind.OWNS.value and e.object == target
    ]


def _api_source(owner: NodeRef, target: NodeRef) -> str:
    return f"{API_SOURCE_PREFIX}{owner.key}->{target.key}"


def assign(
    store: Store,
    target: NodeRef,
    owner: str,
    role: str,
    *,
    actor: str,
    reason: str,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> WriteResult:
    """Give `owner` a role on `target` (other roles it holds there stay)."""
    _check_role(role)
    if effective_from and effective_to and effective_to < effective_from:
        raise InvalidArgument("`to` is before `from`")
    who = owner_named(owner)
    roles = _api_roles(store, who, target)
    terms: dict[str, Any] = {"via": "api"}
    terms |= {
        k: v.isoformat()
        for k, v in (("effective_from", effective_from), ("effective_to", effective_to))
        if v
    }
    roles[role] = terms
    return _write_api(store, who, target, roles, actor=actor, reason=reason)


def remove(
    store: Store, target: NodeRef, owner: str, role: str, *, actor: str, reason: str
) -> WriteResult:
    """End `owner`'s role on `target` given through the API (history keeps it)."""
    who = owner_named(owner)
    roles = _api_roles(store, who, target)
    if role not in roles:
        raise InvalidArgument(f"{who} holds no {role} role on {target} given through the API")
    del roles[role]
    return _write_api(store, who, target, roles, actor=actor, reason=reason)


def _check_role(role: str) -> None:
    if role not in Role.__members__.values():
        known = ", ".join(r.value for r in Role)
        raise InvalidArgument(f"unknown role {role!r}; one of {known}")


def _api_roles(store: Store, owner: NodeRef, target: NodeRef) -> dict[str, dict[str, Any]]:
    source = _api_source(owner, target)
    for edge in store.edge_history(target):
        if edge.source == source and edge.valid_to is None and edge.kind == EdgeKind.OWNS.value:
            return {role: dict(terms) for role, terms in edge.attrs["roles"].items()}
    return {}


def _write_api(
    store: Store,
    owner: NodeRef,
    target: NodeRef,
    roles: dict[str, dict[str, Any]],
    *,
    actor: str,
    reason: str,
) -> WriteResult:
    builder = SnapshotBuilder(_api_source(owner, target))
    for role, terms in roles.items():
        builder.owns(owner, target, role, **terms)
        if target.column is not None:
            builder.edge(EdgeKind.HAS_COLUMN, builder.node(target.dataset), target)
    batch = Batch(snapshots=[builder.build()])
    return write_batch(
        store, batch, WriteRequest(actor=actor, source="ownership api", reason=reason)
    )
