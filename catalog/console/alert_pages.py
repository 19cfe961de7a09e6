"""The console's alert pages: the list (firing first by default), one alert with what
was seen, whom it reached and every delivery, and acknowledging it from the page."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from catalog import security
from catalog.alerts.lifecycle import acknowledge
from catalog.alerts.model import AlertStatus
from catalog.console.rendering import render
from catalog.console.routing import ConsolePage, signed_form
from catalog.errors import InvalidArgument, NotFound
from catalog.security import Permission, Principal
from catalog.services.alerting import queue_of
from catalog.stores.protocol import Store

ALERTS_PAGE = 50
STATUSES = tuple(s.value for s in AlertStatus)


def router(store: Store) -> APIRouter:
    pages = APIRouter(route_class=ConsolePage, include_in_schema=False)

    @pages.get("/alerts")
    def alert_list(request: Request, status: str = "firing", before: int | None = None) -> Response:
        if status not in (*STATUSES, "all"):
            raise InvalidArgument(f"status must be one of {', '.join(STATUSES)} or all")
        found = queue_of(store).alerts(
            status=None if status == "all" else status, before_id=before, limit=ALERTS_PAGE
        )
        older = found[-1].id if len(found) == ALERTS_PAGE else None
        return render(request, "alerts.html", found=found, shown=status, older=older,
                      statuses=(*STATUSES, "all"))  # fmt: skip

    @pages.get("/alerts/{alert_id}")
    def alert(request: Request, alert_id: int) -> Response:
        queue = queue_of(store)
        found = queue.alert(alert_id)
        if found is None:
            raise NotFound(f"no alert {alert_id}; the alerts page lists them")
        principal: Principal = request.state.principal
        return render(
            request, "alert.html", alert=found, deliveries=queue.deliveries(alert_id=alert_id),
            may_ack=found.status is AlertStatus.FIRING and not found.acked_by
            and request.state.session is not None and principal.can(Permission.WRITE),
        )  # fmt: skip

    @pages.post("/alerts/{alert_id}/ack")
    async def ack(request: Request, alert_id: int) -> Response:
        await signed_form(request, "acknowledge")
        principal = security.require(request.state.principal, Permission.WRITE)
        await run_in_threadpool(acknowledge, queue_of(store), alert_id, principal.name, time.time())
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    return pages
