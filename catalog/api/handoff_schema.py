"""GraphQL for handoffs: create one from a policy, see its gate, sign it off, complete it.

Signers are never arguments: a sign-off is recorded for the caller's token, acting as the
owner the token is bound to."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from catalog import handoffs as domain
from catalog.api import auth
from catalog.api.context import store_of
from catalog.api.impact_schema import ImpactReport
from catalog.domain import dataset_ref
from catalog.errors import InvalidArgument
from catalog.security import Permission
from catalog.services import handoffs
from ingesters.policies import parse_policy

MAX_POLICY_BYTES = 256 * 1024
MAX_PRODUCT_DATASETS = 200

HandoffId = Annotated[str, strawberry.argument(description="The handoff's id.")]
Reason = Annotated[str, strawberry.argument(description="Why: recorded in the ledger.")]


@strawberry.enum(description="What a handoff moves the product between.")
class HandoffMove(Enum):
    STAGE = strawberry.enum_value("stage", description="Stages, e.g. staging to prod.")
    OWNER = strawberry.enum_value("owner", description="Owners, e.g. team A to team B.")


@strawberry.enum(description="Whether a handoff is still open.")
class HandoffState(Enum):
    OPEN = strawberry.enum_value("open", description="Waiting for its gate to open.")
    COMPLETED = strawberry.enum_value("completed", description="The product has moved.")


@strawberry.enum(description="A signer's decision.")
class Decision(Enum):
    APPROVE = strawberry.enum_value("approve", description="Approve the handoff.")
    REJECT = strawberry.enum_value("reject", description="Reject it (a comment is required).")


@strawberry.enum(description="Where a required sign-off stands.")
class SignOffState(Enum):
    MISSING = strawberry.enum_value("missing", description="Nobody has signed.")
    CURRENT = strawberry.enum_value("current", description="Approved; nothing changed since.")
    STALE = strawberry.enum_value(
        "stale", description="Approved, but what was signed changed since: sign again."
    )
    REJECTED = strawberry.enum_value("rejected", description="The latest decision rejects.")


@strawberry.input(description="A dataset by identity.")
class DatasetInput:
    namespace: str = strawberry.field(description="Namespace of the dataset.")
    name: str = strawberry.field(description="Name of the dataset.")


@strawberry.type(description="A dataset of a handoff's product.")
class ProductDataset:
    namespace: str = strawberry.field(description="Namespace of the dataset.")
    name: str = strawberry.field(description="Name of the dataset.")


@strawberry.type(description="An exit criterion a policy requires.")
class PolicyCriterion:
    name: str = strawberry.field(description="A built-in criterion (docs/handoffs.md).")
    parameters: JSON = strawberry.field(description="Its parameters, as the policy set them.")


@strawberry.type(description="A sign-off a policy requires.")
class PolicySignOff:
    name: str = strawberry.field(description="What it is for, e.g. `engineering`.")
    role: str = strawberry.field(description="Ownership role the signer must hold.")
    side: str = strawberry.field(description="`current` owners, or the `incoming` owner.")
    description: str | None = strawberry.field(description="What the signer vouches for.")


@strawberry.type(description="A versioned checklist: exit criteria and required sign-offs.")
class HandoffPolicy:
    name: str = strawberry.field(description="The policy's name.")
    version: str = strawberry.field(description="The policy's version.")
    description: str | None = strawberry.field(description="What the policy is for.")
    criteria: list[PolicyCriterion] = strawberry.field(description="Exit criteria, in order.")
    sign_offs: list[PolicySignOff] = strawberry.field(description="Required sign-offs.")

    @classmethod
    def of(cls, policy: domain.Policy) -> HandoffPolicy:
        return cls(
            name=policy.name,
            version=policy.version,
            description=policy.description,
            criteria=[
                PolicyCriterion(name=c.name.value, parameters=cast(JSON, dict(c.parameters)))
                for c in policy.criteria
            ],
            sign_offs=[
                PolicySignOff(
                    name=s.name, role=s.role, side=s.side.value, description=s.description
                )
                for s in policy.signoffs
            ],
        )


@strawberry.type(description="One immutable decision on a handoff.")
class SignOff:
    id: str = strawberry.field(description="The sign-off's id (sortable by time).")
    sign_off: str = strawberry.field(description="Which required sign-off it decides.")
    role: str = strawberry.field(description="The ownership role it was signed in.")
    signer: str = strawberry.field(description="The authenticated principal that signed.")
    acting_as: str = strawberry.field(description="The owner through whom it holds the role.")
    decision: Decision = strawberry.field(description="Approve or reject.")
    comment: str = strawberry.field(description="What the signer said.")
    at: datetime = strawberry.field(description="When (UTC).")
    checklist_digest: str = strawberry.field(description="Digest of the checklist signed.")
    contract_digest: str = strawberry.field(description="Digest of the contract versions signed.")
    impact_digest: str = strawberry.field(description="Digest of the impact report signed.")
    failing_criteria: list[str] = strawberry.field(
        description="Criteria that did not pass when it was signed."
    )

    @classmethod
    def of(cls, record: domain.SignOff) -> SignOff:
        return cls(
            id=record.id,
            sign_off=record.signoff,
            role=record.role,
            signer=record.signer,
            acting_as=record.acting_as,
            decision=Decision(record.decision.value),
            comment=record.comment,
            at=record.at,
            checklist_digest=record.digests.checklist,
            contract_digest=record.digests.contract,
            impact_digest=record.digests.impact,
            failing_criteria=list(record.failing_criteria),
        )


@strawberry.type(description="One exit criterion evaluated now.")
class CriterionResult:
    name: str = strawberry.field(description="The criterion.")
    passed: bool = strawberry.field(description="Whether it holds.")
    evidence: list[str] = strawberry.field(description="Why, one finding per line.")


@strawberry.type(description="Where one required sign-off stands.")
class SignOffStatus:
    name: str = strawberry.field(description="The required sign-off.")
    role: str = strawberry.field(description="Ownership role its signer must hold.")
    state: SignOffState = strawberry.field(description="Missing, current, stale or rejected.")
    latest: SignOff | None = strawberry.field(description="The decision that counts.")
    changed: list[str] = strawberry.field(
        description="For a stale sign-off: what changed since (checklist, contract, impact)."
    )


@strawberry.type(description="A handoff's gate now: criteria, sign-offs, what is signed.")
class HandoffEvaluation:
    gate_open: bool = strawberry.field(description="True when the handoff may complete.")
    blockers: list[str] = strawberry.field(description="What keeps the gate closed.")
    criteria: list[CriterionResult] = strawberry.field(description="Each exit criterion.")
    sign_offs: list[SignOffStatus] = strawberry.field(description="Each required sign-off.")
    checklist_digest: str = strawberry.field(description="Digest of the checklist now.")
    contract_digest: str = strawberry.field(description="Digest of the contract versions now.")
    impact_digest: str = strawberry.field(description="Digest of the impact report now.")
    impact: ImpactReport = strawberry.field(
        description="Impact of the product's latest contract versions on what reads it."
    )
    evaluated_at: datetime = strawberry.field(description="When this was evaluated.")

    @classmethod
    def of(cls, evaluation: domain.Evaluation) -> HandoffEvaluation:
        return cls(
            gate_open=evaluation.gate_open,
            blockers=list(evaluation.blockers),
            criteria=[
                CriterionResult(name=c.name, passed=c.passed, evidence=list(c.evidence))
                for c in evaluation.criteria
            ],
            sign_offs=[
                SignOffStatus(
                    name=s.spec.name,
                    role=s.spec.role,
                    state=SignOffState(s.state.value),
                    latest=SignOff.of(s.latest) if s.latest else None,
                    changed=list(s.changed),
                )
                for s in evaluation.signoffs
            ],
            checklist_digest=evaluation.digests.checklist,
            contract_digest=evaluation.digests.contract,
            impact_digest=evaluation.digests.impact,
            impact=ImpactReport.of(evaluation.impact),
            evaluated_at=evaluation.evaluated_at,
        )


@strawberry.type(description="A data product moving between stages or owners, behind a gate.")
class Handoff:
    id: str = strawberry.field(description="The handoff's id.")
    policy: HandoffPolicy = strawberry.field(description="The policy version it follows.")
    datasets: list[ProductDataset] = strawberry.field(description="The product's datasets.")
    move: HandoffMove = strawberry.field(description="Stage or owner move.")
    from_: str = strawberry.field(name="from", description="Stage or owner it leaves.")
    to: str = strawberry.field(description="Stage or owner it reaches.")
    roles: list[str] = strawberry.field(description="For owner moves: roles changing hands.")
    state: HandoffState = strawberry.field(description="Open or completed.")
    created_by: str = strawberry.field(description="Principal that created it.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    reason: str = strawberry.field(description="Why it was created.")
    completed_by: str | None = strawberry.field(description="Principal that completed it.")
    completed_at: datetime | None = strawberry.field(description="When it completed (UTC).")
    model: strawberry.Private[domain.Handoff]

    @strawberry.field(description="Every decision on it, oldest first.")
    def sign_offs(self, info: Info) -> list[SignOff]:
        return [SignOff.of(s) for s in handoffs.signoffs(store_of(info), self.id)]

    @strawberry.field(description="Its gate evaluated now (criteria, sign-offs, digests).")
    def evaluation(self, info: Info) -> HandoffEvaluation:
        return HandoffEvaluation.of(handoffs.evaluate(store_of(info), self.model))

    @classmethod
    def of(cls, handoff: domain.Handoff) -> Handoff:
        return cls(
            id=handoff.id,
            policy=HandoffPolicy.of(handoff.policy),
            datasets=[ProductDataset(namespace=d.namespace, name=d.name) for d in handoff.datasets],
            move=HandoffMove(handoff.move.value),
            from_=handoff.from_,
            to=handoff.to,
            roles=list(handoff.roles),
            state=HandoffState(handoff.state.value),
            created_by=handoff.created_by,
            created_at=handoff.created_at,
            reason=handoff.reason,
            completed_by=handoff.completed_by,
            completed_at=handoff.completed_at,
            model=handoff,
        )


@strawberry.type(description="Reading handoffs.")
class HandoffQuery:
    @strawberry.field(description="One handoff, as of now or a past instant.")
    def handoff(
        self,
        info: Info,
        id: HandoffId,
        as_of: Annotated[
            datetime | None, strawberry.argument(description="As it was at this instant.")
        ] = None,
    ) -> Handoff:
        return Handoff.of(handoffs.get(store_of(info), id, as_of))

    @strawberry.field(description="Handoffs, newest first, filtered by state, dataset or owner.")
    def handoffs(
        self,
        info: Info,
        state: Annotated[
            HandoffState | None, strawberry.argument(description="Only in this state.")
        ] = None,
        dataset: Annotated[
            DatasetInput | None, strawberry.argument(description="Only those covering it.")
        ] = None,
        owner: Annotated[
            str | None,
            strawberry.argument(description="Only those moving from/to it or over its data."),
        ] = None,
        first: Annotated[int, strawberry.argument(description="At most this many (1-500).")] = 50,
    ) -> list[Handoff]:
        if not 1 <= first <= 500:
            raise InvalidArgument("first must be between 1 and 500")
        found = handoffs.find(
            store_of(info),
            state=domain.HandoffState[state.name] if state else None,
            dataset=dataset_ref(dataset.namespace, dataset.name) if dataset else None,
            owner=owner,
            limit=first,
        )
        return [Handoff.of(h) for h in found]


@strawberry.type(description="Handoff changes; each needs a bearer token and is ledgered.")
class HandoffMutation:
    @strawberry.mutation(description="Open a handoff of a product under a policy (YAML).")
    def create_handoff(
        self,
        info: Info,
        policy: Annotated[str, strawberry.argument(description="The policy YAML document.")],
        datasets: Annotated[
            list[DatasetInput], strawberry.argument(description="The product's datasets.")
        ],
        move: Annotated[HandoffMove, strawberry.argument(description="Stage or owner move.")],
        from_: Annotated[
            str, strawberry.argument(name="from", description="Stage or owner it leaves.")
        ],
        to: Annotated[str, strawberry.argument(description="Stage or owner it reaches.")],
        roles: Annotated[
            list[str] | None,
            strawberry.argument(description="Owner moves: roles to hand over (default all)."),
        ] = None,
        id: Annotated[
            str | None, strawberry.argument(description="An id to use (default generated).")
        ] = None,
        reason: Reason = "handoff",
    ) -> Handoff:
        principal = auth.require(info.context, Permission.WRITE)
        if len(policy.encode()) > MAX_POLICY_BYTES:
            raise InvalidArgument(f"the policy is larger than {MAX_POLICY_BYTES} bytes")
        if len(datasets) > MAX_PRODUCT_DATASETS:
            raise InvalidArgument(f"a product has at most {MAX_PRODUCT_DATASETS} datasets")
        parsed, errors = parse_policy(policy)
        if parsed is None:
            raise InvalidArgument("invalid policy: " + "; ".join(str(e) for e in errors))
        created = handoffs.create(
            store_of(info),
            parsed,
            [dataset_ref(d.namespace, d.name) for d in datasets],
            move=domain.Move[move.name],
            from_=from_,
            to=to,
            roles=tuple(roles or ()),
            principal=principal,
            reason=reason,
            handoff_id=id,
        )
        return Handoff.of(created)

    @strawberry.mutation(
        description="Sign off a handoff as the caller (FORBIDDEN unless the caller's token is "
        "bound to an owner holding the sign-off's role on the product)."
    )
    def sign_handoff(
        self,
        info: Info,
        id: HandoffId,
        sign_off: Annotated[str, strawberry.argument(description="Which required sign-off.")],
        decision: Annotated[Decision, strawberry.argument(description="Approve or reject.")],
        comment: Annotated[str, strawberry.argument(description="What the signer says.")] = "",
    ) -> SignOff:
        principal = auth.require(info.context, Permission.SIGN)
        record = handoffs.sign(
            store_of(info),
            id,
            sign_off,
            decision=domain.Decision[decision.name],
            comment=comment,
            principal=principal,
        )
        return SignOff.of(record)

    @strawberry.mutation(
        description="Complete a handoff: records the new stage or owners. FAILED_PRECONDITION "
        "while its gate is closed."
    )
    def complete_handoff(self, info: Info, id: HandoffId, reason: Reason = "handoff") -> Handoff:
        principal = auth.require(info.context, Permission.WRITE)
        done = handoffs.complete(store_of(info), id, principal=principal, reason=reason)
        return Handoff.of(done.handoff)
