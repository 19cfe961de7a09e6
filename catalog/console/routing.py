"""How console routes behave: errors become pages, forms are read with a bound, and
redirects stay on this server."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from catalog import security
from catalog.api.sessions import same_secret
from catalog.console.rendering import render
from catalog.errors import BatonError, DataLoss, InvalidArgument, LimitExceeded, NotFound
from catalog.security import Permission

MAX_FORM_BYTES = 16 * 1024


def _problem(error: dict[str, Any]) -> str:
    """One of FastAPI's validation errors, as `field: message`."""
    return f"{error['loc'][-1]}: {error['msg']}"


class PublicPage(APIRoute):
    """A page route where a BatonError becomes an error page (404 for unknown names, with
    the nearest ones; 400 for bad parameters) instead of JSON or a traceback."""

    needs: Permission | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if self.needs is not None:
                    security.require(request.state.principal, self.needs)
                return await handler(request)
            except security.Unauthenticated as refused:
                return _failed(request, 401, "Sign-in needed", refused)
            except security.Forbidden as refused:
                return _failed(request, 403, "Not allowed", refused)
            except RequestValidationError as invalid:
                error = InvalidArgument("; ".join(_problem(e) for e in invalid.errors()))
                return _failed(request, 400, "Cannot show this", error)
            except NotFound as missing:
                return _failed(request, 404, "Not found", missing)
            except DataLoss as damaged:
                return _failed(request, 500, "Stored data is damaged", damaged)
            except BatonError as error:
                return _failed(request, 400, "Cannot show this", error)

        return guarded


def _failed(request: Request, status: int, title: str, error: Exception) -> Response:
    """An error page, or for the explorer's JSON routes, the error as JSON."""
    if request.url.path.endswith(".json"):
        return JSONResponse({"error": str(error)}, status_code=status)
    return render(request, "error.html", status, title=title, error=error)


class ConsolePage(PublicPage):
    """A page only callers who may read the catalog see."""

    needs = Permission.READ


async def form_of(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """A url-encoded form of at most `limit` bytes; each field's first value."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise LimitExceeded(f"form larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise LimitExceeded(f"form larger than {limit} bytes")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def signed_form(request: Request, doing: str) -> dict[str, str]:
    """A state-changing form's fields, once the signed-in session's CSRF secret it
    carries checks out (Forbidden otherwise: a forged or replayed post)."""
    fields = await form_of(request)
    session = request.state.session
    if session is None or not same_secret(fields.get("csrf"), session.csrf):
        raise security.Forbidden(f"{doing} from a signed-in console page (the form's CSRF check)")
    return fields


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
