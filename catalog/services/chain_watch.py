"""The ledger page's verdict on the hash chain, without hashing the whole ledger per view.

Verifying the whole chain reads every change ever recorded: 1 s for a store holding
GitLab's project, 108 s for the 10x catalog (docs/architecture.md, "Scale"). The watch
hashes the whole chain in a background thread when asked and its last verdict is older
than `every`, and checks the entries written since that verdict on each ask (those are
few), so a page shows a verdict at once and tampering with any entry is caught within
`every`, with a new entry at once. The first verdict is waited for once (`patience`), so
pages of small stores always show one and a large store's say it is being reached.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from catalog.config import Settings
from catalog.heap import release_freed_heap
from catalog.ledger import Verification, verify
from catalog.services import audit
from catalog.stores import open_store
from catalog.stores.protocol import LedgerQuery, Store
from ingesters.workers import die_with_parent

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
        self._verify_whole = verify_whole or audit.verify_ledger
        self._lock = threading.Lock()
        self._whole: Verification | None = None
        self._whole_at: datetime | None = None
        self._running: threading.Thread | None = None
        self._waited: threading.Thread | None = None
        """The run whose verdict an ask has waited for (the first verdict's, once)."""

    def status(self) -> ChainStatus:
        running = self._start_if_stale()
        if running is not None and self._whole is None and running is not self._waited:
            self._waited = running  # the first ask waits; the next ones are told to
            running.join(self._patience)  # come back (the 10x catalog's takes 2 minutes)
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


class HashedInChild:
    """A `verify_whole` that hashes the chain in a process of its own, which opens the
    store `settings` name: hashing parses each entry's changes whole, holding the
    interpreter's lock for up to a second at a time, and a serving process's requests
    waited on it (the 10x catalog: its home page 124 ms alone, 908 ms while the chain was
    hashed in a thread beside it). The process starts with this object, so its imports
    are done before the first ask, and stays for later runs, handing back the memory
    each run freed."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._child = self._started()

    @staticmethod
    def _started() -> ProcessPoolExecutor:
        spawn = multiprocessing.get_context("spawn")  # a fork would copy the server
        child = ProcessPoolExecutor(1, spawn, initializer=die_with_parent, initargs=(os.getpid(),))
        child.submit(_ready)
        return child

    def __call__(self, _: Store) -> Verification:
        try:
            return self._child.submit(_verify_configured, self._settings).result()
        except BrokenProcessPool:  # the child was killed (by hand, out of memory)
            self._child = self._started()  # this run fails; the next has a child again
            raise

    def close(self) -> None:
        self._child.shutdown(cancel_futures=True)


def _ready() -> None:
    """Nothing: run once in the child, so that it has imported this module."""


def _verify_configured(settings: Settings) -> Verification:
    store = open_store(settings, migrate=False, create=False)
    try:
        return audit.verify_ledger(store)
    finally:
        store.close()
        release_freed_heap()
