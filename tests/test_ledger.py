"""The ledger's hash chain: intact chains verify; edits, deletions and reorderings are named."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from catalog.domain import Batch
from catalog.ledger import verify
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import chain_snapshot


@pytest.fixture
def ledgered(embedded: EmbeddedStore) -> EmbeddedStore:
    """A store with a ledger of three entries."""
    for n in range(3):
        batch = Batch(snapshots=[chain_snapshot(f"s{n}", f"a{n}", f"b{n}")])
        write_batch(embedded, batch, WriteRequest("test:alice", "test", f"write {n}"))
    return embedded


@pytest.fixture
def tamper(ledgered: EmbeddedStore) -> Iterator[sqlite3.Connection]:
    """A raw connection with the append-only triggers removed, as an attacker would."""
    conn = sqlite3.connect(ledgered.path)
    conn.execute("DROP TRIGGER ledger_no_update")
    conn.execute("DROP TRIGGER ledger_no_delete")
    yield conn
    conn.commit()
    conn.close()


def test_an_untouched_ledger_verifies(ledgered: EmbeddedStore) -> None:
    result = verify(ledgered.ledger_entries())
    assert result.ok
    assert result.entries_checked == 3


def test_each_entry_links_to_the_previous_hash(ledgered: EmbeddedStore) -> None:
    entries = list(ledgered.ledger_entries())
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_the_ledger_refuses_ordinary_updates(ledgered: EmbeddedStore) -> None:
    conn = sqlite3.connect(ledgered.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE ledger SET reason = 'edited' WHERE seq = 2")
    conn.close()


def test_verify_names_an_edited_entry(ledgered: EmbeddedStore, tamper: sqlite3.Connection) -> None:
    tamper.execute("UPDATE ledger SET actor = 'test:mallory' WHERE seq = 2")
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "altered" in (result.problem or "")


def test_verify_names_the_gap_left_by_a_deleted_entry(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("DELETE FROM ledger_entities WHERE seq = 2")
    tamper.execute("UPDATE assertions SET from_seq = 1 WHERE from_seq = 2")
    tamper.execute("DELETE FROM ledger WHERE seq = 2")
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "missing or moved" in (result.problem or "")


def test_verify_names_reordered_entries(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("PRAGMA foreign_keys = OFF")
    tamper.execute("UPDATE ledger SET seq = -2 WHERE seq = 2")
    tamper.execute("UPDATE ledger SET seq = 2 WHERE seq = 3")
    tamper.execute("UPDATE ledger SET seq = 3 WHERE seq = -2")
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert not result.ok
    assert result.first_bad_seq == 2
