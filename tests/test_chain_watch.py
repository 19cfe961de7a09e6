"""The ledger page's verdict on the chain: the whole chain hashed in the background when
the last verdict is old, entries written since it checked on every ask."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta

import pytest

from catalog.config import Settings
from catalog.domain import Batch
from catalog.ledger import Verification, verify
from catalog.services.chain_watch import ChainWatch, HashedInChild
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import chain_snapshot

HOUR = timedelta(hours=1)


def _write(store: EmbeddedStore, n: int) -> None:
    batch = Batch(snapshots=[chain_snapshot(f"s{n}", f"a{n}", f"b{n}")])
    write_batch(store, batch, WriteRequest("test:alice", "test", f"write {n}"))


def _garble(store: EmbeddedStore, seq: int) -> None:
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER ledger_no_update")
    conn.execute("UPDATE ledger SET changes = 'not json' WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()


@pytest.fixture
def ledgered(embedded: EmbeddedStore) -> EmbeddedStore:
    for n in range(3):
        _write(embedded, n)
    return embedded


def test_a_small_ledger_s_first_verdict_is_waited_for(ledgered: EmbeddedStore) -> None:
    status = ChainWatch(ledgered).status()
    assert status.verification is not None and status.whole_at is not None
    assert (status.verification.ok, status.verification.entries_checked) == (True, 3)


def test_entries_written_since_the_verdict_are_checked_on_each_ask(
    ledgered: EmbeddedStore,
) -> None:
    watch = ChainWatch(ledgered, every=HOUR)
    first = watch.status()
    _write(ledgered, 3)
    later = watch.status()
    assert later.verification is not None and later.verification.ok
    assert later.verification.entries_checked == 4
    assert later.whole_at == first.whole_at


def test_tampering_with_an_entry_written_since_is_caught_at_once(
    ledgered: EmbeddedStore,
) -> None:
    watch = ChainWatch(ledgered, every=HOUR)
    watch.status()
    _write(ledgered, 3)
    _garble(ledgered, 4)
    verdict = watch.status().verification
    assert verdict is not None and (verdict.ok, verdict.first_bad_seq) == (False, 4)


def test_tampering_with_an_earlier_entry_is_caught_once_the_verdict_is_old(
    ledgered: EmbeddedStore,
) -> None:
    watch = ChainWatch(ledgered, every=timedelta(0))
    watch.status()
    _garble(ledgered, 1)
    for _ in range(500):  # each ask finds the verdict old and hashes again, in the background
        verdict = watch.status().verification
        if verdict is not None and not verdict.ok:
            break
        time.sleep(0.01)
    assert verdict is not None and (verdict.ok, verdict.first_bad_seq) == (False, 1)


def test_a_verdict_not_reached_within_patience_is_reported_as_being_checked(
    ledgered: EmbeddedStore,
) -> None:
    release = threading.Event()

    def slow(store: Store) -> Verification:
        release.wait(10)
        return verify(store.ledger_entries())

    watch = ChainWatch(ledgered, patience=0.01, verify_whole=slow)
    status = watch.status()
    assert (status.verification, status.checking) == (None, True)
    release.set()
    for _ in range(500):
        status = watch.status()
        if status.verification is not None:
            break
        time.sleep(0.01)
    assert status.verification is not None and status.verification.entries_checked == 3


def test_only_the_first_ask_waits_for_the_first_verdict(ledgered: EmbeddedStore) -> None:
    release = threading.Event()

    def slow(store: Store) -> Verification:
        release.wait(10)
        return verify(store.ledger_entries())

    watch = ChainWatch(ledgered, patience=0.5, verify_whole=slow)
    waits = []
    for _ in range(2):
        started = time.perf_counter()
        assert watch.status().verification is None
        waits.append(time.perf_counter() - started)
    release.set()
    assert waits[0] >= 0.5 > waits[1], waits


def test_a_verification_that_fails_is_tried_again_at_the_next_ask(
    ledgered: EmbeddedStore,
) -> None:
    attempts: list[int] = []

    def failing_once(store: Store) -> Verification:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the store went away")
        return verify(store.ledger_entries())

    watch = ChainWatch(ledgered, verify_whole=failing_once)
    assert watch.status().verification is None
    verdict = watch.status().verification
    assert verdict is not None and verdict.ok and len(attempts) == 2


def test_a_later_whole_verification_does_not_hold_up_an_ask(ledgered: EmbeddedStore) -> None:
    release, calls = threading.Event(), []

    def slow_after_the_first(store: Store) -> Verification:
        calls.append(1)
        if len(calls) > 1:
            release.wait(5)
        return verify(store.ledger_entries())

    watch = ChainWatch(ledgered, every=timedelta(0), patience=30, verify_whole=slow_after_the_first)
    watch.status()
    status = watch.status()  # the verdict is old at once: hashed again, in the background
    release.set()
    assert status.checking and status.verification is not None and status.verification.ok


def test_the_chain_hashed_in_a_process_of_its_own_gets_the_same_verdicts(
    ledgered: EmbeddedStore,
) -> None:
    hashed = HashedInChild(Settings(home=ledgered.path.parent))
    try:
        assert hashed(ledgered) == verify(ledgered.ledger_entries())
        _garble(ledgered, 2)
        broken = hashed(ledgered)
    finally:
        hashed.close()
    assert (broken.ok, broken.first_bad_seq) == (False, 2)
    assert broken == verify(ledgered.ledger_entries())


def test_a_hashing_process_that_died_is_replaced_for_the_next_run(
    ledgered: EmbeddedStore,
) -> None:
    hashed = HashedInChild(Settings(home=ledgered.path.parent))
    try:
        assert hashed(ledgered).ok
        for child in multiprocessing.active_children():
            child.kill()
            child.join()
        with pytest.raises(BrokenProcessPool):
            hashed(ledgered)
        assert hashed(ledgered).ok
    finally:
        hashed.close()
