"""The GraphQL schema: types mirror the domain, resolvers call services and nothing else."""

from __future__ import annotations

import base64
import functools
import json
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, cast

import anyio.to_thread
import strawberry
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter
from strawberry.scalars import JSON
from strawberry.types import ExecutionResult, Info

from catalog import ledger as ledger_model
from catalog.api.alert_schema import AlertMutation, AlertQuery
from catalog.api.arguments import AsOf
from catalog.api.auth import Authorization, require
from catalog.api.context import store_of
from catalog.api.contract_schema import ContractMutation, ContractQuery
from catalog.api.cost import CostLimit
from catalog.api.errors import TypedErrors, log_errors
from catalog.api.handoff_schema import HandoffMutation, HandoffQuery
from catalog.api.impact_schema import ImpactQuery
from catalog.api.limits import DocumentLimits
from catalog.api.ownership_schema import OwnershipMutation, OwnershipQuery
from catalog.domain import NodeKind, dataset_ref
from catalog.errors import InvalidArgument
from catalog.security import Permission
from catalog.services import audit, catalog, lineage
from catalog.stores.protocol import EdgeView, LedgerQuery, NodeView
from graphql import GraphQLError

# -- helpers ------------------------------------------------------------------------------


def _json(attrs: dict[str, Any]) -> JSON:
    return cast(JSON, attrs)


def _encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise InvalidArgument(f"malformed cursor {cursor!r}") from error


Namespace = Annotated[
    str, strawberry.argument(description="Dataset namespace, e.g. `postgres://host:5432`.")
]
Name = Annotated[str, strawberry.argument(description="Dataset name, e.g. `db.schema.table`.")]
ColumnName = Annotated[
    str | None,
    strawberry.argument(description="A column of the dataset, for column-level answers."),
]
First = Annotated[int, strawberry.argument(description="How many items (at most 500).")]
After = Annotated[
    str | None, strawberry.argument(description="`pageInfo.endCursor` of the previous page.")
]


# -- types --------------------------------------------------------------------------------


@strawberry.enum(description="Which way to walk lineage from the starting node.")
class LineageDirection(Enum):
    UPSTREAM = strawberry.enum_value("UPSTREAM", description="Toward the sources it derives from.")
    DOWNSTREAM = strawberry.enum_value("DOWNSTREAM", description="Toward what derives from it.")
    BOTH = strawberry.enum_value("BOTH", description="Both ways, each to the requested depth.")


@strawberry.type(description="A column of a dataset.")
class Column:
    id: strawberry.ID = strawberry.field(description="Opaque, stable identity of the column.")
    name: str = strawberry.field(description="Column name, normalized for the SQL dialect.")
    data_type: str | None = strawberry.field(description="Declared type, when a source gave one.")
    ordinal: int | None = strawberry.field(description="1-based position in the dataset.")
    sources: list[str] = strawberry.field(description="Sources that assert this column.")

    @classmethod
    def of(cls, view: NodeView) -> Column:
        return cls(
            id=strawberry.ID(view.ref.key),
            name=view.ref.column or "",
            data_type=view.attrs.get("data_type"),
            ordinal=view.attrs.get("ordinal"),
            sources=list(view.sources),
        )


@strawberry.type(description="One thing a search found.")
class SearchHit:
    id: strawberry.ID = strawberry.field(description="Opaque, stable identity.")
    kind: str = strawberry.field(description="DATASET, COLUMN, JOB, CONSUMER, OWNER, ...")
    namespace: str = strawberry.field(description="Where it lives (a contract's id).")
    name: str = strawberry.field(description="Its name (a column's dataset, a version).")
    column: str | None = strawberry.field(description="The column, for columns.")
    label: str = strawberry.field(description="How Baton writes it: `namespace/name`.")
    description: str | None = strawberry.field(description="Its description, if any.")

    @classmethod
    def of(cls, view: NodeView) -> SearchHit:
        described = view.attrs.get("description")
        return cls(
            id=strawberry.ID(view.ref.key),
            kind=view.ref.kind.value,
            namespace=view.ref.namespace,
            name=view.ref.name,
            column=view.ref.column,
            label=str(view.ref),
            description=described if isinstance(described, str) else None,
        )


@strawberry.interface(description="Anything in the catalog named by OpenLineage conventions.")
class CatalogNode:
    id: strawberry.ID = strawberry.field(description="Opaque, stable identity.")
    namespace: str = strawberry.field(
        description="Where it lives, e.g. `postgres://host:5432` (for columns: their dataset's)."
    )
    name: str = strawberry.field(
        description="Name within the namespace, e.g. `db.schema.t` (for columns: their dataset's)."
    )
    attributes: JSON = strawberry.field(description="All attributes asserted by its sources.")


@strawberry.type(description="A table, view, file or topic, named per OpenLineage conventions.")
class Dataset(CatalogNode):
    type: str | None = strawberry.field(description="TABLE, VIEW, MATERIALIZED VIEW, ... if known.")
    sources: list[str] = strawberry.field(description="Sources that assert this dataset.")

    as_of: strawberry.Private[datetime | None]

    @strawberry.field(
        description="Columns in ordinal order, as of the same instant as the dataset."
    )
    def columns(self, info: Info) -> list[Column]:
        ref = dataset_ref(self.namespace, self.name)
        return [Column.of(view) for view in catalog.columns(store_of(info), ref, self.as_of)]

    @classmethod
    def of(cls, view: NodeView, as_of: datetime | None = None) -> Dataset:
        return cls(
            as_of=as_of,
            id=strawberry.ID(view.ref.key),
            namespace=view.ref.namespace,
            name=view.ref.name,
            type=view.attrs.get("type"),
            attributes=_json(view.attrs),
            sources=list(view.sources),
        )


@strawberry.type(description="A transformation: a SQL statement, a dbt model, a pipeline task.")
class Job(CatalogNode):
    sql: str | None = strawberry.field(description="The statement's SQL text, for SQL jobs.")

    @classmethod
    def of(cls, view: NodeView) -> Job:
        return cls(
            id=strawberry.ID(view.ref.key),
            namespace=view.ref.namespace,
            name=view.ref.name,
            sql=view.attrs.get("sql"),
            attributes=_json(view.attrs),
        )


@strawberry.type(description="A dataset or column reached by a lineage walk.")
class LineageNode(CatalogNode):
    kind: str = strawberry.field(description="DATASET or COLUMN.")
    column: str | None = strawberry.field(description="Column name, for COLUMN nodes.")
    depth: int = strawberry.field(
        description="Hops from the start: negative upstream, positive downstream, 0 the start."
    )


@strawberry.type(description="Which source asserted an edge, and where in it.")
class Provenance:
    source: str = strawberry.field(description="The source, e.g. `sql:models/orders.sql`.")
    line: int | None = strawberry.field(description="Line of the statement in the source file.")
    statement: int | None = strawberry.field(description="1-based statement index in the file.")
    job_id: strawberry.ID | None = strawberry.field(description="The job that creates this edge.")


@strawberry.type(description="A lineage edge, pointing downstream, with evidence and validity.")
class LineageEdge:
    kind: str = strawberry.field(
        description="FEEDS (dataset to dataset), DERIVES (column to column: its value flows) "
        "or INFLUENCES (column to dataset: it decides which rows, via a join, filter, "
        "grouping or sort)."
    )
    from_id: strawberry.ID = strawberry.field(description="Upstream node id.")
    to_id: strawberry.ID = strawberry.field(description="Downstream node id.")
    transformation: str | None = strawberry.field(
        description="For DERIVES: IDENTITY, TRANSFORMATION or AGGREGATION."
    )
    subtype: str | None = strawberry.field(
        description="For INFLUENCES: JOIN, FILTER, GROUP_BY or SORT (OpenLineage INDIRECT)."
    )
    column_lineage: str | None = strawberry.field(
        description="For FEEDS: COMPLETE, PARTIAL or NONE column lineage behind this edge."
    )
    inferred: bool = strawberry.field(
        description="True when the upstream column is known only by inference: the SQL read "
        "it through `*` from the one source that could hold it, with no schema to confirm."
    )
    provenance: Provenance = strawberry.field(description="Who asserted this edge, and where.")
    valid_from: datetime = strawberry.field(description="When the edge was first asserted.")
    valid_to: datetime | None = strawberry.field(
        description="When its source stopped asserting it; null while current."
    )

    @classmethod
    def of(cls, edge: EdgeView) -> LineageEdge:
        attrs = edge.attrs
        job = attrs.get("job")
        return cls(
            kind=edge.kind,
            from_id=strawberry.ID(edge.subject.key),
            to_id=strawberry.ID(edge.object.key),
            transformation=attrs.get("transformation"),
            subtype=attrs.get("subtype"),
            column_lineage=attrs.get("column_lineage"),
            inferred=bool(attrs.get("inferred")),
            provenance=Provenance(
                source=edge.source,
                line=attrs.get("line"),
                statement=attrs.get("statement"),
                job_id=strawberry.ID(job) if job else None,
            ),
            valid_from=edge.valid_from,
            valid_to=edge.valid_to,
        )


@strawberry.type(description="The lineage around one dataset or column.")
class LineageGraph:
    root_id: strawberry.ID = strawberry.field(description="Id of the starting node.")
    nodes: list[LineageNode] = strawberry.field(description="Nodes reached, the start included.")
    edges: list[LineageEdge] = strawberry.field(description="Edges among the nodes reached.")
    jobs: list[Job] = strawberry.field(description="Jobs that create the edges.")
    truncated: bool = strawberry.field(
        description="True when the node limit cut the walk short; raise `limit` or narrow it."
    )


@strawberry.type(description="How many assertions of one kind a ledger entry added or ended.")
class ChangeCount:
    change: str = strawberry.field(description="`added:KIND` or `ended:KIND`.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="One assertion that a ledger entry added or ended.")
class Change:
    op: str = strawberry.field(description="`added` or `ended`.")
    source: str = strawberry.field(description="The source whose assertion changed.")
    kind: str = strawberry.field(description="FACT or an edge kind.")
    subject: str = strawberry.field(description="Subject node id.")
    object: str | None = strawberry.field(description="Object node id, for edges.")


@strawberry.type(description="One entry of the append-only, hash-chained audit ledger.")
class LedgerEntry:
    seq: int = strawberry.field(description="Position in the ledger, from 1, without gaps.")
    at: datetime = strawberry.field(description="When the write was committed (UTC).")
    actor: str = strawberry.field(description="The principal that made the write.")
    source: str = strawberry.field(description="What was ingested, e.g. `sql examples/`.")
    reason: str = strawberry.field(description="Why, as given by the actor.")
    summary: list[ChangeCount] = strawberry.field(description="Counts of changes by kind.")
    entities: list[str] = strawberry.field(description="Ids of datasets and jobs touched.")
    prev_hash: str = strawberry.field(description="Hash of the previous entry.")
    hash: str = strawberry.field(description="SHA-256 over this entry and `prevHash`.")
    model: strawberry.Private[ledger_model.LedgerEntry]

    @strawberry.field(description="The individual changes, at most `first` of them.")
    def changes(self, first: First = 100) -> list[Change]:
        return [
            Change(op=c.op.value, source=c.source, kind=c.kind, subject=c.subject, object=c.object)
            for c in self.model.changes[: max(first, 0)]
        ]

    @classmethod
    def of(cls, entry: ledger_model.LedgerEntry) -> LedgerEntry:
        return cls(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            source=entry.source,
            reason=entry.reason,
            summary=[ChangeCount(change=k, count=v) for k, v in entry.summary.items()],
            entities=entry.entities,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
            model=entry,
        )


@strawberry.type(description="One assertion as a ledger entry left it, before and after.")
class AssertionDiff:
    op: str = strawberry.field(
        description="`added`, `ended`, or `changed` (ended and added again with new attributes)."
    )
    source: str = strawberry.field(description="The source that asserted it.")
    kind: str = strawberry.field(description="FACT (a node's attributes) or an edge kind.")
    subject: strawberry.ID = strawberry.field(description="Subject node id.")
    object: strawberry.ID | None = strawberry.field(description="Object node id, for edges.")
    before: JSON | None = strawberry.field(description="Attributes before; null if added.")
    after: JSON | None = strawberry.field(description="Attributes after; null if ended.")
    changed_properties: list[str] = strawberry.field(
        description="Attribute names whose value differs between before and after."
    )


@strawberry.type(description="What one ledger entry changed, assertion by assertion.")
class LedgerEntryDetail:
    entry: LedgerEntry = strawberry.field(description="The entry.")
    diffs: list[AssertionDiff] = strawberry.field(description="Its changes, before and after.")
    truncated: bool = strawberry.field(description="True when more changes than `first`.")


@strawberry.type(description="Result of recomputing the ledger's hash chain.")
class LedgerVerification:
    ok: bool = strawberry.field(description="True when every entry matches its hash and link.")
    entries_checked: int = strawberry.field(description="Entries verified before any problem.")
    head_hash: str = strawberry.field(description="Hash of the last good entry.")
    first_bad_seq: int | None = strawberry.field(description="First entry that fails, if any.")
    problem: str | None = strawberry.field(description="What is wrong with that entry.")


@strawberry.type(description="Pagination state of a connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="A dataset with its cursor.")
class DatasetEdge:
    cursor: str = strawberry.field(description="Position of this item.")
    node: Dataset = strawberry.field(description="The dataset.")


@strawberry.type(description="A page of datasets.")
class DatasetConnection:
    edges: list[DatasetEdge] = strawberry.field(description="The datasets of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="A page of ledger entries, oldest first.")
class LedgerConnection:
    entries: list[LedgerEntry] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="What happened to a dataset or column over time.")
class History:
    entries: list[LedgerEntry] = strawberry.field(description="Ledger entries that touched it.")
    edges: list[LineageEdge] = strawberry.field(
        description="Every edge touching it, ended ones included, oldest first."
    )


# -- root ---------------------------------------------------------------------------------


@strawberry.type(description="Read access to the catalog, its lineage and its ledger.")
class Query(ContractQuery, OwnershipQuery, ImpactQuery, HandoffQuery, AlertQuery):
    @strawberry.field(description="One dataset by identity, as of now or a past instant.")
    def dataset(self, info: Info, namespace: Namespace, name: Name, as_of: AsOf = None) -> Dataset:
        store = store_of(info)
        found = catalog.get_node(
            store, catalog.resolve_ref(store, namespace, name, None, as_of), as_of
        )
        return Dataset.of(found, as_of)

    @strawberry.field(
        description="Anything in the catalog (datasets, columns, jobs, consumers, owners, "
        "contracts, handoffs) whose name, any part of it as you type (`fct_orders` finds "
        "`analytics.marts.fct_orders`), description or tags hold the words of `text`, "
        "case-insensitively; exact names first."
    )
    def search(
        self,
        info: Info,
        text: Annotated[str, strawberry.argument(description="Words to look for.")],
        kind: Annotated[
            str | None, strawberry.argument(description="Only this kind, e.g. `DATASET`.")
        ] = None,
        namespace: Annotated[
            str | None, strawberry.argument(description="Only this namespace.")
        ] = None,
        owner: Annotated[
            str | None,
            strawberry.argument(description="Only what this owner (`team:x`) holds a role on."),
        ] = None,
        first: Annotated[int, strawberry.argument(description="Most hits (up to 100).")] = 20,
    ) -> list[SearchHit]:
        if kind is not None and kind not in NodeKind.__members__:
            raise InvalidArgument(f"unknown kind {kind!r}; one of {', '.join(NodeKind)}")
        found = catalog.search(
            store_of(info), text,
            kind=NodeKind(kind) if kind else None, namespace=namespace, owner=owner,
            limit=first,
        )  # fmt: skip
        return [SearchHit.of(view) for view in found]

    @strawberry.field(description="Datasets ordered by namespace and name, optionally searched.")
    def datasets(
        self,
        info: Info,
        search: Annotated[
            str | None, strawberry.argument(description="Substring of namespace or name.")
        ] = None,
        first: First = 50,
        after: After = None,
    ) -> DatasetConnection:
        position = _decode_cursor(after)
        page = catalog.find_datasets(
            store_of(info), search=search, first=first, after=tuple(position) if position else None
        )
        edges = [
            DatasetEdge(cursor=_encode_cursor([v.ref.namespace, v.ref.name]), node=Dataset.of(v))
            for v in page.items
        ]
        return DatasetConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(
        description="Lineage of a dataset (table level) or of one of its columns (column level)."
    )
    def lineage(
        self,
        info: Info,
        namespace: Namespace,
        name: Name,
        column: ColumnName = None,
        direction: Annotated[
            LineageDirection, strawberry.argument(description="Which way to walk.")
        ] = LineageDirection.BOTH,
        depth: Annotated[
            int, strawberry.argument(description="Hops to follow each way (1 to 20).")
        ] = 3,
        limit: Annotated[
            int | None,
            strawberry.argument(description="Most nodes per direction (default and cap 5000)."),
        ] = None,
        as_of: AsOf = None,
    ) -> LineageGraph:
        store = store_of(info)
        result = lineage.lineage(
            store,
            catalog.resolve_ref(store, namespace, name, column, as_of),
            direction=lineage.LineageDirection(direction.name),
            depth=depth,
            limit=limit,
            as_of=as_of,
        )
        return LineageGraph(
            root_id=strawberry.ID(result.root.key),
            nodes=[
                LineageNode(
                    id=strawberry.ID(n.node.ref.key),
                    kind=n.node.ref.kind.value,
                    namespace=n.node.ref.namespace,
                    name=n.node.ref.name,
                    column=n.node.ref.column,
                    depth=n.depth,
                    attributes=_json(n.node.attrs),
                )
                for n in result.nodes
            ],
            edges=[LineageEdge.of(e) for e in result.edges],
            jobs=[Job.of(j) for j in result.jobs],
            truncated=result.truncated,
        )

    @strawberry.field(description="The ledger entries and edge history of a dataset or column.")
    def history(
        self,
        info: Info,
        namespace: Namespace,
        name: Name,
        column: ColumnName = None,
        first: First = 100,
    ) -> History:
        store = store_of(info)
        found = catalog.history(
            store, catalog.resolve_ref(store, namespace, name, column), first=first
        )
        return History(
            entries=[LedgerEntry.of(e) for e in found.entries],
            edges=[LineageEdge.of(e) for e in found.edges],
        )

    @strawberry.field(description="The audit ledger, oldest first, filtered and paginated.")
    def ledger(
        self,
        info: Info,
        first: First = 50,
        after: After = None,
        actor: Annotated[
            str | None, strawberry.argument(description="Only entries by this principal.")
        ] = None,
        entity: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only entries touching this node id (dataset, column, job, owner, "
                "contract version, handoff), as `id` fields give it."
            ),
        ] = None,
        since: Annotated[
            datetime | None, strawberry.argument(description="Only entries at or after.")
        ] = None,
        until: Annotated[
            datetime | None, strawberry.argument(description="Only entries at or before.")
        ] = None,
        source: Annotated[
            str | None,
            strawberry.argument(description="Only entries written by this source."),
        ] = None,
    ) -> LedgerConnection:
        require(info.context, Permission.READ_LEDGER)
        after_seq = _decode_cursor(after) or 0
        if not isinstance(after_seq, int):
            raise InvalidArgument(f"malformed cursor {after!r}")
        query = LedgerQuery(
            entity=entity,
            actor=actor,
            source=source,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=first,
        )
        entries, has_next = audit.ledger_page(store_of(info), query)
        return LedgerConnection(
            entries=[LedgerEntry.of(e) for e in entries],
            page_info=PageInfo(
                has_next_page=has_next,
                end_cursor=_encode_cursor(entries[-1].seq) if entries else None,
            ),
        )

    @strawberry.field(description="What one ledger entry changed, with before and after.")
    def ledger_entry(
        self,
        info: Info,
        seq: Annotated[int, strawberry.argument(description="The entry's sequence number.")],
        first: Annotated[
            int, strawberry.argument(description="At most this many changes (1-10000).")
        ] = 1_000,
    ) -> LedgerEntryDetail:
        require(info.context, Permission.READ_LEDGER)
        detail = audit.entry_detail(store_of(info), seq, first)
        return LedgerEntryDetail(
            entry=LedgerEntry.of(detail.entry),
            diffs=[
                AssertionDiff(
                    op=d.op,
                    source=d.source,
                    kind=d.kind,
                    subject=strawberry.ID(d.subject.key),
                    object=strawberry.ID(d.object.key) if d.object else None,
                    before=_json(d.before) if d.before is not None else None,
                    after=_json(d.after) if d.after is not None else None,
                    changed_properties=d.changed_properties,
                )
                for d in detail.diffs
            ],
            truncated=detail.truncated,
        )

    @strawberry.field(description="Recompute the ledger's hash chain and report the first break.")
    def ledger_verification(
        self,
        info: Info,
        deep: Annotated[
            bool,
            strawberry.argument(
                description="Also replay every entry and check the store holds exactly the "
                "assertions, with the attributes, the ledger records (slower: the whole graph)."
            ),
        ] = False,
    ) -> LedgerVerification:
        require(info.context, Permission.READ_LEDGER)
        store = store_of(info)
        result = audit.verify_graph(store) if deep else audit.verify_ledger(store)
        return LedgerVerification(
            ok=result.ok,
            entries_checked=result.entries_checked,
            head_hash=result.head_hash,
            first_bad_seq=result.first_bad_seq,
            problem=result.problem,
        )


@strawberry.type(description="Changes to the catalog; each needs a bearer token and is ledgered.")
class Mutation(ContractMutation, OwnershipMutation, HandoffMutation, AlertMutation):
    pass


class WorkerThreadSchema(strawberry.Schema):
    """Runs each operation (validation, resolvers, store reads and writes) in a worker
    thread: the event loop only moves bytes, so one slow operation never stalls the
    server's other requests or its health probes."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        return await anyio.to_thread.run_sync(functools.partial(self.execute_sync, *args, **kwargs))

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_errors(errors)  # instead of strawberry's log line, which quotes the query


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema with its limits; without introspection for deployments that hide it."""
    extensions: list[Any] = [
        TypedErrors,
        Authorization,
        lambda: MaxTokensLimiter(max_token_count=2_000),
        DocumentLimits,
        CostLimit,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return WorkerThreadSchema(query=Query, mutation=Mutation, extensions=extensions)


schema = build_schema()
