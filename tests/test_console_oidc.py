"""Signing in to the console through an OIDC provider: authorization code flow with PKCE,
state and nonce checked, the ID token kept on the server as the session's."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jwt.algorithms import RSAAlgorithm

from catalog.api import auth
from catalog.api.app import create_app
from catalog.config import Settings
from catalog.errors import InvalidArgument
from catalog.oidc import OidcSettings, OidcVerifier
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import running

ISSUER = "https://id.acme.example/"
CLIENT_ID = "baton-console"


@dataclass
class Provider:
    """A stand-in identity provider that approves whoever asks, as a real one would after
    its login page; it remembers the PKCE challenge and nonce of each code it issues."""

    key: rsa.RSAPrivateKey
    nonce_override: str | None = None
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        provider = FastAPI()

        @provider.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:
            asked = request.query_params
            assert asked["code_challenge_method"] == "S256"
            self.codes["code-1"] = (asked["code_challenge"], asked["nonce"])
            back = {"code": "code-1", "state": asked["state"]}
            return RedirectResponse(f"{asked['redirect_uri']}?{urlencode(back)}", 302)

        @provider.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            code, code_verifier = form["code"], form["code_verifier"]
            challenge, nonce = self.codes.pop(code)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
                return JSONResponse({"error": "invalid_grant"}, 400)
            claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "ana", "roles": ["approver"],
                      "email": "ana@acme.example", "exp": int(time.time()) + 300,
                      "nonce": self.nonce_override or nonce}  # fmt: skip
            signed = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
            return JSONResponse({"id_token": signed, "token_type": "Bearer"})

        return provider


@pytest.fixture(scope="module")
def provider() -> Provider:
    return Provider(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def signing_in(
    provider: Provider, embedded: EmbeddedStore, tmp_path: Path
) -> Iterator[tuple[str, httpx.Client]]:
    """Baton, configured with the provider; a browser-like client (cookies, no JS)."""
    public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256"}]}))
    with running(provider.app()) as idp:
        settings = OidcSettings(
            ISSUER, "baton-api", str(jwks), owner_claim="email", client_id=CLIENT_ID,
            authorization_url=f"{idp}/authorize", token_url=f"{idp}/token",
        )  # fmt: skip
        gate = auth.Gate(anonymous=auth.NOBODY, oidc=OidcVerifier(settings))
        with running(create_app(embedded, gate=gate)) as baton, httpx.Client() as client:
            yield baton, client


def through_the_provider(baton: str, client: httpx.Client) -> httpx.Response:
    """Follow the sign-in: to the provider and back to Baton's callback."""
    to_provider = client.get(f"{baton}/sign-in/oidc?next=/search")
    assert to_provider.status_code == 303
    back = client.get(to_provider.headers["location"])
    assert back.status_code == 302
    return client.get(back.headers["location"])


def test_a_person_signs_in_through_the_provider(signing_in: tuple[str, httpx.Client]) -> None:
    baton, client = signing_in
    assert client.get(f"{baton}/search").status_code == 401  # nobody, off loopback rules
    answer = through_the_provider(baton, client)
    assert answer.status_code == 200
    assert 'http-equiv="refresh" content="0;url=/search"' in answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get(f"{baton}/search")
    assert page.status_code == 200
    assert "oidc:ana" in page.text


def test_the_sign_in_request_carries_pkce_and_state(signing_in: tuple[str, httpx.Client]) -> None:
    baton, client = signing_in
    asked = parse_qs(urlparse(client.get(f"{baton}/sign-in/oidc").headers["location"]).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["code_challenge_method"] == ["S256"]
    assert len(asked["state"][0]) >= 32 and asked["nonce"][0]
    assert asked["redirect_uri"] == [f"{baton}/sign-in/oidc/callback"]


def test_a_replayed_callback_is_refused(signing_in: tuple[str, httpx.Client]) -> None:
    baton, client = signing_in
    to_provider = client.get(f"{baton}/sign-in/oidc")
    callback = client.get(to_provider.headers["location"]).headers["location"]
    assert client.get(callback).status_code == 200
    replayed = client.get(callback)
    assert replayed.status_code == 400
    assert "expired or was already used" in replayed.text


def test_a_token_minted_for_another_sign_in_is_refused(
    signing_in: tuple[str, httpx.Client], provider: Provider
) -> None:
    baton, client = signing_in
    provider.nonce_override = "someone-elses-nonce"
    try:
        answer = through_the_provider(baton, client)
    finally:
        provider.nonce_override = None
    assert answer.status_code == 401
    assert "baton_session" not in answer.headers.get("set-cookie", "")


def test_without_a_configured_provider_there_is_no_such_sign_in(
    embedded: EmbeddedStore,
) -> None:
    with running(create_app(embedded)) as baton:
        assert httpx.get(f"{baton}/sign-in/oidc").status_code == 404
        assert "Sign in with" not in httpx.get(f"{baton}/sign-in").text


def test_sign_in_settings_need_both_provider_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ISSUER": ISSUER, "AUDIENCE": "a", "JWKS": "j", "CLIENT_ID": "c"}.items():
        monkeypatch.setenv(f"BATON_OIDC_{name}", value)
    with pytest.raises(InvalidArgument, match="AUTHORIZATION_URL, BATON_OIDC_TOKEN_URL"):
        Settings.from_env()
