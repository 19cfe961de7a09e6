"""The OpenLineage HTTP endpoint: what the official clients POST, unchanged.

`POST /api/v1/lineage` (and `/api/v2/lineage`): one event per request, JSON, optionally
gzip-compressed, `Authorization: Bearer <token>`. 201 on acceptance (also for an event
already seen: writes are idempotent); 400 naming the failing JSON paths, and nothing is
stored; 401 without a valid token, 403 for a token that may not write; 413 when the
body is too large.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from catalog.api import auth
from catalog.errors import StoreBusy, StoreUnavailable
from catalog.files import TooLarge, UnreadableFile, inflate_bounded
from catalog.security import Permission
from catalog.services.ingestion import ingest_openlineage_event
from catalog.stores.protocol import Store
from catalog.strict_json import JsonRejected, load_json
from ingesters.openlineage import InvalidEvent

_WRITER = ThreadPoolExecutor(1, thread_name_prefix="openlineage")
"""Events are validated and written off the event loop, by one thread: writes are
serialized by the store anyway, and one thread spares the GIL a crowd of contenders
(bench/openlineage_ingest.py: 217 events/s with the shared pool, 298 with this)."""
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_EVENT_BYTES = 20 * 1024 * 1024
"""Largest body accepted, before and after gzip: a zip bomb stops here."""


EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One event as the OpenLineage spec defines it (validated against "
        "the spec and the facets' schemas), optionally with `Content-Encoding: gzip`.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not JSON, or not a valid event; `problems` names the JSON paths."},
    401: {"description": "No valid bearer token."},
    403: {"description": "The token may not write."},
    413: {"description": "The body, or the inflated body, is too large."},
    503: {
        "description": "The store is busy with another write (retry after `Retry-After` "
        "seconds) or its disk is full; nothing was stored."
    },
}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def unavailable_response(unavailable: StoreUnavailable) -> JSONResponse:
    """503, with Retry-After when the store was only busy."""
    response = _error(503, str(unavailable), code=unavailable.code)
    if isinstance(unavailable, StoreBusy):
        response.headers["Retry-After"] = str(unavailable.retry_after)
    return response


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it passes the bound: a huge (or chunked, unannounced) body
    is never held in memory whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _decompressed(body: bytes, encoding: str) -> bytes:
    if encoding.strip().lower() != "gzip":
        return body
    return inflate_bounded(body, MAX_EVENT_BYTES, "the body")


def router(store: Store) -> APIRouter:
    routes = APIRouter(tags=["OpenLineage"])

    async def receive(request: Request) -> JSONResponse:
        principal = request.state.principal
        refused = auth.refusal(principal, Permission.WRITE)
        if refused is not None:
            return refused
        actor = principal.name
        body = await _bounded_body(request)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            event = load_json(_decompressed(body, request.headers.get("content-encoding", "")))
        except TooLarge:
            return _error(413, f"event larger than {MAX_EVENT_BYTES} bytes")
        except JsonRejected as rejected:
            return _error(400, "the body is not an acceptable JSON event", problems=[str(rejected)])
        except (ValueError, UnreadableFile, zlib.error) as error:
            return _error(400, "the body is not a JSON event", problems=[f"$: {error}"])
        try:
            # Off the event loop: it must stay free for other requests (and health probes)
            # while this one validates, or waits for another write.
            result = await asyncio.get_running_loop().run_in_executor(
                _WRITER, functools.partial(ingest_openlineage_event, store, event, actor=actor)
            )
        except InvalidEvent as invalid:
            return _error(
                400, "the event does not match the OpenLineage spec", problems=invalid.problems
            )
        except StoreUnavailable as unavailable:
            return unavailable_response(unavailable)
        return JSONResponse(
            {
                "accepted": True,
                "changed": result.changed,
                "ledger_seq": result.ledger_seq,
            },
            status_code=201,
        )

    for path in ("/api/v1/lineage", "/api/v2/lineage"):
        routes.add_api_route(
            path,
            receive,
            methods=["POST"],
            status_code=201,
            summary="Receive one OpenLineage RunEvent, DatasetEvent or JobEvent.",
            openapi_extra=EVENT_BODY,
            responses=ANSWERS,
        )
    return routes
