"""Browser sessions for the console. A person signs in by pasting an issued token; the
browser then holds only a random session id in an HttpOnly, SameSite=Strict cookie, and
the token stays in this process's memory, checked again on every request (a revoked token
ends its sessions at once). Sessions end after `lifetime`, at sign-out, or when the
server restarts. Each session has a CSRF secret that every state-changing form carries."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

SESSION_COOKIE = "baton_session"
SIGN_IN_COOKIE = "baton_sign_in"
"""Holds the sign-in form's CSRF secret before any session exists (login CSRF)."""
LIFETIME_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    expires: float


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in sent to the identity provider, awaiting its answer (keyed by `state`)."""

    verifier: str
    """PKCE code verifier: only this server can redeem the code the provider returns."""
    nonce: str
    """Must come back in the ID token: a token minted for another sign-in is refused."""
    next: str
    expires: float


PENDING_SECONDS = 600


class Sessions:
    def __init__(self, lifetime: float = LIFETIME_SECONDS, limit: int = MAX_SESSIONS) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._open: OrderedDict[str, Session] = OrderedDict()
        self._pending: OrderedDict[str, PendingSignIn] = OrderedDict()
        self._lock = threading.Lock()

    def begin_sign_in(self, next_path: str) -> tuple[str, PendingSignIn]:
        """A new provider sign-in: its `state` and what the callback will need."""
        state = secrets.token_urlsafe(32)
        pending = PendingSignIn(
            secrets.token_urlsafe(48), secrets.token_urlsafe(24), next_path,
            time.monotonic() + PENDING_SECONDS,
        )  # fmt: skip
        with self._lock:
            self._pending[state] = pending
            while len(self._pending) > self._limit:
                self._pending.popitem(last=False)
        return state, pending

    def finish_sign_in(self, state: str) -> PendingSignIn | None:
        """The pending sign-in `state` names, once: a replayed callback finds nothing."""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or pending.expires < time.monotonic():
            return None
        return pending

    def open(self, token: str) -> tuple[str, Session]:
        """A new session for a verified token: its id (for the cookie) and its record."""
        session_id = secrets.token_urlsafe(32)
        session = Session(token, secrets.token_urlsafe(32), time.monotonic() + self._lifetime)
        with self._lock:
            self._open[session_id] = session
            while len(self._open) > self._limit:  # the oldest sign-in goes first
                self._open.popitem(last=False)
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._open.get(session_id)
            if session is not None and session.expires < time.monotonic():
                del self._open[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._open.pop(session_id or "", None)


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing value never matches."""
    return bool(given and expected) and hmac.compare_digest(
        str(given).encode(), str(expected).encode()
    )
