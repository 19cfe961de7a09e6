"""The FastAPI application: GraphQL at /graphql (GraphiQL in a browser), health probes."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter

import catalog
from catalog.api import auth, openlineage
from catalog.api.schema import schema
from catalog.stores.protocol import Store

access = logging.getLogger("baton.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_FIELDS = ("request_id", "method", "path", "status", "ms", "principal")


class JsonLines(logging.Formatter):
    """Log records as one JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: getattr(record, k) for k in _FIELDS if hasattr(record, k)}
        return json.dumps(line)


MAX_GRAPHQL_BODY = 2 * 1024 * 1024
"""Largest GraphQL request: a contract document or SQL pair fits; a flood does not."""


def create_app(
    store: Store, *, api_token: str | None = None, gate: auth.Gate | None = None
) -> FastAPI:
    """The HTTP API over `store`. `gate` decides who calls (default: the static
    `api_token` may write, anonymous loopback callers may read)."""
    gate = gate or auth.Gate(static_token=api_token)
    app = FastAPI(
        title="Baton",
        version=catalog.__version__,
        description="Metadata catalog and lineage graph for data handoffs.",
    )

    async def context(request: Request) -> dict[str, Any]:
        return {
            "store": store,
            "request": request,
            "principal": gate.principal(request),
        }

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """One structured line per request, with a request id (the caller's
        `X-Request-ID` if it sent a sane one); never headers, bodies or tokens."""
        given = request.headers.get("x-request-id", "")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        principal = gate.principal(request)
        access.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "principal": principal.name,
            },
        )
        return response

    @app.middleware("http")
    async def bounded_graphql(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """GraphQL bodies must declare their length, and stay under the bound."""
        if request.method == "POST" and request.url.path.startswith("/graphql"):
            declared = request.headers.get("content-length")
            if declared is None or not declared.isdigit():
                return JSONResponse({"error": "a Content-Length header is required"}, 411)
            if int(declared) > MAX_GRAPHQL_BODY:
                return JSONResponse({"error": f"body larger than {MAX_GRAPHQL_BODY} bytes"}, 413)
        return await call_next(request)

    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")
    app.include_router(openlineage.router(store, gate))

    @app.get("/healthz", summary="Liveness: the process is up.")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the store answers queries.")
    def readyz() -> JSONResponse:
        try:
            store.seq_at(datetime.now(UTC))
        except Exception as error:  # any store failure means "not ready"
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, 503)
        return JSONResponse({"status": "ready"})

    return app
