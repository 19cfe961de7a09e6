"""Who may do what: roles, their permissions, principals, and API tokens.

Tokens are random (shown once, when created) and stored only as salted hashes in
`<home>/tokens.json`, readable by the owner alone. A token is `baton_<id>_<secret>`: the
id finds the record, the secret is checked in constant time against its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from catalog.errors import BatonError, InvalidArgument
from catalog.files import write_atomically


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"  # ingest, edit metadata
    APPROVER = "approver"  # sign-offs, where the principal holds an owner role
    ADMIN = "admin"  # tokens, policies
    AUDITOR = "auditor"  # read everything, the ledger included; write nothing


class Permission(StrEnum):
    READ = "read"
    READ_LEDGER = "read_ledger"
    WRITE = "write"
    SIGN = "sign"
    ADMINISTER = "administer"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READER: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.APPROVER: frozenset({Permission.READ, Permission.SIGN}),
    Role.AUDITOR: frozenset({Permission.READ, Permission.READ_LEDGER}),
    Role.ADMIN: frozenset(Permission),
}
"""The one table of who may do what; docs/security.md prints it."""


class Unauthenticated(BatonError):
    code = "UNAUTHENTICATED"


class Forbidden(BatonError):
    code = "FORBIDDEN"


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[Role]
    authenticated: bool = True
    owner: str | None = None
    """The person or team (`person:<email>`, `team:<name>`) the principal acts as, for
    sign-offs: set when its token was created with `--owner`."""

    def can(self, permission: Permission) -> bool:
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)


def require(principal: Principal, permission: Permission) -> Principal:
    """The principal, if it may; else Unauthenticated (nobody known) or Forbidden."""
    if principal.can(permission):
        return principal
    if not principal.authenticated:
        raise Unauthenticated(f"{permission.value} needs a valid bearer token")
    roles = ", ".join(sorted(r.value for r in principal.roles)) or "no role"
    raise Forbidden(f"{principal.name} ({roles}) may not {permission.value}")


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str
    roles: tuple[Role, ...]
    salt: str
    digest: str
    created_at: str
    revoked_at: str | None = None
    owner: str | None = None


TOKEN_PREFIX = "baton_"


class TokenStore:
    """API tokens in `<home>/tokens.json` (mode 0600), as salted SHA-256 hashes.

    SHA-256 rather than a slow password hash: the secrets are 256 random bits, so there is
    nothing to brute-force, and verifying stays cheap on every request."""

    def __init__(self, home: Path) -> None:
        self.path = home / "tokens.json"

    def _load(self) -> list[TokenRecord]:
        if not self.path.exists():
            return []
        raw: list[dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))
        return [TokenRecord(**{**r, "roles": tuple(Role(x) for x in r["roles"])}) for r in raw]

    def _save(self, records: list[TokenRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            [{**r.__dict__, "roles": [x.value for x in r.roles]} for r in records], indent=2
        )
        write_atomically(self.path, lambda sink: sink.write(body), mode=0o600)
        self._cached = None

    def create(
        self, name: str, roles: list[Role], owner: str | None = None
    ) -> tuple[TokenRecord, str]:
        """A new token; the secret is returned once and never stored."""
        if not roles:
            raise InvalidArgument("a token needs at least one role")
        records = self._load()
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        record = TokenRecord(
            id=token_id,
            name=name,
            roles=tuple(dict.fromkeys(roles)),
            salt=salt,
            digest=_digest(salt, secret),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            owner=owner,
        )
        self._save([*records, record])
        return record, f"{TOKEN_PREFIX}{token_id}_{secret}"

    def revoke(self, token_id: str) -> TokenRecord:
        records = self._load()
        found = next((r for r in records if r.id == token_id), None)
        if found is None:
            raise InvalidArgument(f"no token {token_id}")
        revoked = TokenRecord(
            **{**found.__dict__, "revoked_at": datetime.now(UTC).isoformat(timespec="seconds")}
        )
        self._save([revoked if r.id == token_id else r for r in records])
        return revoked

    def list(self) -> list[TokenRecord]:
        return self._load()

    def verify(self, presented: str) -> Principal | None:
        """The principal a token stands for, or None (unknown, malformed or revoked)."""
        if not presented.startswith(TOKEN_PREFIX):
            return None
        token_id, _, secret = presented.removeprefix(TOKEN_PREFIX).partition("_")
        for record in self._load():
            current = record.id == token_id and record.revoked_at is None
            if current and hmac.compare_digest(record.digest, _digest(record.salt, secret)):
                return Principal(
                    f"token:{record.name}", frozenset(record.roles), owner=record.owner
                )
        return None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
