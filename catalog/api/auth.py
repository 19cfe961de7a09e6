"""Who is calling: the principal a request authenticates as, for every write endpoint.

Until the security issue brings issued tokens and roles, one static token
(`BATON_API_TOKEN`) authorizes writes; its holder is recorded as `token:static`.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from catalog.errors import BatonError

STATIC_TOKEN_ACTOR = "token:static"


class Unauthenticated(BatonError):
    code = "UNAUTHENTICATED"


def principal(request: Request, token: str | None) -> str | None:
    """The caller's principal, or None when the request carries no valid bearer token."""
    if token is None:
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return STATIC_TOKEN_ACTOR
    return None


def required(found: str | None, token: str | None) -> str:
    """The principal, or `Unauthenticated` saying what is missing."""
    if found is None:
        hint = "" if token else " (writes are disabled until BATON_API_TOKEN is set)"
        raise Unauthenticated("a valid bearer token is required" + hint)
    return found
