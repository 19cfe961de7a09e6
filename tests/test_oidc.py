"""OIDC bearer tokens: signatures checked with the issuer's JWKS (file or URL), issuer,
audience and expiry enforced, roles and owner taken from claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from typer.testing import CliRunner

from catalog.api import auth
from catalog.api.app import create_app
from catalog.cli import app
from catalog.config import Settings
from catalog.errors import InvalidArgument
from catalog.oidc import OidcSettings, OidcVerifier
from catalog.security import Role
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from tests.conftest import open_handoff, running

ISSUER = "https://id.acme.example/"
AUDIENCE = "baton"


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_file(issuer_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(issuer_key.public_key()))
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    return path


@pytest.fixture(scope="module")
def verifier(jwks_file: Path) -> OidcVerifier:
    return OidcVerifier(OidcSettings(ISSUER, AUDIENCE, str(jwks_file), owner_claim="email"))


def token(key: Any, algorithm: str = "RS256", kid: str = "k1", **overrides: Any) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ana",
        "exp": int(time.time()) + 300,
        "roles": ["editor"],
        "email": "Ana@Acme.example",
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key,
                      algorithm=algorithm, headers={"kid": kid})  # fmt: skip


def test_a_valid_token_is_its_subject_with_its_roles_and_owner(
    verifier: OidcVerifier, issuer_key: rsa.RSAPrivateKey
) -> None:
    principal = verifier.verify(token(issuer_key))
    assert principal is not None
    assert (principal.name, principal.roles) == ("oidc:ana", frozenset({Role.EDITOR}))
    assert principal.owner == "person:ana@acme.example"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-app"},
        {"iss": "https://evil.example/"},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"sub": None},
    ],
    ids=["audience", "issuer", "expired", "no expiry", "no subject"],
)
def test_a_token_with_wrong_claims_is_refused(
    verifier: OidcVerifier, issuer_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    assert verifier.verify(token(issuer_key, **claims)) is None


def test_a_token_signed_by_another_key_is_refused(verifier: OidcVerifier) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verifier.verify(token(forger)) is None


def test_an_unknown_key_id_is_refused(
    verifier: OidcVerifier, issuer_key: rsa.RSAPrivateKey
) -> None:
    assert verifier.verify(token(issuer_key, kid="k2")) is None


def forged(algorithm: str, secret: bytes) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to make these)."""

    def part(value: Any) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60}
    signed = part({"alg": algorithm, "kid": "k1", "typ": "JWT"}) + b"." + part(claims)
    signature = hmac.new(secret, signed, hashlib.sha256).digest() if secret else b""
    return (signed + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def test_unsigned_and_hmac_tokens_are_refused(verifier: OidcVerifier, jwks_file: Path) -> None:
    assert verifier.verify(forged("none", b"")) is None
    # the classic confusion: HS256 "signed" with the issuer's public key as the secret
    assert verifier.verify(forged("HS256", jwks_file.read_bytes())) is None


def test_unknown_role_names_are_ignored(
    verifier: OidcVerifier, issuer_key: rsa.RSAPrivateKey
) -> None:
    principal = verifier.verify(token(issuer_key, roles="reader superuser"))
    assert principal is not None and principal.roles == frozenset({Role.READER})


def test_keys_are_fetched_from_a_jwks_url(issuer_key: rsa.RSAPrivateKey, jwks_file: Path) -> None:
    handler = partial(SimpleHTTPRequestHandler, directory=str(jwks_file.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{jwks_file.name}"
        by_url = OidcVerifier(OidcSettings(ISSUER, AUDIENCE, url))
        principal = by_url.verify(token(issuer_key))
        assert principal is not None and principal.name == "oidc:ana"
    finally:
        server.shutdown()


@pytest.fixture
def served(embedded: EmbeddedStore, verifier: OidcVerifier) -> Iterator[str]:
    gate = auth.Gate(anonymous=auth.NOBODY, oidc=verifier)
    with running(create_app(embedded, gate=gate)) as url:
        yield url


ASSIGN = (
    'mutation { assignOwner(namespace: "x://y", name: "t", owner: "team:a", role: "steward") '
    "{ changed } }"
)


def call(url: str, bearer: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.post(
        f"{url}/graphql", json={"query": ASSIGN}, headers={"Authorization": f"Bearer {bearer}"}
    ).json()
    return body


def test_a_jwt_caller_writes_and_the_ledger_names_its_subject(
    served: str, embedded: EmbeddedStore, issuer_key: rsa.RSAPrivateKey
) -> None:
    body = call(served, token(issuer_key))
    assert "errors" not in body, body
    assert [e.actor for e in embedded.ledger(LedgerQuery(limit=5))] == ["oidc:ana"]


def test_a_jwt_without_a_writing_role_is_forbidden_not_unauthenticated(
    served: str, issuer_key: rsa.RSAPrivateKey
) -> None:
    body = call(served, token(issuer_key, roles=["reader"]))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    expired = call(served, token(issuer_key, exp=int(time.time()) - 3600))
    assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_oidc_settings_need_issuer_audience_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_OIDC_ISSUER", ISSUER)
    with pytest.raises(InvalidArgument, match="BATON_OIDC_AUDIENCE, BATON_OIDC_JWKS"):
        Settings.from_env()


def test_a_missing_jwks_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        OidcVerifier(OidcSettings(ISSUER, AUDIENCE, str(tmp_path / "nope.json")))


def test_the_cli_signs_with_an_identity_provider_token(
    owned_warehouse: EmbeddedStore, issuer_key: rsa.RSAPrivateKey, jwks_file: Path
) -> None:
    home = Path(owned_warehouse.path).parent
    open_handoff(owned_warehouse)
    maria = token(issuer_key, sub="maria", roles=["approver"], email="maria@acme.example")
    env = {
        "BATON_OIDC_ISSUER": ISSUER,
        "BATON_OIDC_AUDIENCE": AUDIENCE,
        "BATON_OIDC_JWKS": str(jwks_file),
        "BATON_OIDC_OWNER_CLAIM": "email",
        "BATON_TOKEN": maria,
    }
    signed = CliRunner().invoke(
        app, ["--home", str(home), "handoff", "sign", "orders-prod", "governance"], env=env
    )
    assert signed.exit_code == 0, signed.output
    assert "as person:maria@acme.example (oidc:maria)" in signed.output
