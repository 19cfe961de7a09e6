"""How console routes behave: errors become pages, forms are read with a bound, and
redirects stay on this server."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from catalog import security
from catalog.console.rendering import render
from catalog.errors import BatonError, InvalidArgument, LimitExceeded, NotFound
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
                return render(request, "error.html", 401, title="Sign-in needed", error=refused)
            except security.Forbidden as refused:
                return render(request, "error.html", 403, title="Not allowed", error=refused)
            except RequestValidationError as invalid:
                error = InvalidArgument("; ".join(_problem(e) for e in invalid.errors()))
                return render(request, "error.html", 400, title="Cannot show this", error=error)
            except NotFound as missing:
                return render(request, "error.html", 404, title="Not found", error=missing)
            except BatonError as error:
                return render(request, "error.html", 400, title="Cannot show this", error=error)

        return guarded


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


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
