"""Signing in to the console, with an issued token or through the OIDC provider
(authorization code flow with PKCE), and out again (see api/sessions.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.request
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from catalog import security
from catalog.api.auth import INVALID, Gate
from catalog.api.sessions import LIFETIME_SECONDS, SESSION_COOKIE, SIGN_IN_COOKIE, same_secret
from catalog.console.rendering import render
from catalog.console.routing import PublicPage, form_of, local_path
from catalog.errors import InvalidArgument, NotFound, StoreUnavailable
from catalog.oidc import OidcSettings


def router(gate: Gate) -> APIRouter:
    signing = APIRouter(route_class=PublicPage, include_in_schema=False)

    def form(request: Request, status: int = 200, error: str | None = None) -> Response:
        secret = secrets.token_urlsafe(32)
        target = local_path(request.query_params.get("next"))
        provider = gate.oidc.settings.issuer if gate.oidc and gate.oidc.settings.signs_in else None
        page = render(request, "signin.html", status, csrf=secret, next=target, error=error,
                      provider=provider)  # fmt: skip
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

    @signing.get("/sign-in/oidc")
    def sign_in_with_provider(request: Request) -> Response:
        settings = _provider(gate)
        state, pending = gate.sessions.begin_sign_in(local_path(request.query_params.get("next")))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
        query = urlencode({
            "response_type": "code", "client_id": settings.client_id,
            "redirect_uri": _callback(request), "scope": "openid email profile",
            "state": state, "nonce": pending.nonce,
            "code_challenge": challenge.decode().rstrip("="), "code_challenge_method": "S256",
        })  # fmt: skip
        return RedirectResponse(f"{settings.authorization_url}?{query}", status_code=303)

    @signing.get("/sign-in/oidc/callback")
    def provider_answered(request: Request, state: str = "", code: str = "") -> Response:
        settings = _provider(gate)
        pending = gate.sessions.finish_sign_in(state)
        if pending is None or not code:
            raise InvalidArgument(
                request.query_params.get("error_description")
                or "this sign-in expired or was already used: sign in again"
            )
        id_token = _redeem(settings, code, pending.verifier, _callback(request))
        claims = gate.oidc.claims(id_token) if gate.oidc else None
        if claims is None or not same_secret(claims.get("nonce"), pending.nonce):
            raise security.Unauthenticated("the identity provider's token did not verify")
        session_id, _ = gate.sessions.open(id_token)
        # A page, not a redirect: the provider's redirect made this navigation cross-site,
        # and a SameSite=Strict cookie only rides on the next, same-site, one.
        who = gate.principal_of({"authorization": f"Bearer {id_token}"})
        done = render(request, "signed_in.html", next=pending.next, who=who)
        done.set_cookie(SESSION_COOKIE, session_id, max_age=LIFETIME_SECONDS, path="/",
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
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


def _provider(gate: Gate) -> OidcSettings:
    if gate.oidc is None or not gate.oidc.settings.signs_in:
        raise NotFound("sign-in through an identity provider is not configured here")
    return gate.oidc.settings


def _callback(request: Request) -> str:
    return str(request.url_for("provider_answered"))


def _redeem(settings: OidcSettings, code: str, verifier: str, redirect_uri: str) -> str:
    """The ID token the provider gives for `code` (the token endpoint, with PKCE)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.client_id or "", "code_verifier": verifier}  # fmt: skip
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    asked = urllib.request.Request(
        str(settings.token_url), data=urlencode(form).encode(), method="POST",
        headers={"Accept": "application/json",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(asked, timeout=PROVIDER_TIMEOUT) as answer:
            body = json.loads(answer.read(MAX_TOKEN_ANSWER))
    except (OSError, ValueError) as error:
        raise StoreUnavailable(f"the identity provider did not answer: {error}") from error
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise security.Unauthenticated("the identity provider gave no ID token")
    return str(body["id_token"])


PROVIDER_TIMEOUT = 10
MAX_TOKEN_ANSWER = 1024 * 1024
