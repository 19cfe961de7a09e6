"""GraphQL for data contracts: versions, diffs, drift, and publishing (authenticated)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from catalog import contracts as model
from catalog.api import auth
from catalog.api.arguments import AsOf
from catalog.api.context import store_of
from catalog.compatibility import Change
from catalog.domain import NodeKind, NodeRef, dataset_ref
from catalog.errors import InvalidArgument
from catalog.security import Permission
from catalog.services import contracts
from ingesters.contracts import odcs
from ingesters.documents import parse_yaml

MAX_CONTRACT_BYTES = 1_000_000

ContractId = Annotated[str, strawberry.argument(description="The contract's id.")]


@strawberry.type(description="A column as a contract promises it.")
class ContractColumn:
    name: str = strawberry.field(description="Column name, normalized for the warehouse.")
    logical_type: str | None = strawberry.field(description="ODCS logical type, e.g. `integer`.")
    physical_type: str | None = strawberry.field(description="Warehouse type, e.g. `bigint`.")
    required: bool = strawberry.field(description="Whether the column never holds nulls.")
    unique: bool = strawberry.field(description="Whether values are unique.")
    primary_key_position: int | None = strawberry.field(
        description="1-based position in the primary key; null when not part of it."
    )
    classification: str | None = strawberry.field(description="Sensitivity, e.g. `restricted`.")
    description: str | None = strawberry.field(description="What the column means.")

    @classmethod
    def of(cls, column: model.ContractColumn) -> ContractColumn:
        return cls(
            name=column.name,
            logical_type=column.logical_type,
            physical_type=column.physical_type,
            required=column.required,
            unique=column.unique,
            primary_key_position=column.primary_key_position,
            classification=column.classification,
            description=column.description,
        )


@strawberry.type(description="A quality rule: a promise about the values.")
class QualityRule:
    name: str = strawberry.field(description="The rule's name (or id) in the contract.")
    definition: JSON = strawberry.field(description="The rule as the contract states it.")


@strawberry.type(description="One table of a contract, bound to the dataset it describes.")
class ContractDataset:
    namespace: str = strawberry.field(description="Namespace of the dataset.")
    name: str = strawberry.field(description="Name of the dataset.")
    object_name: str = strawberry.field(description="The table's name in the contract.")
    columns: list[ContractColumn] = strawberry.field(description="Promised columns, in order.")
    quality: list[QualityRule] = strawberry.field(description="Table-level quality rules.")


@strawberry.type(description="A service-level promise, e.g. latency of 4 hours.")
class SlaProperty:
    property: str = strawberry.field(description="Which property: latency, retention, ...")
    value: str | None = strawberry.field(description="The promised value.")
    unit: str | None = strawberry.field(description="Unit of the value, e.g. `h` or `d`.")
    element: str | None = strawberry.field(description="The column it is measured on, if any.")


@strawberry.type(description="Someone the contract names, with their role.")
class ContractOwner:
    name: str = strawberry.field(description="Username or email.")
    role: str | None = strawberry.field(description="Their role, e.g. steward.")


@strawberry.type(description="One published, immutable version of a data contract.")
class Contract:
    contract_id: str = strawberry.field(description="The contract's id (stable across versions).")
    version: str = strawberry.field(description="Semantic version, MAJOR.MINOR.PATCH.")
    status: str = strawberry.field(description="proposed, draft, active, deprecated or retired.")
    name: str | None = strawberry.field(description="Human name.")
    domain: str | None = strawberry.field(description="Business domain.")
    data_product: str | None = strawberry.field(description="Data product it belongs to.")
    description: str | None = strawberry.field(description="Purpose of the data.")
    standard: str = strawberry.field(description="Source format, e.g. `odcs v3.0.2`.")
    digest: str = strawberry.field(description="SHA-256 of the content; sign-offs bind to it.")
    datasets: list[ContractDataset] = strawberry.field(description="Tables it covers.")
    sla: list[SlaProperty] = strawberry.field(description="Service-level promises.")
    owners: list[ContractOwner] = strawberry.field(description="People and teams it names.")

    @classmethod
    def of(cls, version: model.ContractVersion) -> Contract:
        return cls(
            contract_id=version.contract_id,
            version=version.version,
            status=version.status,
            name=version.name,
            domain=version.domain,
            data_product=version.data_product,
            description=version.description,
            standard=version.standard,
            digest=version.digest,
            datasets=[
                ContractDataset(
                    namespace=d.ref.namespace,
                    name=d.ref.name,
                    object_name=d.object_name,
                    columns=[ContractColumn.of(c) for c in d.columns],
                    quality=[_rule(q) for q in d.quality],
                )
                for d in version.datasets
            ],
            sla=[
                SlaProperty(
                    property=s.property,
                    value=None if s.value is None else str(s.value),
                    unit=s.unit,
                    element=s.element,
                )
                for s in version.sla
            ],
            owners=[ContractOwner(name=o.name, role=o.role) for o in version.owners],
        )


def _rule(rule: model.QualityRule) -> QualityRule:
    return QualityRule(name=rule.name, definition=cast(JSON, rule.definition))


@strawberry.type(description="One change between two contract versions, classified.")
class ContractChange:
    kind: str = strawberry.field(
        description="Rule of the compatibility table, e.g. COLUMN_REMOVED."
    )
    subject: str = strawberry.field(description="What changed: table, table.column, sla ...")
    before: str | None = strawberry.field(description="The old value, where one applies.")
    after: str | None = strawberry.field(description="The new value, where one applies.")
    breaking: bool = strawberry.field(description="Whether consumers can break.")
    reason: str = strawberry.field(description="Why the rule classifies it so.")

    @classmethod
    def of(cls, change: Change) -> ContractChange:
        return cls(
            kind=change.kind.value,
            subject=change.subject,
            before=change.before,
            after=change.after,
            breaking=change.breaking,
            reason=change.reason,
        )


@strawberry.type(description="Every change between two versions of a contract.")
class ContractDiff:
    old_version: str = strawberry.field(description="The version compared from.")
    new_version: str = strawberry.field(description="The version compared to.")
    changes: list[ContractChange] = strawberry.field(description="Changes, in a stable order.")
    needs_major_version: bool = strawberry.field(
        description="True when a change is breaking and the major version did not change."
    )


@strawberry.type(description="A difference between a contract and what the catalog knows.")
class ContractDrift:
    kind: str = strawberry.field(
        description="MISSING, UNDECLARED, TYPE_MISMATCH or UNKNOWN_DATASET."
    )
    namespace: str = strawberry.field(description="Namespace of the dataset.")
    name: str = strawberry.field(description="Name of the dataset.")
    column: str | None = strawberry.field(description="The column concerned, if any.")
    contract_type: str | None = strawberry.field(description="Type the contract declares.")
    catalog_type: str | None = strawberry.field(description="Type the catalog knows.")


@strawberry.enum(description="Kinds of node that can depend on a contract version.")
class DependentKind(Enum):
    JOB = strawberry.enum_value("JOB", description="A job (SQL, dbt model, OpenLineage job).")
    CONSUMER = strawberry.enum_value("CONSUMER", description="A dashboard, ML model, app...")
    DATASET = strawberry.enum_value("DATASET", description="Another team's dataset.")


@strawberry.type(description="A job, consumer or dataset relying on a version of a contract.")
class ContractDependent:
    kind: str = strawberry.field(description="JOB, CONSUMER or DATASET.")
    namespace: str = strawberry.field(description="Namespace of the dependent.")
    name: str = strawberry.field(description="Name of the dependent.")
    version: str = strawberry.field(description="The contract version it relies on.")


@strawberry.type(description="The result of declaring or ending a dependency.")
class PinResult:
    changed: bool = strawberry.field(description="False when it was already so.")
    ledger_seq: int | None = strawberry.field(description="The ledger entry written, if any.")


@strawberry.type(description="What a publication wrote.")
class PublishResult:
    versions: list[Contract] = strawberry.field(description="The versions in the document.")
    changed: bool = strawberry.field(description="False when every version was already there.")
    ledger_seq: int | None = strawberry.field(description="The ledger entry, when one was written.")


@strawberry.type(description="Data contracts: versions, diffs and drift.")
class ContractQuery:
    @strawberry.field(description="Contract versions a dataset publishes (ODCS and dbt).")
    def contracts(
        self,
        info: Info,
        namespace: Annotated[str, strawberry.argument(description="Namespace of the dataset.")],
        name: Annotated[str, strawberry.argument(description="Name of the dataset.")],
        as_of: AsOf = None,
    ) -> list[Contract]:
        found = contracts.of_dataset(store_of(info), dataset_ref(namespace, name), as_of)
        return [Contract.of(v) for v in found]

    @strawberry.field(description="One version of a contract (the latest by default).")
    def contract(
        self,
        info: Info,
        contract_id: ContractId,
        version: Annotated[
            str | None, strawberry.argument(description="Version; default the latest.")
        ] = None,
        as_of: AsOf = None,
    ) -> Contract:
        return Contract.of(contracts.version(store_of(info), contract_id, version, as_of))

    @strawberry.field(description="Every published version of a contract, oldest first.")
    def contract_versions(
        self, info: Info, contract_id: ContractId, as_of: AsOf = None
    ) -> list[Contract]:
        return [Contract.of(v) for v in contracts.published(store_of(info), contract_id, as_of)]

    @strawberry.field(description="The classified changes between two versions of a contract.")
    def contract_diff(
        self,
        info: Info,
        contract_id: ContractId,
        old_version: Annotated[str, strawberry.argument(description="Version to compare from.")],
        new_version: Annotated[str, strawberry.argument(description="Version to compare to.")],
    ) -> ContractDiff:
        store = store_of(info)
        changes = contracts.compare(store, contract_id, old_version, new_version)
        old_major = model.semver(old_version)[0]
        needs_major = any(c.breaking for c in changes) and model.semver(new_version)[0] == old_major
        return ContractDiff(
            old_version=old_version,
            new_version=new_version,
            changes=[ContractChange.of(c) for c in changes],
            needs_major_version=needs_major,
        )

    @strawberry.field(description="Who relies on which version of a contract.")
    def contract_dependents(self, info: Info, contract_id: ContractId) -> list[ContractDependent]:
        return [
            ContractDependent(
                kind=p.dependent.kind.value,
                namespace=p.dependent.namespace,
                name=p.dependent.name,
                version=p.version,
            )
            for p in contracts.dependents(store_of(info), contract_id)
        ]

    @strawberry.field(description="How the catalog's datasets differ from a contract version.")
    def contract_drift(
        self,
        info: Info,
        contract_id: ContractId,
        version: Annotated[
            str | None, strawberry.argument(description="Version; default the latest.")
        ] = None,
    ) -> list[ContractDrift]:
        return [
            ContractDrift(
                kind=d.kind.value,
                namespace=d.dataset.namespace,
                name=d.dataset.name,
                column=d.column,
                contract_type=d.contract_type,
                catalog_type=d.catalog_type,
            )
            for d in contracts.drift(store_of(info), contract_id, version)
        ]


@strawberry.type(description="Contract publication; needs a bearer token and is ledgered.")
class ContractMutation:
    @strawberry.mutation(
        description="Declare that a job, consumer or dataset relies on one published version "
        "of a contract (replacing its earlier pin on that contract)."
    )
    def pin_contract(
        self,
        info: Info,
        kind: Annotated[DependentKind, strawberry.argument(description="Kind of dependent.")],
        namespace: Annotated[str, strawberry.argument(description="Its namespace.")],
        name: Annotated[str, strawberry.argument(description="Its name.")],
        contract_id: ContractId,
        version: Annotated[str, strawberry.argument(description="The version relied on.")],
    ) -> PinResult:
        actor = auth.require(info.context, Permission.WRITE).name
        dependent = NodeRef(kind=NodeKind(kind.name), namespace=namespace, name=name)
        result = contracts.pin(
            store_of(info), dependent, contract_id, version, actor=actor, reason="contract pin"
        )
        return PinResult(changed=result.changed, ledger_seq=result.ledger_seq)

    @strawberry.mutation(description="End a dependent's pin on a contract (history keeps it).")
    def unpin_contract(
        self,
        info: Info,
        kind: Annotated[DependentKind, strawberry.argument(description="Kind of dependent.")],
        namespace: Annotated[str, strawberry.argument(description="Its namespace.")],
        name: Annotated[str, strawberry.argument(description="Its name.")],
        contract_id: ContractId,
    ) -> PinResult:
        actor = auth.require(info.context, Permission.WRITE).name
        dependent = NodeRef(kind=NodeKind(kind.name), namespace=namespace, name=name)
        result = contracts.unpin(
            store_of(info), dependent, contract_id, actor=actor, reason="contract unpin"
        )
        return PinResult(changed=result.changed, ledger_seq=result.ledger_seq)

    @strawberry.mutation(
        description="Publish a contract version from an ODCS v3 YAML document. Refused "
        "(CONTRACT_REJECTED, nothing written) when the document is invalid, changes a "
        "published version, or breaks consumers without a new major version."
    )
    def publish_contract(
        self,
        info: Info,
        document: Annotated[str, strawberry.argument(description="The ODCS YAML document.")],
        reason: Annotated[
            str, strawberry.argument(description="Why: recorded in the ledger.")
        ] = "contract publication",
    ) -> PublishResult:
        actor = auth.require(info.context, Permission.WRITE).name
        if len(document.encode()) > MAX_CONTRACT_BYTES:
            raise InvalidArgument(f"the document is larger than {MAX_CONTRACT_BYTES} bytes")
        version = _parse(document)
        result = contracts.publish(store_of(info), [version], actor=actor, reason=reason)
        return PublishResult(
            versions=[Contract.of(version)],
            changed=result.changed,
            ledger_seq=result.ledger_seq,
        )


def _parse(document: str) -> model.ContractVersion:
    loaded, unreadable = parse_yaml(document, "document")
    if unreadable:
        raise contracts.ContractRejected([str(e) for e in unreadable])
    problems = odcs.problems(loaded)
    if problems:
        raise contracts.ContractRejected([f"{path}: {why}" for path, why in problems])
    return odcs.to_contract(loaded)
