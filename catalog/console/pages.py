"""The console's pages: each one reads through the same services as GraphQL and the CLI,
and renders a template. A page that cannot be built says why, with suggestions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from catalog import security
from catalog.api.edge import MAX_GRAPHQL_BODY
from catalog.console import explorer
from catalog.console.rendering import render
from catalog.console.routing import ConsolePage, form_of, signed_form
from catalog.domain import EdgeKind, NodeKind, NodeRef, job_ref, owner_key, owner_named
from catalog.errors import InvalidArgument
from catalog.handoffs import Decision
from catalog.impact import ChangeKind
from catalog.ledger import LedgerEntry
from catalog.links import lineage_url
from catalog.security import Permission, Principal
from catalog.services import (
    audit,
    catalog,
    change_sets,
    contracts,
    handoffs,
    impact,
    lineage,
    ownership,
    suggestions,
)  # fmt: skip
from catalog.services.chain_watch import ChainWatch
from catalog.services.lineage import LineageDirection
from catalog.stores.common import SEARCHED
from catalog.stores.protocol import Direction, LedgerQuery, Store
from ingesters.sql.names import Defaults

SEARCHABLE = tuple(kind.value for kind in SEARCHED)
LEDGER_PAGE = 50
EDGE_TABLE_ROWS = 300
"""Edges the explorer also lists as a table (for keyboards and screen readers); a page
of thousands of rows would cost more to load than the graph itself."""
TIMELINE_ENTRIES = 200
"""Ledger entries offered by the explorer's "as of" control, newest first."""


def router(store: Store, chain: ChainWatch | None = None) -> APIRouter:
    """The console's pages over `store`; `chain` keeps the ledger page's verdict (by
    default hashed in a thread of this process)."""
    pages = APIRouter(route_class=ConsolePage, include_in_schema=False)
    chain = chain or ChainWatch(store)

    @pages.get("/")
    def home(request: Request) -> Response:
        recent = _recent(request, store, 8)
        return render(request, "home.html", recent=recent, kinds=SEARCHABLE, q="", kind="",
                      namespace="", owner="")  # fmt: skip

    @pages.get("/search")
    def search(
        request: Request,
        q: str = "",
        kind: str = "",
        namespace: str = "",
        owner: str = "",
    ) -> Response:
        hits, near = [], []
        if q.strip():
            if kind and kind not in SEARCHABLE:
                raise InvalidArgument(f"kind must be one of {', '.join(SEARCHABLE)}")
            hits = catalog.search(
                store, q, kind=NodeKind(kind) if kind else None,
                namespace=namespace or None, owner=owner or None, limit=50,
            )  # fmt: skip
            if not hits:  # a near miss is answered with what it may have meant
                near = suggestions.near_refs(store, NodeKind(kind or "DATASET"), q.strip())
        template = "_results.html" if request.headers.get("hx-request") else "search.html"
        return render(request, template, q=q, kind=kind, namespace=namespace, owner=owner,
                      hits=hits, near=near, kinds=SEARCHABLE)  # fmt: skip

    @pages.get("/datasets/{name:path}")
    def dataset(request: Request, name: str, namespace: str | None = None) -> Response:
        ref = catalog.resolve_dataset(store, name, namespace)
        view = catalog.get_node(store, ref)
        neighbours = lineage.lineage(store, ref, depth=1)
        published = contracts.of_dataset(store, ref)
        return render(
            request,
            "dataset.html",
            view=view,
            ref=ref,
            columns=catalog.columns(store, ref),
            owners=ownership.owners_of(store, ref),
            contracts=[(c, contracts.drift(store, c.contract_id, c.version),
                        contracts.dependents(store, c.contract_id)) for c in published],
            checks=catalog.checks(store, ref),
            consumers=catalog.consumers(store, ref),
            upstream=[n.node for n in neighbours.nodes if n.depth < 0],
            downstream=[n.node for n in neighbours.nodes if n.depth > 0],
            producers=catalog.linked(store, [ref], EdgeKind.WRITES, Direction.UPSTREAM),
            readers=catalog.linked(store, [ref], EdgeKind.READS, Direction.UPSTREAM),
            history=catalog.history(store, ref, first=50),
            alerts=queue.firing_about(str(ref)) if (queue := store.alert_queue()) else [],
        )  # fmt: skip

    @pages.get("/jobs/{name:path}")
    def job(request: Request, name: str, namespace: str) -> Response:
        ref = job_ref(namespace, name)
        view = catalog.get_node(store, ref)
        return render(
            request, "job.html", view=view, ref=ref,
            reads=catalog.linked(store, [ref], EdgeKind.READS, Direction.DOWNSTREAM),
            writes=catalog.linked(store, [ref], EdgeKind.WRITES, Direction.DOWNSTREAM),
        )  # fmt: skip

    @pages.get("/owners/{key:path}")
    def owner(request: Request, key: str) -> Response:
        ref = owner_named(key)
        view = catalog.get_node(store, ref)
        held = ownership.owned_by(store, ref)
        return render(request, "owner.html", view=view, ref=ref, held=held)

    @pages.get("/contracts/{contract_id:path}")
    def contract(request: Request, contract_id: str, version: str = "") -> Response:
        found = contracts.published(store, contract_id)
        shown = contracts.version(store, contract_id, version or None)
        return render(
            request, "contract.html", versions=found, shown=shown,
            drift=contracts.drift(store, contract_id, shown.version),
            pins=contracts.dependents(store, contract_id),
        )  # fmt: skip

    @pages.get("/handoffs")
    def handoff_list(request: Request) -> Response:
        return render(request, "handoffs.html", found=handoffs.find(store, limit=200))

    @pages.get("/handoffs/{handoff_id}")
    def handoff(request: Request, handoff_id: str) -> Response:
        evaluation = handoffs.evaluate(store, handoffs.get(store, handoff_id))
        principal: Principal = request.state.principal
        held = ownership.owners_of_many(store, list(evaluation.handoff.datasets))
        holders = {
            status.spec.name: sorted({owner_key(o.owner.ref) for found in held.values()
                                      for o in found if o.role == status.spec.role})
            for status in evaluation.signoffs
        }  # fmt: skip
        return render(
            request, "handoff.html", evaluation=evaluation, holders=holders,
            may_sign=principal.can(Permission.SIGN) and principal.owner is not None
            and request.state.session is not None,
            history=handoffs.signoffs(store, handoff_id),
        )  # fmt: skip

    @pages.post("/handoffs/{handoff_id}/sign")
    async def sign_handoff(request: Request, handoff_id: str) -> Response:
        fields = await signed_form(request, "sign")
        if fields.get("decision") not in set(Decision):
            raise InvalidArgument("decision must be approve or reject")
        decision = Decision(fields["decision"])
        principal = request.state.principal
        await run_in_threadpool(
            handoffs.sign, store, handoff_id, fields.get("signoff", ""), decision=decision,
            comment=fields.get("comment", ""), principal=principal,
        )  # fmt: skip
        return RedirectResponse(f"/handoffs/{quote(handoff_id)}", status_code=303)

    @pages.get("/ledger")
    def ledger(
        request: Request,
        dataset: str = "",
        namespace: str = "",
        column: str = "",
        owner: str = "",
        contract: str = "",
        actor: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        before: int | None = None,
    ) -> Response:
        security.require(request.state.principal, Permission.READ_LEDGER)
        entity = audit.filter_entity(
            store, dataset=dataset or None, namespace=namespace or None, column=column or None,
            owner=owner or None, contract=contract or None,
        )  # fmt: skip
        query = LedgerQuery(
            entity=entity, actor=actor or None, source=source or None, since=_moment(since),
            until=_moment(until), before_seq=before, newest_first=True, limit=LEDGER_PAGE,
        )  # fmt: skip
        entries, more = audit.ledger_page(store, query)
        filters = {"dataset": dataset, "namespace": namespace, "column": column, "owner": owner,
                   "contract": contract, "actor": actor, "source": source,
                   "since": since, "until": until}  # fmt: skip
        older = {k: v for k, v in filters.items() if v} | {"before": str(entries[-1].seq)}
        return render(
            request, "ledger.html", entries=entries, filters=filters,
            older=urlencode(older) if more and entries else None,
            chain=chain.status(),
        )  # fmt: skip

    @pages.get("/ledger/{seq}")
    def ledger_entry(request: Request, seq: int) -> Response:
        security.require(request.state.principal, Permission.READ_LEDGER)
        return render(request, "entry.html", detail=audit.entry_detail(store, seq, first=500))

    @pages.get("/impact")
    def impact_page(
        request: Request, target: str = "", namespace: str = "", change: str = "",
        new: str = "",
    ) -> Response:  # fmt: skip
        report = None
        if target.strip():
            wanted = _change_request(store, target.strip(), namespace or None, change, new)
            report = impact.analyse(store, [wanted])
        return render(
            request, "impact.html", report=report, target=target, namespace=namespace,
            change=change, new=new, changes=PROPOSABLE, sql={},
        )  # fmt: skip

    @pages.post("/impact")
    async def impact_of_sql(request: Request) -> Response:
        """Old and new SQL of a model: too long for a URL, and changes nothing."""
        sql = await form_of(request, limit=MAX_GRAPHQL_BODY)
        versions = change_sets.SqlVersions(
            sql.get("old_sql", ""), sql.get("new_sql", ""), sql.get("dialect") or "postgres",
            sql.get("namespace", ""), sql.get("target") or None,
            Defaults(sql.get("default_database") or None, sql.get("default_schema") or None),
        )  # fmt: skip
        if not versions.namespace:
            raise InvalidArgument("namespace: say which warehouse the SQL runs in")
        report = await run_in_threadpool(
            lambda: impact.analyse(store, change_sets.from_sql(store, versions))
        )
        return render(
            request, "impact.html", report=report, target="", namespace=versions.namespace,
            change="", new="", changes=PROPOSABLE, sql=sql,
        )  # fmt: skip

    @pages.get("/lineage")
    def explore(
        request: Request,
        namespace: str,
        name: str,
        column: str | None = None,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = Query(2, ge=1, le=20),
        as_of: str = "",
    ) -> Response:
        moment = _moment(as_of)
        root, graph = _graph(store, namespace, name, column, direction, depth, moment)
        timeline = _recent(request, store, TIMELINE_ENTRIES)
        return render(
            request, "lineage.html", graph=graph, graph_root=root, namespace=namespace, name=name,
            column=column or "", direction=direction.value, depth=depth, as_of=moment,
            timeline=timeline, directions=[d.value for d in LineageDirection],
            table_rows=EDGE_TABLE_ROWS,
        )  # fmt: skip

    @pages.get("/columns.json")
    def columns_json(namespace: str, name: str) -> Response:
        """A dataset's columns, for the explorer's expand-to-columns."""
        ref = catalog.resolve_dataset(store, name, namespace)
        return JSONResponse(
            [
                {"column": c.ref.column, "type": c.attrs.get("data_type"),
                 "lineage": lineage_url(c.ref, direction="BOTH", depth="3")}
                for c in catalog.columns(store, ref)
            ]
        )  # fmt: skip

    @pages.get("/lineage.json")
    def explore_json(
        namespace: str,
        name: str,
        column: str | None = None,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = Query(1, ge=1, le=20),
        as_of: str = "",
    ) -> Response:
        _, graph = _graph(store, namespace, name, column, direction, depth, _moment(as_of))
        return JSONResponse(graph)

    return pages


PROPOSABLE = {
    ChangeKind.DROP_COLUMN: "drop the column",
    ChangeKind.RENAME_COLUMN: "rename the column to…",
    ChangeKind.RETYPE_COLUMN: "change the column's type to…",
    ChangeKind.DROP_DATASET: "drop the dataset",
    ChangeKind.RENAME_DATASET: "rename the dataset to…",
}
"""The changes a person can propose by naming a target (SQL edits are the other way)."""


def _change_request(
    store: Store, target: str, namespace: str | None, change: str, new: str
) -> impact.ChangeRequest:
    if change not in set(PROPOSABLE):
        raise InvalidArgument(f"change must be one of {', '.join(PROPOSABLE)}")
    kind = ChangeKind(change)
    ref = impact.resolve_target(store, target, namespace)
    on_column = kind in (ChangeKind.DROP_COLUMN, ChangeKind.RENAME_COLUMN, ChangeKind.RETYPE_COLUMN)
    if on_column and ref.column is None:
        raise InvalidArgument(f"{target!r} is a dataset: name a column as DATASET.COLUMN")
    if not on_column and ref.column is not None:
        raise InvalidArgument(f"{target!r} is a column: name the dataset")
    needs = {ChangeKind.RENAME_COLUMN: "name", ChangeKind.RENAME_DATASET: "name",
             ChangeKind.RETYPE_COLUMN: "type"}.get(kind)  # fmt: skip
    if needs and not new.strip():
        raise InvalidArgument(f"give the new {needs}")
    return impact.ChangeRequest(
        kind, ref, new_name=new.strip() if needs == "name" else None,
        new_type=new.strip() if needs == "type" else None,
    )  # fmt: skip


def _recent(request: Request, store: Store, count: int) -> list[LedgerEntry]:
    """The newest ledger entries, for callers who may read the ledger (else none)."""
    if not request.state.principal.can(Permission.READ_LEDGER):
        return []
    return store.ledger(LedgerQuery(newest_first=True, limit=count))


def _moment(text: str) -> datetime | None:
    """An instant from a form field: empty is none; browsers send date-times without a
    zone, which the console reads as UTC."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidArgument(f"{text!r} is not a date and time (ISO 8601)") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _graph(
    store: Store,
    namespace: str,
    name: str,
    column: str | None,
    direction: LineageDirection,
    depth: int,
    as_of: datetime | None,
) -> tuple[NodeRef, dict[str, Any]]:
    ref = catalog.resolve_ref(store, namespace, name, column, as_of)
    walked = lineage.lineage(store, ref, direction=direction, depth=depth, as_of=as_of)
    return ref, explorer.elements(store, walked, as_of)
