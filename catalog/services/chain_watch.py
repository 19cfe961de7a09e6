"""The ledger page's verdict on the hash chain, without hashing the whole ledger per view.

Verifying the whole chain reads every change ever recorded: 2 s for a store holding
GitLab's project, 254 s for the 10x catalog (docs/architecture.md, "Scale"). The watch
hashes the whole chain in a background thread when asked and its last verdict is older
than `every`, and checks the entries written since that verdict on each ask (those are
few), so a page shows a verdict at once and tampering with any entry is caught within
`every`, with a new entry at once. A small ledger's first verdict is waited for
(`patience`), so pages of small stores always show one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from catalog.ledger import Verification, verify
from catalog.stores.protocol import LedgerQuery, Store

log = logging.getLogger("baton.chain_watch")

PAGE = 100
"""Entries read at a time when checking those written since the last whole verdict."""


@dataclass(frozen=True)
class ChainStatus:
    """What is known of the chain now."""

    verification: Verification | None
    """The whole chain's last verdict, continued over the entries written since; None
    while the first is still being reached."""
    whole_at: datetime | None
    """When every entry up to that verdict was last hashed."""
    checking: bool
    """A verification of the whole chain is running now."""


class ChainWatch:
    """The chain's verdict for one store, kept across asks (one per server)."""

    def __init__(
        self,
        store: Store,
        *,
        every: timedelta = timedelta(minutes=10),
        patience: float = 2.0,
        verify_whole: Callable[[Store], Verification] | None = None,
    ) -> None:
        self._store = store
        self._every = every
        self._patience = patience
        self._verify_whole = verify_whole or (lambda store: verify(store.ledger_entries()))
        self._lock = threading.Lock()
        self._whole: Verification | None = None
        self._whole_at: datetime | None = None
        self._running: threading.Thread | None = None

    def status(self) -> ChainStatus:
        running = self._start_if_stale()
        if running is not None and self._whole is None:  # no verdict to show meanwhile
            running.join(self._patience)
        with self._lock:
            whole, whole_at = self._whole, self._whole_at
            checking = self._running is not None
        if whole is None:
            return ChainStatus(None, None, checking)
        return ChainStatus(self._continued(whole), whole_at, checking)

    def _start_if_stale(self) -> threading.Thread | None:
        with self._lock:
            stale = self._whole_at is None or datetime.now(UTC) - self._whole_at >= self._every
            if stale and self._running is None:
                self._running = threading.Thread(
                    target=self._hash_whole_chain, name="baton-chain-watch", daemon=True
                )
                self._running.start()
            return self._running

    def _hash_whole_chain(self) -> None:
        try:
            verdict = self._verify_whole(self._store)
            with self._lock:
                self._whole, self._whole_at = verdict, datetime.now(UTC)
        except Exception:  # the store closed or failed under it: the next ask tries again
            log.warning("verifying the ledger's chain stopped", exc_info=True)
        finally:
            with self._lock:
                self._running = None

    def _continued(self, whole: Verification) -> Verification:
        """`whole` carried over the entries written after it (a broken chain stays broken
        where it broke)."""
        verdict = whole
        while verdict.ok:
            following = self._store.ledger(
                LedgerQuery(after_seq=verdict.entries_checked, limit=PAGE)
            )
            if not following:
                break
            verdict = verify(following, after=verdict)
        return verdict
