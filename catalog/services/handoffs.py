"""Handoff use cases: create one from a policy, evaluate its gate, sign it off, complete it.

Every record goes through the write path: a handoff is its own source (`handoff:<id>`),
each sign-off another (`handoff:<id>/signoff:<sid>`, written once and never replaced), so
the ledger holds who decided what, when, and the digests they signed. Completing writes
the new stage or owners (effective from that day) and the handoff's new state in ONE
ledger entry.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from catalog.domain import (
    Batch,
    EdgeKind,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    owner_key,
    owner_named,
)
from catalog.errors import BatonError, InvalidArgument, NotFound
from catalog.handoffs import (
    Decision,
    Digests,
    Evaluation,
    Handoff,
    HandoffState,
    Move,
    Policy,
    Side,
    SignOff,
    SignOffSpec,
    blockers,
    digest_of,
    handoff_ref,
    signoff_ref,
    signoff_status,
)
from catalog.security import Forbidden, Permission, Principal, require
from catalog.services import catalog, criteria, ownership
from catalog.services.scan import every
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, utc_now, write_batch

SOURCE_PREFIX = "handoff:"
STAGE_SOURCE_PREFIX = "stage:"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class GateClosed(BatonError):
    """Completing a handoff whose criteria or sign-offs are not all satisfied."""

    code = "FAILED_PRECONDITION"


def create(
    store: Store,
    policy: Policy,
    datasets: list[NodeRef],
    *,
    move: Move,
    from_: str,
    to: str,
    roles: tuple[str, ...] = (),
    principal: Principal,
    reason: str,
    handoff_id: str | None = None,
) -> Handoff:
    """A new open handoff of `datasets` under `policy` (the product must be in the catalog)."""
    require(principal, Permission.WRITE)
    handoff_id = handoff_id or f"ho-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    if not _ID.match(handoff_id):
        raise InvalidArgument(f"handoff id {handoff_id!r}: lower-case letters, digits, . _ -")
    if store.nodes([handoff_ref(handoff_id)]):
        raise InvalidArgument(f"handoff {handoff_id} exists")
    if not datasets:
        raise InvalidArgument("a handoff needs at least one dataset")
    product = tuple(sorted({catalog.get_node(store, d).ref for d in datasets}, key=str))
    if move is Move.OWNER:
        from_, to = owner_key(owner_named(from_)), owner_key(owner_named(to))
        held = _roles_held(store, from_, product)
        not_held = sorted(set(roles) - set(held))
        if not_held:
            raise InvalidArgument(f"{from_} holds no {', '.join(not_held)} role on the product")
        roles = roles or held
    elif roles:
        raise InvalidArgument("roles change hands only in an owner handoff")
    if from_ == to:
        raise InvalidArgument(f"a handoff moves from one {move.value} to another, not to {to}")
    handoff = Handoff(
        id=handoff_id,
        policy=policy,
        datasets=product,
        move=move,
        from_=from_,
        to=to,
        roles=tuple(sorted(roles)),
        state=HandoffState.OPEN,
        created_by=principal.name,
        created_at=utc_now(),
        reason=reason,
    )
    _write(store, [_handoff_snapshot(handoff)], principal, f"create handoff: {reason}")
    return handoff


def _roles_held(store: Store, owner: str, product: tuple[NodeRef, ...]) -> tuple[str, ...]:
    held = {
        o.role
        for found in ownership.owners_of_many(store, list(product)).values()
        for o in found
        if owner_key(o.owner.ref) == owner
    }
    if not held:
        raise InvalidArgument(f"{owner} holds no role on the product; nothing to hand off")
    return tuple(sorted(held))


def get(store: Store, handoff_id: str, as_of: datetime | None = None) -> Handoff:
    found = store.nodes([handoff_ref(handoff_id)], store.seq_at(as_of) if as_of else None)
    if not found or "policy" not in found[0].attrs:
        raise NotFound(f"no handoff {handoff_id}")
    return Handoff.from_attrs(handoff_id, found[0].attrs)


def find(
    store: Store,
    *,
    state: HandoffState | None = None,
    dataset: NodeRef | None = None,
    owner: str | None = None,
    limit: int = 100,
) -> list[Handoff]:
    """Handoffs, newest first, by state, by a dataset of the product, or by an owner (the
    owner a handoff moves from or to, or one holding a role on its product)."""
    found = []
    wanted = owner_key(owner_named(owner)) if owner else None
    for handoff in _all(store):
        if state is not None and handoff.state is not state:
            continue
        if dataset is not None and dataset not in handoff.datasets:
            continue
        if wanted is not None and wanted not in _people_of(store, handoff):
            continue
        found.append(handoff)
    return sorted(found, key=lambda h: h.created_at, reverse=True)[:limit]


def _all(store: Store) -> Iterator[Handoff]:
    views = every(store, NodeKind.HANDOFF, page=500)
    yield from (Handoff.from_attrs(v.ref.name, v.attrs) for v in views if "policy" in v.attrs)


def _people_of(store: Store, handoff: Handoff) -> set[str]:
    owners = ownership.owners_of_many(store, list(handoff.datasets))
    people = {owner_key(o.owner.ref) for found in owners.values() for o in found}
    if handoff.move is Move.OWNER:
        people |= {handoff.from_, handoff.to}
    return people


def signoffs(store: Store, handoff_id: str) -> list[SignOff]:
    """Every decision on a handoff, oldest first (each is immutable)."""
    edges = [
        e
        for e in store.edge_history(handoff_ref(handoff_id))
        if e.kind == EdgeKind.SIGNS.value and e.object == handoff_ref(handoff_id)
    ]
    views = store.nodes(sorted({e.subject for e in edges}, key=lambda r: r.key))
    found = [SignOff.from_attrs(v.ref.name.rpartition("/")[2], v.attrs) for v in views]
    return sorted(found, key=lambda s: (s.at, s.id))


def evaluate(store: Store, handoff: Handoff) -> Evaluation:
    """Each criterion with its evidence, each sign-off's state, and the gate."""
    facts = criteria.facts_about(store, handoff.datasets)
    results = tuple(criteria.evaluate(store, spec, facts) for spec in handoff.policy.criteria)
    contract_versions = sorted(
        {(v.contract_id, v.version, v.digest) for vs in facts.contracts.values() for v in vs}
    )
    digests = Digests(
        checklist=digest_of(handoff.checklist()),
        contract=digest_of(contract_versions),
        impact=facts.impact.digest,
    )
    signed = signoffs(store, handoff.id)
    statuses = tuple(signoff_status(spec, signed, digests) for spec in handoff.policy.signoffs)
    return Evaluation(
        handoff=handoff,
        criteria=results,
        signoffs=statuses,
        digests=digests,
        impact=facts.impact,
        evaluated_at=utc_now(),
        blockers=blockers(handoff, results, statuses),
    )


def sign(
    store: Store,
    handoff_id: str,
    signoff_name: str,
    *,
    decision: Decision,
    comment: str,
    principal: Principal,
) -> SignOff:
    """Record the caller's decision. The signer is the authenticated principal, acting as
    the owner its token is bound to, which must hold the sign-off's role on the product."""
    require(principal, Permission.SIGN)
    handoff = get(store, handoff_id)
    if handoff.state is not HandoffState.OPEN:
        raise InvalidArgument(f"handoff {handoff_id} is {handoff.state.value}; nothing to sign")
    spec = handoff.policy.signoff(signoff_name)
    if spec is None:
        known = ", ".join(s.name for s in handoff.policy.signoffs)
        raise InvalidArgument(
            f"policy {handoff.policy.name} has no sign-off {signoff_name!r} ({known})"
        )
    if decision is Decision.REJECT and not comment.strip():
        raise InvalidArgument("a rejection needs a comment saying why")
    acting_as = _acting_as(store, principal, handoff, spec)
    evaluation = evaluate(store, handoff)
    at = utc_now()
    record = SignOff(
        id=f"{at:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}",
        handoff_id=handoff_id,
        signoff=spec.name,
        role=spec.role,
        signer=principal.name,
        acting_as=acting_as,
        decision=decision,
        comment=comment,
        at=at,
        digests=evaluation.digests,
        failing_criteria=tuple(c.name for c in evaluation.criteria if not c.passed),
    )
    source = f"{SOURCE_PREFIX}{handoff_id}/signoff:{record.id}"
    builder = SnapshotBuilder(source)
    node = builder.node(signoff_ref(handoff_id, record.id), **record.as_attrs())
    builder.edge(EdgeKind.SIGNS, node, builder.node(handoff.ref))
    _write(store, [builder], principal, f"{decision.value} {spec.name} on {handoff_id}: {comment}")
    return record


def _acting_as(store: Store, principal: Principal, handoff: Handoff, spec: SignOffSpec) -> str:
    """The owner through which `principal` holds the role, or Forbidden: nobody signs for
    someone else, and holding the approver permission is not enough without the role."""
    if principal.owner is None:
        raise Forbidden(
            f"{principal.name} is not bound to an owner; sign with a token created with --owner"
        )
    me = owner_key(owner_named(principal.owner))
    if spec.side is Side.INCOMING:
        if handoff.move is not Move.OWNER:
            raise InvalidArgument(
                f"sign-off {spec.name} is for the incoming owner of an owner move"
            )
        if _acts_for(store, me, handoff.to):
            return handoff.to
        raise Forbidden(f"{principal.name} ({me}) does not act for {handoff.to}")
    owners = ownership.owners_of_many(store, list(handoff.datasets))
    acting: set[str] = set()
    for dataset in handoff.datasets:
        holders = {
            owner_key(o.owner.ref) for o in owners.get(dataset.key, []) if o.role == spec.role
        }
        mine = {h for h in holders if _acts_for(store, me, h)}
        if not mine:
            raise Forbidden(f"{principal.name} ({me}) holds no {spec.role} role on {dataset}")
        acting |= mine
    return ", ".join(sorted(acting))


def _acts_for(store: Store, person: str, owner: str) -> bool:
    if person == owner:
        return True
    found = store.nodes([owner_named(owner)])
    return bool(found) and person in found[0].attrs.get("members", [])


def complete(store: Store, handoff_id: str, *, principal: Principal, reason: str) -> Evaluation:
    """Move the product (new stage or owners, effective today) if the gate is open."""
    require(principal, Permission.WRITE)
    handoff = get(store, handoff_id)
    evaluation = evaluate(store, handoff)
    if not evaluation.gate_open:
        raise GateClosed(f"handoff {handoff_id} cannot complete: " + "; ".join(evaluation.blockers))
    done = replace(
        handoff, state=HandoffState.COMPLETED, completed_by=principal.name, completed_at=utc_now()
    )
    day = done.completed_at.date().isoformat() if done.completed_at else ""
    builders = [_handoff_snapshot(done, evaluation.digests)]
    if done.move is Move.STAGE:
        for dataset in done.datasets:
            stage = SnapshotBuilder(f"{STAGE_SOURCE_PREFIX}{dataset}")
            stage.node(dataset, stage=done.to, stage_since=day, stage_handoff=handoff_id)
            builders.append(stage)
    else:
        owners = SnapshotBuilder(f"{SOURCE_PREFIX}{handoff_id}/owners")
        for dataset in done.datasets:
            for role in done.roles:
                owners.owns(
                    owner_named(done.to), owners.node(dataset), role,
                    via=f"handoff {handoff_id}", effective_from=day, supersedes=[done.from_],
                )  # fmt: skip
        builders.append(owners)
    _write(store, builders, principal, f"complete handoff {handoff_id}: {reason}")
    return replace(evaluation, handoff=done)


def _handoff_snapshot(handoff: Handoff, signed: Digests | None = None) -> SnapshotBuilder:
    builder = SnapshotBuilder(f"{SOURCE_PREFIX}{handoff.id}")
    attrs = handoff.as_attrs() | ({"completed_with": vars(signed)} if signed else {})
    node = builder.node(handoff.ref, **attrs)
    for dataset in handoff.datasets:
        builder.edge(EdgeKind.COVERS, node, builder.node(dataset))
    return builder


def _write(
    store: Store, builders: list[SnapshotBuilder], principal: Principal, reason: str
) -> WriteResult:
    batch = Batch(snapshots=[b.build() for b in builders])
    return write_batch(store, batch, WriteRequest(principal.name, "handoffs", reason))
