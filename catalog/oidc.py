"""OIDC / JWT bearer tokens, for organizations with an identity provider.

A token is accepted when its signature verifies with a key of the issuer's JWKS (a file,
re-read when it changes, or an HTTPS URL, cached), it was issued by the configured issuer
for the configured audience, and it has not expired. Only asymmetric algorithms are
accepted: `none` and HMAC (whose key would be the public JWKS) are refused. The token's
roles claim names Baton roles (unknown names are ignored, so a token without one is
authenticated but may do nothing); an optional owner claim (e.g. `email`) binds the
principal to `person:<value>` for sign-offs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from catalog.errors import InvalidArgument
from catalog.security import Principal, Role

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_SECONDS = 30
"""Clock skew tolerated on `exp`, `nbf` and `iat`."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    jwks: str
    """Path of a JWKS file, or an `https://` URL serving one."""
    roles_claim: str = "roles"
    owner_claim: str | None = None
    client_id: str | None = None
    """With the two URLs below, people sign in to the console through the provider
    (authorization code flow with PKCE); the ID token it issues is then the session's."""
    client_secret: str | None = None
    authorization_url: str | None = None
    token_url: str | None = None

    @property
    def signs_in(self) -> bool:
        return bool(self.client_id and self.authorization_url and self.token_url)


class OidcVerifier:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._file: Path | None = None
        self._keys: tuple[float, jwt.PyJWKSet] | None = None
        if settings.jwks.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(settings.jwks, cache_keys=True, lifespan=300, timeout=5)
        else:
            self._file = Path(settings.jwks)
            if not self._file.is_file():
                raise InvalidArgument(f"JWKS file {self._file} does not exist")

    def verify(self, token: str) -> Principal | None:
        """The principal a valid token stands for; None for anything else."""
        claims = self.claims(token)
        return None if claims is None else self._principal(claims)

    def claims(self, token: str) -> dict[str, Any] | None:
        """A valid token's claims (the API's audience, or the console's client id for the
        ID tokens of people who signed in); None for anything else."""
        audiences = [self.settings.audience, *filter(None, [self.settings.client_id])]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(token),
                algorithms=list(ALGORITHMS),
                audience=audiences,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        return claims

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._file_keys()
        if kid is None:
            if len(keys.keys) != 1:
                raise KeyError("a token without `kid` needs a JWKS with exactly one key")
            return keys.keys[0].key
        return keys[kid].key

    def _file_keys(self) -> jwt.PyJWKSet:
        assert self._file is not None
        mtime = self._file.stat().st_mtime
        if self._keys is None or self._keys[0] != mtime:  # keys rotate: re-read on change
            document = json.loads(self._file.read_text(encoding="utf-8"))
            self._keys = (mtime, jwt.PyJWKSet.from_dict(document))
        return self._keys[1]

    def _principal(self, claims: dict[str, Any]) -> Principal:
        granted = claims.get(self.settings.roles_claim) or []
        if isinstance(granted, str):
            granted = granted.split()
        known = {role.value: role for role in Role}
        roles = frozenset(known[r] for r in granted if isinstance(r, str) and r in known)
        owner = None
        if self.settings.owner_claim and isinstance(claims.get(self.settings.owner_claim), str):
            owner = f"person:{claims[self.settings.owner_claim].lower()}"
        return Principal(f"oidc:{claims['sub']}", roles, owner=owner)
