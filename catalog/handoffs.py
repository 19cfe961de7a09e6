"""Handoffs: a data product moving between stages or owners, behind a gate.

A `Policy` (YAML, docs/handoffs.md) names the exit criteria Baton evaluates and the
sign-offs required by role. A `Handoff` applies one policy version to a product (datasets)
and a move. A `SignOff` is an immutable record of one principal's decision together with
the digests of exactly what was signed: the checklist (policy, product and move), the
product's contract versions, and the impact report. When any of those digests changes,
the sign-off is stale and the gate stays closed until someone signs again.

Everything here is plain data and pure functions; `catalog.services.handoffs` evaluates
and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from catalog.domain import NodeKind, NodeRef, canonical_json, sha256_hex
from catalog.impact import ImpactReport

HANDOFF_NAMESPACE = "baton"
OWNERSHIP_ROLES = ("steward", "engineer", "operator", "approver", "consumer")
"""The roles an owner can hold on data (see `ingesters.ownership.Role`)."""


class Criterion(StrEnum):
    """The built-in exit criteria a policy picks from (docs/handoffs.md)."""

    OWNERS = "owners"
    CONTRACT_PUBLISHED = "contract_published"
    NO_CONTRACT_DRIFT = "no_contract_drift"
    NO_BREAKING_IMPACT = "no_breaking_impact"
    LINEAGE_PRESENT = "lineage_present"
    CHECKS_PASSING = "checks_passing"
    RUNBOOK_AND_ESCALATION = "runbook_and_escalation"
    COLUMNS_CLASSIFIED = "columns_classified"


CRITERION_PARAMETERS: dict[Criterion, dict[str, Any]] = {
    Criterion.OWNERS: {"roles": ["steward", "engineer", "operator"]},
    Criterion.CHECKS_PASSING: {"require_checks": True},
}
"""Parameters a criterion accepts, with their defaults; the others take none."""


class Move(StrEnum):
    STAGE = "stage"  # e.g. dev -> staging -> prod
    OWNER = "owner"  # team A -> team B


class Side(StrEnum):
    """Whose sign-off: an owner of the product now, or the owner receiving it."""

    CURRENT = "current"
    INCOMING = "incoming"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class HandoffState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionSpec(_Strict):
    name: Criterion
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_parameters(self) -> CriterionSpec:
        accepted = CRITERION_PARAMETERS.get(self.name, {})
        unknown = sorted(set(self.parameters) - set(accepted))
        if unknown:
            allowed = ", ".join(accepted) or "none"
            raise ValueError(f"{self.name.value} takes no parameter {unknown} (accepts: {allowed})")
        roles = self.parameters.get("roles", [])
        if not isinstance(roles, list) or not all(r in OWNERSHIP_ROLES for r in roles):
            raise ValueError(f"roles must be a list of {', '.join(OWNERSHIP_ROLES)}")
        return self

    def parameter(self, name: str) -> Any:
        return self.parameters.get(name, CRITERION_PARAMETERS[self.name][name])


class SignOffSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_-]*$")
    """What the sign-off is for, e.g. `engineering`, `governance`, `operations`."""
    role: str
    """The ownership role the signer must hold on every dataset of the product."""
    side: Side = Side.CURRENT
    description: str | None = None

    @field_validator("role")
    @classmethod
    def _ownership_role(cls, role: str) -> str:
        if role not in OWNERSHIP_ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(OWNERSHIP_ROLES)}")
        return role


class Policy(_Strict):
    """A versioned checklist: the exit criteria and the sign-offs a handoff needs."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str | None = None
    criteria: list[CriterionSpec] = Field(default_factory=list)
    signoffs: list[SignOffSpec] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, version: Any) -> Any:
        return str(version) if isinstance(version, int | float) else version

    @field_validator("criteria", mode="before")
    @classmethod
    def _short_forms(cls, items: Any) -> Any:
        """`- contract_published` and `- owners: {roles: [...]}` are the YAML forms."""
        if not isinstance(items, list):
            return items
        expanded: list[Any] = []
        for item in items:
            if isinstance(item, str):
                expanded.append({"name": item})
            elif isinstance(item, dict) and len(item) == 1 and "name" not in item:
                [(name, parameters)] = item.items()
                expanded.append({"name": name, "parameters": parameters or {}})
            else:
                expanded.append(item)
        return expanded

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        for what, names in (
            ("criterion", [c.name.value for c in self.criteria]),
            ("sign-off", [s.name for s in self.signoffs]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{what} listed twice: {', '.join(repeated)}")
        return self

    def signoff(self, name: str) -> SignOffSpec | None:
        return next((s for s in self.signoffs if s.name == name), None)


def handoff_ref(handoff_id: str) -> NodeRef:
    return NodeRef(kind=NodeKind.HANDOFF, namespace=HANDOFF_NAMESPACE, name=handoff_id)


def signoff_ref(handoff_id: str, signoff_id: str) -> NodeRef:
    return NodeRef(
        kind=NodeKind.SIGNOFF, namespace=HANDOFF_NAMESPACE, name=f"{handoff_id}/{signoff_id}"
    )


@dataclass(frozen=True)
class Handoff:
    id: str
    policy: Policy
    datasets: tuple[NodeRef, ...]
    move: Move
    from_: str
    """Stage or owner (`team:a`) the product leaves."""
    to: str
    roles: tuple[str, ...]
    """For owner moves: the roles that change hands."""
    state: HandoffState
    created_by: str
    created_at: datetime
    reason: str
    completed_by: str | None = None
    completed_at: datetime | None = None

    @property
    def ref(self) -> NodeRef:
        return handoff_ref(self.id)

    def checklist(self) -> dict[str, Any]:
        """What every sign-off attests to besides contracts and impact."""
        return {
            "handoff": self.id,
            "policy": self.policy.model_dump(mode="json"),
            "datasets": sorted(d.key for d in self.datasets),
            "move": [self.move.value, self.from_, self.to, sorted(self.roles)],
        }

    def as_attrs(self) -> dict[str, Any]:
        return {
            "policy": self.policy.model_dump(mode="json"),
            "datasets": [d.key for d in self.datasets],
            "move": self.move.value,
            "from": self.from_,
            "to": self.to,
            "roles": list(self.roles),
            "state": self.state.value,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "reason": self.reason,
            "completed_by": self.completed_by,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }

    @classmethod
    def from_attrs(cls, handoff_id: str, attrs: dict[str, Any]) -> Handoff:
        completed_at = attrs.get("completed_at")
        return cls(
            id=handoff_id,
            policy=Policy.model_validate(attrs["policy"]),
            datasets=tuple(NodeRef.from_key(k) for k in attrs["datasets"]),
            move=Move(attrs["move"]),
            from_=attrs["from"],
            to=attrs["to"],
            roles=tuple(attrs.get("roles", ())),
            state=HandoffState(attrs["state"]),
            created_by=attrs["created_by"],
            created_at=datetime.fromisoformat(attrs["created_at"]),
            reason=attrs["reason"],
            completed_by=attrs.get("completed_by"),
            completed_at=datetime.fromisoformat(completed_at) if completed_at else None,
        )


@dataclass(frozen=True)
class Digests:
    """What a sign-off signs; equal digests mean nothing it covered has changed."""

    checklist: str
    contract: str
    impact: str

    def changed(self, now: Digests) -> list[str]:
        return [
            name
            for name in ("checklist", "contract", "impact")
            if getattr(self, name) != getattr(now, name)
        ]


@dataclass(frozen=True)
class SignOff:
    """One immutable decision by one principal, acting as an owner."""

    id: str
    handoff_id: str
    signoff: str
    role: str
    signer: str
    """The authenticated principal, e.g. `token:sam`."""
    acting_as: str
    """The owner (person or team) through which the signer holds `role`."""
    decision: Decision
    comment: str
    at: datetime
    digests: Digests
    failing_criteria: tuple[str, ...] = ()
    """Criteria that did not pass when this was signed (signing does not require them)."""

    def as_attrs(self) -> dict[str, Any]:
        return {
            "handoff": self.handoff_id,
            "signoff": self.signoff,
            "role": self.role,
            "signer": self.signer,
            "acting_as": self.acting_as,
            "decision": self.decision.value,
            "comment": self.comment,
            "at": self.at.isoformat(),
            "digests": vars(self.digests),
            "failing_criteria": list(self.failing_criteria),
        }

    @classmethod
    def from_attrs(cls, signoff_id: str, attrs: dict[str, Any]) -> SignOff:
        return cls(
            id=signoff_id,
            handoff_id=attrs["handoff"],
            signoff=attrs["signoff"],
            role=attrs["role"],
            signer=attrs["signer"],
            acting_as=attrs["acting_as"],
            decision=Decision(attrs["decision"]),
            comment=attrs["comment"],
            at=datetime.fromisoformat(attrs["at"]),
            digests=Digests(**attrs["digests"]),
            failing_criteria=tuple(attrs.get("failing_criteria", ())),
        )


@dataclass(frozen=True)
class CriterionResult:
    name: str
    passed: bool
    evidence: tuple[str, ...]
    """Why it passed or failed, one line per dataset or finding."""


class SignOffState(StrEnum):
    MISSING = "missing"  # nobody has signed
    CURRENT = "current"  # approved, and nothing signed has changed since
    STALE = "stale"  # approved, but the checklist, contract or impact changed since
    REJECTED = "rejected"  # the latest decision is a rejection


@dataclass(frozen=True)
class SignOffStatus:
    spec: SignOffSpec
    state: SignOffState
    latest: SignOff | None
    """The decision that counts: the latest one for this sign-off."""
    changed: tuple[str, ...] = ()
    """For a stale sign-off: which digests changed since it was signed."""


def signoff_status(spec: SignOffSpec, signed: list[SignOff], now: Digests) -> SignOffStatus:
    """The latest decision for `spec` decides; an approval is current only while every
    digest it signed still matches."""
    mine = sorted((s for s in signed if s.signoff == spec.name), key=lambda s: (s.at, s.id))
    if not mine:
        return SignOffStatus(spec, SignOffState.MISSING, None)
    latest = mine[-1]
    if latest.decision is Decision.REJECT:
        return SignOffStatus(spec, SignOffState.REJECTED, latest)
    changed = tuple(latest.digests.changed(now))
    state = SignOffState.STALE if changed else SignOffState.CURRENT
    return SignOffStatus(spec, state, latest, changed)


@dataclass(frozen=True)
class Evaluation:
    """The gate of one handoff now: each criterion, each sign-off, and what is signed."""

    handoff: Handoff
    criteria: tuple[CriterionResult, ...]
    signoffs: tuple[SignOffStatus, ...]
    digests: Digests
    impact: ImpactReport
    evaluated_at: datetime
    blockers: tuple[str, ...] = field(default=())

    @property
    def gate_open(self) -> bool:
        return not self.blockers

    def as_json(self) -> dict[str, Any]:
        return {
            "handoff": self.handoff.id,
            "state": self.handoff.state.value,
            "gate_open": self.gate_open,
            "blockers": list(self.blockers),
            "criteria": [
                {"name": c.name, "passed": c.passed, "evidence": list(c.evidence)}
                for c in self.criteria
            ],
            "signoffs": [
                {
                    "name": s.spec.name,
                    "role": s.spec.role,
                    "state": s.state.value,
                    "changed": list(s.changed),
                    "latest": s.latest.as_attrs() | {"id": s.latest.id} if s.latest else None,
                }
                for s in self.signoffs
            ],
            "digests": vars(self.digests),
            "impact": {"severity": self.impact.severity.value, "rule": self.impact.rule},
            "evaluated_at": self.evaluated_at.isoformat(),
        }


def blockers(
    handoff: Handoff, criteria: tuple[CriterionResult, ...], signoffs: tuple[SignOffStatus, ...]
) -> tuple[str, ...]:
    """Everything that keeps the gate closed, in policy order."""
    found = []
    if handoff.state is not HandoffState.OPEN:
        found.append(f"the handoff is {handoff.state.value}")
    found += [f"criterion {c.name} fails" for c in criteria if not c.passed]
    for status in signoffs:
        if status.state is SignOffState.STALE:
            found.append(
                f"sign-off {status.spec.name} is stale ({', '.join(status.changed)} changed)"
            )
        elif status.state is not SignOffState.CURRENT:
            found.append(f"sign-off {status.spec.name} is {status.state.value}")
    return tuple(found)


def digest_of(value: Any) -> str:
    return sha256_hex(canonical_json(value))
