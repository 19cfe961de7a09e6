"""`GET /api/v1/ledger/export`: the whole ledger as JSON Lines, streamed, for auditors.

Each line holds an entry's hashed content and its hash (`catalog.ledger.export_line`), and
the signed checkpoints follow, so `baton ledger verify --export FILE [--public-key PUB]`
checks a download with no access to the server.
Needs the `read_ledger` permission (auditor, admin): 401 without a token, 403 without it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from catalog.api import auth
from catalog.checkpoints import CheckpointLog
from catalog.security import Permission
from catalog.services import audit
from catalog.stores.protocol import Store


def router(store: Store, checkpoints: CheckpointLog | None = None) -> APIRouter:
    routes = APIRouter()

    @routes.get(
        "/api/v1/ledger/export",
        summary="The ledger as JSON Lines with its hash chain (read_ledger).",
        response_class=StreamingResponse,
    )
    def export(request: Request) -> Response:
        refused = auth.refusal(request.state.principal, Permission.READ_LEDGER)
        if refused is not None:
            return refused
        return StreamingResponse(
            audit.export_lines(store, checkpoints),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="baton-ledger.jsonl"'},
        )

    return routes
