"""The FastAPI application: the console at /, GraphQL at /graphql (GraphiQL in a browser),
the REST endpoints (described at /docs), health probes; every asset served from here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cross_web import HTTPException
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from strawberry.fastapi import GraphQLRouter

import catalog
from catalog.api import auth, ledger_export, openlineage
from catalog.api.edge import Edge
from catalog.api.schema import build_schema, schema
from catalog.checkpoints import CheckpointLog
from catalog.console import alert_pages, pages, signin
from catalog.console.rendering import STATIC, render
from catalog.services.chain_watch import ChainWatch
from catalog.stores.protocol import Store
from catalog.strict_json import JsonRejected, dump_json, load_json


class StrictJsonGraphQLRouter(GraphQLRouter[dict[str, Any], None]):
    """Request bodies are one JSON object in UTF-8 (RFC 8259), read by `load_json`'s
    rules: anything else is a 400 saying why, never a decoding crash (the standard
    library would also guess UTF-16 or UTF-32 from the first bytes)."""

    def decode_json(self, data: str | bytes) -> object:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            body = load_json(text)
        except UnicodeDecodeError as error:
            raise HTTPException(400, "the body is not UTF-8") from error
        except JsonRejected as rejected:
            raise HTTPException(400, f"the body is not acceptable JSON: {rejected}") from rejected
        except ValueError as error:
            raise HTTPException(400, "the body is not JSON") from error
        if not isinstance(body, dict):
            raise HTTPException(400, "the body must be a JSON object with a `query`")
        return body

    def encode_json(self, data: object) -> str:
        return dump_json(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from vendored files (strawberry's page loads it from a CDN)."""
        return render(request, "graphiql.html")


def create_app(
    store: Store,
    *,
    api_token: str | None = None,
    gate: auth.Gate | None = None,
    introspection: bool = True,
    checkpoints: CheckpointLog | None = None,
    chain: ChainWatch | None = None,
) -> FastAPI:
    """The HTTP API over `store`. `gate` decides who calls (default: the static
    `api_token` may write, anonymous loopback callers may read); `introspection` off
    hides the schema from clients (GraphiQL then cannot help either); `chain` keeps the
    console's verdict on the ledger's chain."""
    gate = gate or auth.Gate(static_token=api_token)
    app = FastAPI(
        title="Baton",
        version=catalog.__version__,
        description="Metadata catalog and lineage graph for data handoffs.",
        docs_url=None,  # served below from vendored files; FastAPI's page uses a CDN
        redoc_url=None,
    )

    async def context(request: Request) -> dict[str, Any]:
        return {
            "store": store,
            "request": request,
            "principal": request.state.principal,
        }

    served = schema if introspection else build_schema(introspection=False)
    app.include_router(StrictJsonGraphQLRouter(served, context_getter=context), prefix="/graphql")
    app.include_router(openlineage.router(store))
    app.include_router(ledger_export.router(store, checkpoints))
    app.include_router(pages.router(store, chain))
    app.include_router(alert_pages.router(store))
    app.include_router(signin.router(gate))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Edge, gate=gate)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return render(request, "swagger.html")

    @app.get("/healthz", summary="Liveness: the process is up.")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the store answers queries.")
    def readyz() -> JSONResponse:
        try:
            store.seq_at(datetime.now(UTC))
            problem = store.unready()
        except Exception as error:  # any store failure means "not ready"
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, 503)
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, 503)
        return JSONResponse({"status": "ready"})

    return app
