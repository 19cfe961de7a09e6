"""The console's pages: each one reads through the same services as GraphQL and the CLI,
and renders a template. A page that cannot be built says why, with suggestions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from catalog import security
from catalog.api.sessions import same_secret
from catalog.console import explorer
from catalog.console.rendering import render
from catalog.console.signin import form_of
from catalog.domain import EdgeKind, NodeKind, NodeRef, job_ref, owner_key, owner_named
from catalog.errors import BatonError, InvalidArgument, NotFound
from catalog.handoffs import Decision
from catalog.security import Permission, Principal
from catalog.services import catalog, contracts, handoffs, lineage, ownership
from catalog.services.lineage import LineageDirection
from catalog.stores.protocol import Direction, LedgerQuery, NodeView, Store

SEARCHABLE = ("DATASET", "COLUMN", "JOB", "CONSUMER", "OWNER", "CONTRACT", "HANDOFF")
TIMELINE_ENTRIES = 200
"""Ledger entries offered by the explorer's "as of" control, newest first."""


class ConsolePage(APIRoute):
    """A page route: the caller must be allowed to read, and a BatonError becomes an
    error page (404 for unknown names, with the nearest ones) instead of a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                security.require(request.state.principal, Permission.READ)
                return await handler(request)
            except security.Unauthenticated as refused:
                return render(request, "error.html", 401, title="Sign-in needed", error=refused)
            except security.Forbidden as refused:
                return render(request, "error.html", 403, title="Not allowed", error=refused)
            except NotFound as missing:
                return render(request, "error.html", 404, title="Not found", error=missing)
            except BatonError as error:
                return render(request, "error.html", 400, title="Cannot show this", error=error)

        return guarded


def router(store: Store) -> APIRouter:
    pages = APIRouter(route_class=ConsolePage, include_in_schema=False)

    @pages.get("/")
    def home(request: Request) -> Response:
        recent = store.ledger(LedgerQuery(newest_first=True, limit=8))
        return render(request, "home.html", recent=recent, kinds=SEARCHABLE, q="", kind="",
                      namespace="")  # fmt: skip

    @pages.get("/search")
    def search(
        request: Request,
        q: str = "",
        kind: str = "",
        namespace: str = "",
    ) -> Response:
        hits = []
        if q.strip():
            if kind and kind not in SEARCHABLE:
                raise InvalidArgument(f"kind must be one of {', '.join(SEARCHABLE)}")
            hits = catalog.search(
                store, q, kind=NodeKind(kind) if kind else None,
                namespace=namespace or None, limit=50,
            )  # fmt: skip
        template = "_results.html" if request.headers.get("hx-request") else "search.html"
        return render(request, template, q=q, kind=kind, namespace=namespace, hits=hits,
                      kinds=SEARCHABLE)  # fmt: skip

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
            producers=_neighbours(store, ref, EdgeKind.WRITES, Direction.UPSTREAM),
            readers=_neighbours(store, ref, EdgeKind.READS, Direction.UPSTREAM),
            history=catalog.history(store, ref, first=50),
        )  # fmt: skip

    @pages.get("/jobs/{name:path}")
    def job(request: Request, name: str, namespace: str) -> Response:
        ref = job_ref(namespace, name)
        view = catalog.get_node(store, ref)
        return render(
            request, "job.html", view=view, ref=ref,
            reads=_neighbours(store, ref, EdgeKind.READS, Direction.DOWNSTREAM),
            writes=_neighbours(store, ref, EdgeKind.WRITES, Direction.DOWNSTREAM),
        )  # fmt: skip

    @pages.get("/owners/{key:path}")
    def owner(request: Request, key: str) -> Response:
        ref = owner_named(key)
        view = catalog.get_node(store, ref)
        held = ownership.owned_by(store, ref)
        return render(request, "owner.html", view=view, ref=ref, held=held)

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
        fields = await form_of(request)
        session = request.state.session
        if session is None or not same_secret(fields.get("csrf"), session.csrf):
            raise security.Forbidden("sign from a signed-in console page (the form's CSRF check)")
        if fields.get("decision") not in set(Decision):
            raise InvalidArgument("decision must be approve or reject")
        decision = Decision(fields["decision"])
        principal = request.state.principal
        await run_in_threadpool(
            handoffs.sign, store, handoff_id, fields.get("signoff", ""), decision=decision,
            comment=fields.get("comment", ""), principal=principal,
        )  # fmt: skip
        return RedirectResponse(f"/handoffs/{quote(handoff_id)}", status_code=303)

    @pages.get("/lineage")
    def explore(
        request: Request,
        namespace: str,
        name: str,
        column: str | None = None,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = Query(2, ge=1, le=20),
        as_of: datetime | None = None,
    ) -> Response:
        root, graph = _graph(store, namespace, name, column, direction, depth, as_of)
        timeline = store.ledger(LedgerQuery(newest_first=True, limit=TIMELINE_ENTRIES))
        return render(
            request, "lineage.html", graph=graph, graph_root=root, namespace=namespace, name=name,
            column=column or "", direction=direction.value, depth=depth, as_of=as_of,
            timeline=timeline, directions=[d.value for d in LineageDirection],
        )  # fmt: skip

    @pages.get("/lineage.json")
    def explore_json(
        namespace: str,
        name: str,
        column: str | None = None,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = Query(1, ge=1, le=20),
        as_of: datetime | None = None,
    ) -> Response:
        _, graph = _graph(store, namespace, name, column, direction, depth, as_of)
        return JSONResponse(graph)

    return pages


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


def _neighbours(store: Store, ref: NodeRef, kind: EdgeKind, direction: Direction) -> list[NodeView]:
    """Nodes one `kind` edge away (jobs that write a dataset, datasets a job reads...)."""
    found = store.subgraph([ref], kinds=[kind.value], direction=direction, depth=1, limit=1_000)
    others = {e.subject if e.object == ref else e.object for e in found.edges}
    return sorted(store.nodes(sorted(others, key=lambda r: r.key)), key=lambda v: v.ref.name)
