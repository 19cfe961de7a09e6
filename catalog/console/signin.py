"""Signing in to the console with an issued token, and out again (see api/sessions.py)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from catalog.api.auth import INVALID, Gate
from catalog.api.sessions import LIFETIME_SECONDS, SESSION_COOKIE, SIGN_IN_COOKIE, same_secret
from catalog.console.rendering import render
from catalog.console.routing import PublicPage, form_of, local_path


def router(gate: Gate) -> APIRouter:
    signing = APIRouter(route_class=PublicPage, include_in_schema=False)

    def form(request: Request, status: int = 200, error: str | None = None) -> Response:
        secret = secrets.token_urlsafe(32)
        target = local_path(request.query_params.get("next"))
        page = render(request, "signin.html", status, csrf=secret, next=target, error=error)
        page.set_cookie(SIGN_IN_COOKIE, secret, max_age=600, path="/sign-in", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")  # fmt: skip
        return page

    @signing.get("/sign-in")
    def sign_in_form(request: Request) -> Response:
        return form(request)

    @signing.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        fields = await form_of(request)
        if not same_secret(fields.get("csrf"), request.cookies.get(SIGN_IN_COOKIE)):
            return form(request, 403, "The form expired or came from another site: try again.")
        token = fields.get("token", "").strip()
        principal = gate.principal_of({"authorization": f"Bearer {token}"})
        if not token or principal is INVALID or not principal.authenticated:
            return form(request, 401, "That token is not valid here (revoked, expired, mistyped).")
        session_id, _ = gate.sessions.open(token)
        done = RedirectResponse(local_path(fields.get("next")), status_code=303)
        done.set_cookie(SESSION_COOKIE, session_id, max_age=LIFETIME_SECONDS, path="/",
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
        done.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
        return done

    @signing.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        fields = await form_of(request)
        session = request.state.session
        if session is not None and same_secret(fields.get("csrf"), session.csrf):
            gate.sessions.close(request.state.session_id)
        done = RedirectResponse("/", status_code=303)
        done.delete_cookie(SESSION_COOKIE, path="/")
        return done

    return signing
