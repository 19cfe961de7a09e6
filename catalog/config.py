"""Settings read from the environment (and CLI flags), resolved once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from catalog.errors import InvalidArgument
from catalog.oidc import OidcSettings


@dataclass(frozen=True)
class Neo4jSettings:
    """Where the Neo4j store connects; the password never appears in a repr or a log."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str = "neo4j"


@dataclass(frozen=True)
class Settings:
    home: Path
    """Data directory of the embedded store (`BATON_HOME`, default `./.baton`)."""
    api_token: str | None = field(default=None, repr=False)
    """Bearer token that authorizes writes over HTTP (`BATON_API_TOKEN`); none: no writes."""
    query_timeout: float = 30.0
    """Seconds one store read may run before it is stopped (`BATON_QUERY_TIMEOUT`)."""
    write_wait: float = 5.0
    """Seconds a write waits for another write to finish before it is refused as busy
    (`BATON_WRITE_WAIT`; HTTP 503 with Retry-After)."""
    store: str = "embedded"
    """`embedded` (SQLite in `home`) or `neo4j` (`BATON_STORE`)."""
    neo4j: Neo4jSettings | None = None
    """`BATON_NEO4J_URI`, `_USER`, `_PASSWORD`, `_DATABASE`; required when store is neo4j."""
    oidc: OidcSettings | None = None
    """JWT verification (`BATON_OIDC_ISSUER`, `_AUDIENCE`, `_JWKS`, `_ROLES_CLAIM`,
    `_OWNER_CLAIM`) and console sign-in through the provider (`_CLIENT_ID`,
    `_CLIENT_SECRET`, `_AUTHORIZATION_URL`, `_TOKEN_URL`); None when no issuer is set."""

    alerts: Path | None = None
    """The alerting configuration file (`BATON_ALERTS`; docs/alerts.md); None: alerts
    are still recorded in the outbox, but nothing is routed or sent."""

    @classmethod
    def from_env(cls, home: Path | None = None) -> Settings:
        return cls(
            home=home or Path(os.environ.get("BATON_HOME", ".baton")),
            api_token=os.environ.get("BATON_API_TOKEN") or None,
            query_timeout=_seconds("BATON_QUERY_TIMEOUT", "30"),
            write_wait=_seconds("BATON_WRITE_WAIT", "5"),
            store=_store_from_env(),
            neo4j=_neo4j_from_env(),
            oidc=_oidc_from_env(),
            alerts=Path(os.environ["BATON_ALERTS"]) if os.environ.get("BATON_ALERTS") else None,
        )

    @property
    def database(self) -> Path:
        return self.home / "baton.db"


def _oidc_from_env() -> OidcSettings | None:
    env = {k: os.environ.get(f"BATON_OIDC_{k}") or None for k in _OIDC_KEYS}
    if not any(env.values()):
        return None
    missing = [f"BATON_OIDC_{k}" for k in ("ISSUER", "AUDIENCE", "JWKS") if not env[k]]
    if missing:
        raise InvalidArgument(f"OIDC needs {', '.join(missing)} as well")
    sign_in = [f"BATON_OIDC_{k}" for k in _SIGN_IN_KEYS if not env[k]]
    if env["CLIENT_ID"] and sign_in:
        raise InvalidArgument(f"OIDC sign-in needs {', '.join(sign_in)} as well")
    return OidcSettings(
        issuer=str(env["ISSUER"]),
        audience=str(env["AUDIENCE"]),
        jwks=str(env["JWKS"]),
        roles_claim=env["ROLES_CLAIM"] or "roles",
        owner_claim=env["OWNER_CLAIM"],
        client_id=env["CLIENT_ID"],
        client_secret=env["CLIENT_SECRET"],
        authorization_url=env["AUTHORIZATION_URL"],
        token_url=env["TOKEN_URL"],
    )


_SIGN_IN_KEYS = ("CLIENT_ID", "AUTHORIZATION_URL", "TOKEN_URL")
_OIDC_KEYS = (
    "ISSUER", "AUDIENCE", "JWKS", "ROLES_CLAIM", "OWNER_CLAIM", *_SIGN_IN_KEYS, "CLIENT_SECRET",
)  # fmt: skip


def _seconds(variable: str, default: str) -> float:
    text = os.environ.get(variable, default)
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise InvalidArgument(f"{variable} must be a positive number of seconds: {text!r}")
    return value


def _store_from_env() -> str:
    store = os.environ.get("BATON_STORE", "embedded")
    if store not in ("embedded", "neo4j"):
        raise InvalidArgument(f"BATON_STORE must be embedded or neo4j, not {store!r}")
    if store == "neo4j" and not os.environ.get("BATON_NEO4J_URI"):
        raise InvalidArgument("BATON_STORE=neo4j needs BATON_NEO4J_URI (e.g. bolt://neo4j:7687)")
    return store


def _neo4j_from_env() -> Neo4jSettings | None:
    uri = os.environ.get("BATON_NEO4J_URI")
    if not uri:
        return None
    return Neo4jSettings(
        uri=uri,
        user=os.environ.get("BATON_NEO4J_USER", "neo4j"),
        password=os.environ.get("BATON_NEO4J_PASSWORD", ""),
        database=os.environ.get("BATON_NEO4J_DATABASE", "neo4j"),
    )
