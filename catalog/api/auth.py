"""Who is calling, decided in one place for GraphQL and REST: the request's bearer token
(an issued token, or the static `BATON_API_TOKEN`) or, without one, the anonymous
principal the deployment allows (read-only on loopback, nothing elsewhere unless enabled).
Each endpoint then states the permission it needs (`catalog.security.require`)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

from fastapi import Request
from fastapi.responses import JSONResponse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from catalog import security
from catalog.api.sessions import SESSION_COOKIE, Session, Sessions
from catalog.errors import BatonError
from catalog.oidc import OidcVerifier
from catalog.security import TOKEN_PREFIX, Permission, Principal, Role, TokenStore
from graphql import ExecutionResult, GraphQLError

STATIC_TOKEN_ACTOR = "token:static"
LOCAL_ANONYMOUS = Principal("anonymous", frozenset({Role.READER, Role.AUDITOR}), False)
"""Anonymous callers of a loopback-bound server: read everything, write nothing."""
READ_ONLY_ANONYMOUS = Principal("anonymous", frozenset({Role.READER}), False)
NOBODY = Principal("anonymous", frozenset(), False)
INVALID = Principal("invalid token", frozenset(), False)


COOKIE_FREE_PATHS = ("/graphql", "/api/")
"""Machine endpoints: a bearer token or nothing. The console's session cookie counts only
on its own pages, whose state-changing forms carry a CSRF secret."""


@dataclass(frozen=True)
class Caller:
    principal: Principal
    session: Session | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Gate:
    static_token: str | None = None
    tokens: TokenStore | None = None
    anonymous: Principal = LOCAL_ANONYMOUS
    oidc: OidcVerifier | None = None
    sessions: Sessions = field(default_factory=Sessions)

    def caller(self, headers: Mapping[str, str], path: str) -> Caller:
        """Who calls: the bearer token if one is sent, else (on console pages) the
        signed-in session's token, else the anonymous principal."""
        if headers.get("authorization") or path.startswith(COOKIE_FREE_PATHS):
            return Caller(self.principal_of(headers))
        session_id = _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        session = self.sessions.get(session_id)
        if session is None:
            return Caller(self.anonymous)
        principal = self.principal_of({"authorization": f"Bearer {session.token}"})
        if principal is INVALID:  # revoked or expired since sign-in: the session ends
            self.sessions.close(session_id)
            return Caller(self.anonymous)
        return Caller(principal, session, session_id)

    def principal(self, request: Request) -> Principal:
        return self.principal_of(request.headers)

    def principal_of(self, headers: Mapping[str, str]) -> Principal:
        """From request headers (lower-case names)."""
        header = headers.get("authorization", "")
        if not header:
            return self.anonymous
        scheme, _, given = header.partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            return INVALID
        # bytes: header values may hold any latin-1 character, str comparison wants ASCII
        if self.static_token and hmac.compare_digest(given.encode(), self.static_token.encode()):
            return Principal(STATIC_TOKEN_ACTOR, frozenset({Role.EDITOR}))
        found = None
        if given.startswith(TOKEN_PREFIX):
            found = self.tokens.verify(given) if self.tokens else None
        elif self.oidc is not None and given.count(".") == 2:  # a JWT
            found = self.oidc.verify(given)
        return found or INVALID


def _cookie(header: str, name: str) -> str | None:
    try:
        morsel = SimpleCookie(header).get(name)
    except CookieError:
        return None
    return morsel.value if morsel else None


def require(context: dict[str, object], permission: Permission) -> Principal:
    """The calling principal from a GraphQL context, if it may do `permission`."""
    principal = context.get("principal")
    assert isinstance(principal, Principal)
    return security.require(principal, permission)


def refusal(principal: Principal, permission: Permission) -> JSONResponse | None:
    """For REST endpoints: None if `principal` may do `permission`, else the answer to
    send (401 when nobody is authenticated, 403 when the principal lacks the permission)."""
    try:
        security.require(principal, permission)
    except security.Unauthenticated as refused:
        return JSONResponse({"error": str(refused)}, status_code=401)
    except security.Forbidden as refused:
        return JSONResponse({"error": str(refused)}, status_code=403)
    return None


class Authorization(SchemaExtension):
    """Every query needs READ; mutations and ledger fields state more themselves."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.operation_type is OperationType.QUERY:
            try:
                require(context.context, Permission.READ)
            except BatonError as refused:  # a result set here skips execution
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(str(refused), original_error=refused)]
                )
        yield
