"""GraphQL for impact analysis: a change set in, the impact report out."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from catalog import impact as model
from catalog.api.context import store_of
from catalog.domain import column_ref, dataset_ref, job_ref
from catalog.errors import InvalidArgument
from catalog.services import change_sets, contracts
from catalog.services import impact as analysis
from ingesters.contracts import odcs
from ingesters.documents import parse_yaml
from ingesters.sql.names import Defaults

MAX_CHANGES = 100
MAX_SQL_CHARS = 1_000_000


@strawberry.enum(description="What a change does.")
class ImpactChangeKind(Enum):
    DROP_COLUMN = strawberry.enum_value("DROP_COLUMN", description="Drop a column.")
    RENAME_COLUMN = strawberry.enum_value("RENAME_COLUMN", description="Rename a column.")
    RETYPE_COLUMN = strawberry.enum_value("RETYPE_COLUMN", description="Change a column's type.")
    CHANGE_COLUMN = strawberry.enum_value(
        "CHANGE_COLUMN", description="Compute a column from different sources (same name, type)."
    )
    DROP_DATASET = strawberry.enum_value("DROP_DATASET", description="Drop a dataset.")
    RENAME_DATASET = strawberry.enum_value("RENAME_DATASET", description="Rename a dataset.")
    CHANGE_JOB = strawberry.enum_value("CHANGE_JOB", description="Change a job's logic.")


@strawberry.input(description="One proposed change.")
class ChangeInput:
    kind: ImpactChangeKind = strawberry.field(description="What the change does.")
    namespace: str = strawberry.field(description="Namespace of the dataset (or job).")
    name: str = strawberry.field(description="Name of the dataset (or job).")
    column: str | None = strawberry.field(default=None, description="The column, if any.")
    new_name: str | None = strawberry.field(default=None, description="For renames.")
    new_type: str | None = strawberry.field(default=None, description="For retypes.")


@strawberry.type(description="One edge of an impact path, with its evidence.")
class ImpactHop:
    kind: str = strawberry.field(description="DERIVES, INFLUENCES, FEEDS, USES or ALIAS_OF.")
    source: str = strawberry.field(description="Upstream end.")
    target: str = strawberry.field(description="Downstream end.")
    lineage: str = strawberry.field(description="DIRECT (data flows) or INDIRECT (rows decided).")
    detail: str | None = strawberry.field(description="Transformation or indirect subtype.")
    job: str | None = strawberry.field(description="The job that creates the edge.")
    where: str | None = strawberry.field(description="File and line, dbt model, or source.")


@strawberry.type(description="A downstream asset the change reaches.")
class AffectedAsset:
    id: strawberry.ID = strawberry.field(description="Node identity.")
    kind: str = strawberry.field(description="COLUMN, DATASET, JOB or CONSUMER.")
    label: str = strawberry.field(description="`namespace/name[.column]`.")
    confidence: str = strawberry.field(
        description="certain (column lineage), inferred (column lineage inferred over a `*` "
        "with no schema) or possible (table lineage only)."
    )
    lineage: str = strawberry.field(description="DIRECT or INDIRECT (a filter or join input).")
    depth: int = strawberry.field(description="Hops from the change.")
    path: list[ImpactHop] = strawberry.field(description="How the change reaches it.")


@strawberry.type(description="Someone to notify, in one role, for the assets listed.")
class OwnerToNotify:
    owner: str = strawberry.field(description="`team/x` or `person/x`.")
    role: str = strawberry.field(description="Their role on the assets.")
    contact: str | None = strawberry.field(description="Pager, email or chat.")
    escalation: list[str] = strawberry.field(description="Who to escalate to, in order.")
    assets: list[str] = strawberry.field(description="Affected assets they hold the role on.")


@strawberry.type(description="A contract version whose promises the change breaks.")
class BrokenContract:
    contract_id: str = strawberry.field(description="The contract.")
    version: str = strawberry.field(description="The version broken.")
    reason: str = strawberry.field(description="Why it no longer holds.")
    dependents: list[str] = strawberry.field(description="Who relies on that version.")


@strawberry.type(description="One change of the analysed change set.")
class AnalysedChange:
    kind: str = strawberry.field(description="What the change does.")
    target: str = strawberry.field(description="`namespace/name[.column]`.")
    new_name: str | None = strawberry.field(description="For renames.")
    new_type: str | None = strawberry.field(description="For retypes.")
    compatible: bool = strawberry.field(description="True for a widened type.")


@strawberry.type(description="What a change set breaks, who must know, and how sure Baton is.")
class ImpactReport:
    severity: str = strawberry.field(description="breaking, risky or safe.")
    rule: str = strawberry.field(description="The rule that decided the severity.")
    digest: str = strawberry.field(description="SHA-256 of the report; sign-offs bind to it.")
    changes: list[AnalysedChange] = strawberry.field(description="The change set.")
    affected: list[AffectedAsset] = strawberry.field(description="Everything reached.")
    owners: list[OwnerToNotify] = strawberry.field(description="Owners to notify.")
    unowned: list[str] = strawberry.field(description="Affected assets nobody owns.")
    contracts: list[BrokenContract] = strawberry.field(description="Contracts broken.")
    sign_offs: list[str] = strawberry.field(description="Sign-offs a handoff would need.")
    depth: int = strawberry.field(description="Depth bound used.")
    limit: int = strawberry.field(description="Node bound used.")
    truncated: bool = strawberry.field(description="True when a bound stopped the walk.")
    truncated_at: list[str] = strawberry.field(description="Where the walk stopped.")
    markdown: str = strawberry.field(description="The report as a pull-request comment.")
    text: str = strawberry.field(description="The report as plain text.")
    report: JSON = strawberry.field(description="The whole report as JSON (as `--format json`).")

    @classmethod
    def of(cls, report: model.ImpactReport) -> ImpactReport:
        return cls(
            severity=report.severity.value,
            rule=report.rule,
            digest=report.digest,
            changes=[
                AnalysedChange(
                    kind=c.kind.value,
                    target=c.label,
                    new_name=c.new_name,
                    new_type=c.new_type,
                    compatible=c.compatible,
                )
                for c in report.changes
            ],
            affected=[
                AffectedAsset(
                    id=strawberry.ID(a.node),
                    kind=a.kind,
                    label=a.label,
                    confidence=a.confidence.value,
                    lineage=a.lineage,
                    depth=a.depth,
                    path=[
                        ImpactHop(
                            kind=h.kind,
                            source=h.source_node,
                            target=h.target_node,
                            lineage=h.lineage,
                            detail=h.detail,
                            job=h.job,
                            where=h.where,
                        )
                        for h in a.path
                    ],
                )
                for a in report.affected
            ],
            owners=[
                OwnerToNotify(
                    owner=o.owner,
                    role=o.role,
                    contact=o.contact,
                    escalation=list(o.escalation),
                    assets=list(o.assets),
                )
                for o in report.owners
            ],
            unowned=list(report.unowned),
            contracts=[
                BrokenContract(
                    contract_id=v.contract_id,
                    version=v.version,
                    reason=v.reason,
                    dependents=list(v.dependents),
                )
                for v in report.contracts
            ],
            sign_offs=list(report.sign_offs),
            depth=report.depth,
            limit=report.limit,
            truncated=report.truncated,
            truncated_at=list(report.truncated_at),
            markdown=model.markdown(report),
            text=model.text(report),
            report=cast(JSON, json.loads(json.dumps(report.as_json(), default=str))),
        )


Depth = Annotated[
    int, strawberry.argument(description=f"Hops to follow (1 to {analysis.MAX_DEPTH}).")
]
Limit = Annotated[
    int, strawberry.argument(description=f"Most assets reached (1 to {analysis.MAX_LIMIT}).")
]


def _request(change: ChangeInput) -> analysis.ChangeRequest:
    kind = model.ChangeKind(change.kind.name)
    if kind is model.ChangeKind.CHANGE_JOB:
        target = job_ref(change.namespace, change.name)
    elif change.column:
        target = column_ref(change.namespace, change.name, change.column)
    else:
        target = dataset_ref(change.namespace, change.name)
    return analysis.ChangeRequest(kind, target, new_name=change.new_name, new_type=change.new_type)


@strawberry.type(description="Impact analysis.")
class ImpactQuery:
    @strawberry.field(description="What a change set breaks downstream, and who must know.")
    def impact(
        self,
        info: Info,
        changes: Annotated[list[ChangeInput], strawberry.argument(description="The changes.")],
        depth: Depth = analysis.DEFAULT_DEPTH,
        limit: Limit = analysis.DEFAULT_LIMIT,
    ) -> ImpactReport:
        if not changes or len(changes) > MAX_CHANGES:
            raise InvalidArgument(f"give 1 to {MAX_CHANGES} changes")
        requests = [_request(c) for c in changes]
        return ImpactReport.of(analysis.analyse(store_of(info), requests, depth=depth, limit=limit))

    @strawberry.field(
        description="The impact of changing a job's SQL: Baton compares the output columns "
        "and column lineage of the two versions and analyses the difference."
    )
    def impact_of_sql(
        self,
        info: Info,
        old_sql: Annotated[str, strawberry.argument(description="The SQL before the change.")],
        new_sql: Annotated[str, strawberry.argument(description="The SQL after the change.")],
        dialect: Annotated[
            str, strawberry.argument(description="sqlglot dialect, e.g. snowflake.")
        ],
        namespace: Annotated[
            str, strawberry.argument(description="Namespace of the warehouse it runs in.")
        ],
        target: Annotated[
            str | None,
            strawberry.argument(description="The table a bare query writes (dbt compiled SQL)."),
        ] = None,
        default_database: Annotated[
            str | None, strawberry.argument(description="Database of unqualified tables.")
        ] = None,
        default_schema: Annotated[
            str | None, strawberry.argument(description="Schema of unqualified tables.")
        ] = None,
        depth: Depth = analysis.DEFAULT_DEPTH,
        limit: Limit = analysis.DEFAULT_LIMIT,
    ) -> ImpactReport:
        if max(len(old_sql), len(new_sql)) > MAX_SQL_CHARS:
            raise InvalidArgument(f"SQL longer than {MAX_SQL_CHARS} characters")
        versions = change_sets.SqlVersions(
            old_sql, new_sql, dialect, namespace, target, Defaults(default_database, default_schema)
        )
        store = store_of(info)
        requests = change_sets.from_sql(store, versions)
        return ImpactReport.of(analysis.analyse(store, requests, depth=depth, limit=limit))

    @strawberry.field(
        description="The impact of publishing a proposed contract version (ODCS YAML): its "
        "shape changes from the latest published version, analysed as a change set."
    )
    def impact_of_contract(
        self,
        info: Info,
        document: Annotated[str, strawberry.argument(description="The ODCS YAML document.")],
        depth: Depth = analysis.DEFAULT_DEPTH,
        limit: Limit = analysis.DEFAULT_LIMIT,
    ) -> ImpactReport:
        loaded, unreadable = parse_yaml(document, "document")
        if unreadable:
            raise InvalidArgument("; ".join(str(e) for e in unreadable))
        problems = odcs.problems(loaded)
        if problems:
            raise contracts.ContractRejected([f"{path}: {why}" for path, why in problems])
        store = store_of(info)
        requests = change_sets.from_contract(store, odcs.to_contract(loaded))
        return ImpactReport.of(analysis.analyse(store, requests, depth=depth, limit=limit))
