"""The ledger's hash chain: intact chains verify; edits, deletions and reorderings are named."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from catalog import ledger
from catalog.domain import Batch, canonical_json, sha256_hex
from catalog.ledger import (
    Change,
    ChangeOp,
    LedgerDraft,
    LedgerEntry,
    UnreadableEntry,
    entry_hash,
    export_line,
    packed_changes,
    seal,
    unpacked_changes,
    verify,
    verify_export,
)
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
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


def _entry_with(changes: int) -> LedgerEntry:
    made = [
        Change(
            ChangeOp.ADDED, "s", "FEEDS", f'["DATASET","ns","t{n}"]', '["DATASET","ns","é"]', "d"
        )
        for n in range(changes)
    ]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return LedgerEntry("a", "s", "r", made, ["k"], seq=1, at=at, prev_hash="0" * 64, hash="")


@pytest.mark.parametrize("changes", [0, 1, 2, 3, 4, 6, 7])
def test_an_entry_hashed_a_piece_at_a_time_hashes_as_its_whole_canonical_json(
    changes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "CHANGES_PER_PIECE", 3)  # pieces end inside and on the list
    entry = _entry_with(changes)
    assert entry_hash(entry) == sha256_hex(canonical_json(entry.hashed_content()))


@pytest.mark.parametrize("changes", [0, 1, 5])
def test_packed_changes_unpack_to_their_canonical_json(
    changes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "CHANGES_PER_PIECE", 2)
    made = _entry_with(changes).changes
    assert unpacked_changes(packed_changes(made)).decode() == canonical_json(made)


@pytest.mark.parametrize("changes", [0, 1, 5])
def test_a_sealed_entry_carries_its_changes_packed_and_its_hash_unchanged(
    changes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "CHANGES_PER_PIECE", 2)
    made = _entry_with(changes)
    draft = LedgerDraft(made.actor, made.source, made.reason, made.changes, made.entities)
    sealed = seal(draft, seq=1, at=made.at, prev_hash=made.prev_hash)
    assert sealed.packed == packed_changes(made.changes)
    assert sealed.hash == entry_hash(sealed)


def test_a_write_encodes_its_changes_once_for_hash_and_store(
    embedded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[int] = []
    encode = ledger.changes_json

    def counted(changes: Sequence[Change]) -> Iterator[str]:
        encoded.append(len(changes))
        return encode(changes)

    monkeypatch.setattr(ledger, "changes_json", counted)
    batch = Batch(snapshots=[chain_snapshot("s", "a", "b")])
    write_batch(embedded, batch, WriteRequest("test:alice", "test", "one write"))
    assert len(encoded) == 1


def test_an_entry_stores_its_changes_packed(ledgered: EmbeddedStore) -> None:
    conn = sqlite3.connect(ledgered.path)
    (stored,) = conn.execute("SELECT changes FROM ledger WHERE seq = 2").fetchone()
    conn.close()
    (entry,) = [e for e in ledgered.ledger_entries() if e.seq == 2]
    assert isinstance(stored, bytes)
    assert json.loads(unpacked_changes(stored)) == json.loads(json.dumps(list(entry.changes)))


def test_an_entry_stored_as_text_before_packing_reads_and_verifies(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    (entry,) = [e for e in ledgered.ledger_entries() if e.seq == 2]
    as_text_then = json.dumps(list(entry.changes))
    tamper.execute("UPDATE ledger SET changes = ? WHERE seq = 2", (as_text_then,))
    tamper.commit()
    assert [e for e in ledgered.ledger_entries() if e.seq == 2] == [entry]
    assert verify(ledgered.ledger_entries()).ok


def test_verify_names_an_entry_whose_packed_changes_were_rewritten(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    (entry,) = [e for e in ledgered.ledger_entries() if e.seq == 2]
    forged = [c._replace(source="forged") for c in entry.changes]
    tamper.execute("UPDATE ledger SET changes = ? WHERE seq = 2", (packed_changes(forged),))
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "altered" in (result.problem or "")


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff",
        zlib.compress(b"\xff\xfe"),
        "not json",
        '{"not": "a list"}',
        "[1]",
        '[["bogus"]]',
        '[["added", "s", "FACT", "k", null, "d", "one too many"]]',
    ],
)
def test_verify_names_an_entry_whose_changes_cannot_be_read(
    garbage: bytes | str, ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("UPDATE ledger SET changes = ? WHERE seq = 2", (garbage,))
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert (result.ok, result.first_bad_seq, result.entries_checked) == (False, 2, 1)
    assert "entry 2 cannot be read" in (result.problem or "")


@pytest.fixture
def changes_never_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `Change` built from a stored row, no changes' JSON encoded."""

    def never(*_: object) -> None:
        raise AssertionError("changes rebuilt from an untouched entry")

    monkeypatch.setattr(ledger, "changes_json", never)
    monkeypatch.setattr(Change, "from_row", never)


def test_verifying_an_untouched_entry_hashes_its_changes_as_stored(
    ledgered: EmbeddedStore, changes_never_rebuilt: None
) -> None:
    """The stored JSON is what `seal` hashed."""
    assert verify(ledgered.ledger_entries()).ok


def test_an_untouched_entry_exports_its_changes_as_stored(
    ledgered: EmbeddedStore, request: pytest.FixtureRequest
) -> None:
    canonical = [
        canonical_json({**e.hashed_content(), "hash": e.hash}) for e in ledgered.ledger_entries()
    ]
    request.getfixturevalue("changes_never_rebuilt")  # from here on
    assert [export_line(e) for e in ledgered.ledger_entries()] == canonical


def test_an_entry_stored_as_spaced_text_exports_verifiably(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    (entry,) = [e for e in ledgered.ledger_entries() if e.seq == 2]
    tamper.execute(
        "UPDATE ledger SET changes = ? WHERE seq = 2", (json.dumps(list(entry.changes)),)
    )
    tamper.commit()
    assert verify_export(export_line(e) for e in ledgered.ledger_entries()).ok


def _summaries(store: EmbeddedStore) -> dict[int, dict[str, int]]:
    rows = store.connection().execute("SELECT seq, summary FROM ledger_summaries").fetchall()
    return {seq: json.loads(summary) for seq, summary in rows}


def test_each_entry_records_its_summary_beside_it(ledgered: EmbeddedStore) -> None:
    entries = list(ledgered.ledger_entries())
    assert _summaries(ledgered) == {e.seq: ledger.summary_of(e.changes) for e in entries}
    assert _summaries(ledgered)[1] == {"added:FACT": 2, "added:FEEDS": 1}


def test_a_listed_entry_s_changes_are_read_only_when_used(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("UPDATE ledger SET changes = 'not json' WHERE seq = 2")
    tamper.commit()
    (listed,) = ledgered.ledger(LedgerQuery(after_seq=1, limit=1))
    assert (listed.seq, listed.summary) == (2, {"added:FACT": 2, "added:FEEDS": 1})
    with pytest.raises(UnreadableEntry, match="entry 2 cannot be read"):
        len(listed.changes)


def test_an_entry_without_a_recorded_summary_is_summarised_from_its_changes(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("DROP TRIGGER ledger_summaries_no_delete")
    tamper.execute("DELETE FROM ledger_summaries WHERE seq = 2")
    tamper.commit()
    (listed,) = ledgered.ledger(LedgerQuery(after_seq=1, limit=1))
    assert listed.counted is None
    assert listed.summary == {"added:FACT": 2, "added:FEEDS": 1}


def test_verify_names_an_entry_whose_recorded_summary_was_altered(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    tamper.execute("DROP TRIGGER ledger_summaries_no_update")
    tamper.execute("""UPDATE ledger_summaries SET summary = '{"added:FACT": 1}' WHERE seq = 3""")
    tamper.commit()
    result = verify(ledgered.ledger_entries())
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "summary altered" in (result.problem or "")


def test_migrating_a_store_from_before_summaries_summarises_its_text_entries(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    entries = list(ledgered.ledger_entries())
    for entry in entries:  # as stores wrote them before packing
        tamper.execute(
            "UPDATE ledger SET changes = ? WHERE seq = ?",
            (json.dumps(list(entry.changes)), entry.seq),
        )
    reopened = _migrated_from_before_summaries(ledgered, tamper)
    assert _summaries(reopened) == {e.seq: e.summary for e in entries}
    assert verify(reopened.ledger_entries()).ok
    reopened.close()


def test_migrating_a_store_from_before_summaries_summarises_its_packed_entries(
    ledgered: EmbeddedStore, tamper: sqlite3.Connection
) -> None:
    entries = list(ledgered.ledger_entries())
    tamper.execute("UPDATE ledger SET changes = ? WHERE seq = 3", (b"\x00\xff",))
    reopened = _migrated_from_before_summaries(ledgered, tamper)
    assert _summaries(reopened) == {e.seq: e.summary for e in entries if e.seq != 3}
    reopened.close()


def _migrated_from_before_summaries(
    store: EmbeddedStore, tamper: sqlite3.Connection
) -> EmbeddedStore:
    """`store` as it was before migration 0007, then reopened and migrated."""
    tamper.execute("DROP TABLE ledger_summaries")
    tamper.execute("DELETE FROM schema_migrations WHERE version = 7")
    tamper.commit()
    store.close()
    reopened = EmbeddedStore(store.path)
    assert reopened.migrate() == ["0007_ledger_summaries"]
    return reopened
