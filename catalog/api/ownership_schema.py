"""GraphQL for ownership: who owns what (with escalation), what is unowned, history, and
assigning or removing owners (authenticated)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from catalog.api import auth
from catalog.api.arguments import AsOf
from catalog.api.context import store_of
from catalog.domain import NodeRef, column_ref, dataset_ref, owner_named
from catalog.security import Permission
from catalog.services import catalog, ownership
from catalog.stores.protocol import NodeView

Namespace = Annotated[str, strawberry.argument(description="Namespace of the dataset.")]
Name = Annotated[str, strawberry.argument(description="Name of the dataset.")]
Column = Annotated[
    str | None, strawberry.argument(description="A column; it inherits the dataset's owners.")
]
At = Annotated[
    date | None, strawberry.argument(description="Ownership on this day (default today).")
]
OwnerName = Annotated[
    str,
    strawberry.argument(description="`team:<name>`, `person:<email or name>`, or an email."),
]
RoleName = Annotated[
    str,
    strawberry.argument(description="steward, engineer, operator, approver or consumer."),
]


def _target(namespace: str, name: str, column: str | None) -> NodeRef:
    return column_ref(namespace, name, column) if column else dataset_ref(namespace, name)


@strawberry.type(description="A person or team, and how to reach them when something breaks.")
class Owner:
    id: strawberry.ID = strawberry.field(description="Stable identity of the owner.")
    kind: str = strawberry.field(description="`person` or `team`.")
    name: str = strawberry.field(description="Email or username of a person; a team's name.")
    display_name: str | None = strawberry.field(description="Human name.")
    email: str | None = strawberry.field(description="Email address.")
    slack: str | None = strawberry.field(description="Chat channel.")
    pager: str | None = strawberry.field(description="Who to page, e.g. an on-call rotation.")
    runbook: str | None = strawberry.field(description="Runbook link.")
    escalation: list[str] = strawberry.field(description="Who to escalate to, in order.")

    @classmethod
    def of(cls, view: NodeView) -> Owner:
        attrs = view.attrs

        def text(key: str) -> str | None:
            value = attrs.get(key)
            return value if isinstance(value, str) else None

        return cls(
            id=strawberry.ID(view.ref.key),
            kind=view.ref.namespace,
            name=view.ref.name,
            display_name=text("name"),
            email=text("email") or (view.ref.name if "@" in view.ref.name else None),
            slack=text("slack"),
            pager=text("pager"),
            runbook=text("runbook"),
            escalation=[str(e) for e in attrs.get("escalation") or []],
        )


@strawberry.type(description="An owner's role on a dataset, column, consumer or contract.")
class Ownership:
    owner: Owner = strawberry.field(description="Who.")
    role: str = strawberry.field(description="steward, engineer, operator, approver, consumer.")
    target_id: strawberry.ID = strawberry.field(description="Identity of what is owned.")
    target: str = strawberry.field(description="What is owned, as `namespace/name[.column]`.")
    inherited: bool = strawberry.field(description="A column's role taken from its dataset.")
    via: str | None = strawberry.field(description="How: ownership map, dbt group, api...")
    source: str = strawberry.field(description="The source that asserts it.")
    effective_from: str | None = strawberry.field(description="First day it holds, if dated.")
    effective_to: str | None = strawberry.field(description="Last day it holds, if dated.")

    @classmethod
    def of(cls, found: ownership.Ownership) -> Ownership:
        return cls(
            owner=Owner.of(found.owner),
            role=found.role,
            target_id=strawberry.ID(found.target.key),
            target=str(found.target),
            inherited=found.inherited,
            via=found.via,
            source=found.source,
            effective_from=found.effective_from,
            effective_to=found.effective_to,
        )


@strawberry.type(description="A dataset with nobody in some required role.")
class UnownedDataset:
    namespace: str = strawberry.field(description="Namespace of the dataset.")
    name: str = strawberry.field(description="Name of the dataset.")
    missing_roles: list[str] = strawberry.field(description="Roles nobody holds.")


@strawberry.type(description="One assertion of ownership over time (ended ones included).")
class OwnershipRecord:
    owner: str = strawberry.field(description="The owner's identity, `team/x` or `person/x`.")
    roles: list[str] = strawberry.field(description="Roles it asserted.")
    source: str = strawberry.field(description="Who asserted it.")
    valid_from: str = strawberry.field(description="When it was recorded (ledger time).")
    valid_to: str | None = strawberry.field(description="When it was ended; null if current.")


@strawberry.type(description="The result of an ownership change.")
class OwnershipChange:
    changed: bool = strawberry.field(description="False when it was already so.")
    ledger_seq: int | None = strawberry.field(description="The ledger entry written, if any.")


@strawberry.type(description="Ownership lookups.")
class OwnershipQuery:
    @strawberry.field(description="Who owns a dataset or column, in each role, with escalation.")
    def owners(
        self,
        info: Info,
        namespace: Namespace,
        name: Name,
        column: Column = None,
        at: At = None,
        as_of: AsOf = None,
    ) -> list[Ownership]:
        store = store_of(info)
        target = catalog.resolve_ref(store, namespace, name, column, as_of)
        found = ownership.owners_of(store, target, at, as_of)
        return [Ownership.of(o) for o in found]

    @strawberry.field(description="Everything an owner (person or team) holds a role on.")
    def owned_by(
        self, info: Info, owner: OwnerName, at: At = None, as_of: AsOf = None
    ) -> list[Ownership]:
        found = ownership.owned_by(store_of(info), owner_named(owner), at, as_of)
        return [Ownership.of(o) for o in found]

    @strawberry.field(description="Datasets with nobody in a required role.")
    def unowned(
        self,
        info: Info,
        roles: Annotated[
            list[str] | None,
            strawberry.argument(description="Required roles (default steward and operator)."),
        ] = None,
        at: At = None,
    ) -> list[UnownedDataset]:
        wanted = tuple(roles) if roles else ownership.REQUIRED_ROLES
        return [
            UnownedDataset(namespace=ref.namespace, name=ref.name, missing_roles=missing)
            for ref, missing in ownership.unowned(store_of(info), wanted, at)
        ]

    @strawberry.field(description="Every ownership a dataset or column ever had, oldest first.")
    def ownership_history(
        self, info: Info, namespace: Namespace, name: Name, column: Column = None
    ) -> list[OwnershipRecord]:
        edges = ownership.history(store_of(info), _target(namespace, name, column))
        return [
            OwnershipRecord(
                owner=str(e.subject),
                roles=sorted(e.attrs.get("roles") or {}),
                source=e.source,
                valid_from=e.valid_from.isoformat(),
                valid_to=e.valid_to.isoformat() if e.valid_to else None,
            )
            for e in edges
        ]


@strawberry.type(description="Ownership changes; each needs a bearer token and is ledgered.")
class OwnershipMutation:
    @strawberry.mutation(description="Give an owner a role on a dataset or column.")
    def assign_owner(
        self,
        info: Info,
        namespace: Namespace,
        name: Name,
        owner: OwnerName,
        role: RoleName,
        column: Column = None,
        effective_from: Annotated[
            date | None, strawberry.argument(description="First day it holds.")
        ] = None,
        effective_to: Annotated[
            date | None, strawberry.argument(description="Last day it holds.")
        ] = None,
        reason: Annotated[
            str, strawberry.argument(description="Why: recorded in the ledger.")
        ] = "ownership change",
    ) -> OwnershipChange:
        actor = auth.require(info.context, Permission.WRITE).name
        result = ownership.assign(
            store_of(info),
            _target(namespace, name, column),
            owner,
            role,
            actor=actor,
            reason=reason,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        return OwnershipChange(changed=result.changed, ledger_seq=result.ledger_seq)

    @strawberry.mutation(description="End a role given through the API (history keeps it).")
    def remove_owner(
        self,
        info: Info,
        namespace: Namespace,
        name: Name,
        owner: OwnerName,
        role: RoleName,
        column: Column = None,
        reason: Annotated[
            str, strawberry.argument(description="Why: recorded in the ledger.")
        ] = "ownership change",
    ) -> OwnershipChange:
        actor = auth.require(info.context, Permission.WRITE).name
        result = ownership.remove(
            store_of(info),
            _target(namespace, name, column),
            owner,
            role,
            actor=actor,
            reason=reason,
        )
        return OwnershipChange(changed=result.changed, ledger_seq=result.ledger_seq)
