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


class Sessions:
    def __init__(self, lifetime: float = LIFETIME_SECONDS, limit: int = MAX_SESSIONS) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._open: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

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
