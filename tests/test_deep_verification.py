"""Deep verification proves the graph by the ledger: every direct edit of the store that
the chain alone cannot see (a forged owner, an edited transformation, a deleted edge, a
renamed node...) is named, with the entry where the graph departs from the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.ledger import GENESIS_HASH, LedgerDraft, seal
from catalog.services import audit
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import baton, run_sql

OWNS = "(SELECT min(id) FROM assertions WHERE kind = 'OWNS')"
AGGREGATION = "(SELECT min(id) FROM assertions WHERE attrs LIKE '%\"AGGREGATION\"%')"
FORGED_OWNER = (
    "INSERT INTO assertions (source, kind, subject_id, object_id, attrs, attrs_digest, from_seq)"
    ' SELECT source, kind, (SELECT id FROM nodes WHERE key = \'["OWNER","person","mallory"]\'),'
    f" object_id, attrs, attrs_digest, {{seq}} FROM assertions WHERE id = {OWNS}"
)
MALLORY = "INSERT INTO nodes (key, kind, namespace, name) VALUES"
MALLORY += " ('[\"OWNER\",\"person\",\"mallory\"]', 'OWNER', 'person', 'mallory')"

FCT_ORDERS = '["DATASET","postgres://warehouse:5432","analytics.marts.fct_orders"]'
EDITS = {
    "a forged owner edge, dated to a real entry": ([MALLORY, FORGED_OWNER.format(seq=2)], 2),
    "a forged owner edge, dated after the head": ([MALLORY, FORGED_OWNER.format(seq=99)], None),
    "a transformation changed from AGGREGATION to IDENTITY": (
        [f"UPDATE assertions SET attrs = replace(attrs, 'AGGREGATION', 'IDENTITY') "
         f"WHERE id = {AGGREGATION}"], 1,
    ),
    "an edge deleted": ([f"DELETE FROM assertions WHERE id = {OWNS}"], 2),
    "a node renamed": (
        ["UPDATE nodes SET key = replace(key, 'fct_orders', 'fct_orderz') "
         "WHERE key LIKE '%fct_orders\"]'"], 1,
    ),
    "an open assertion ended behind the ledger's back": (
        [f"UPDATE assertions SET to_seq = 2 WHERE id = {AGGREGATION}"], 2,
    ),
    "an assertion's source changed": (
        [f"UPDATE assertions SET source = 'forged' WHERE id = {OWNS}"], 2,
    ),
    "an assertion moved to another entry": (
        [f"UPDATE assertions SET from_seq = 1 WHERE id = {OWNS}"], 1,
    ),
    "a node key made unreadable": (
        [f"UPDATE nodes SET key = 'garbage' WHERE key = '{FCT_ORDERS}'"], 1,
    ),
}  # fmt: skip


def test_an_untouched_store_is_proved_by_its_ledger(owned_warehouse: EmbeddedStore) -> None:
    result = audit.verify_graph(owned_warehouse)
    assert result.ok and result.entries_checked == 2


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_direct_edit_of_the_store_is_named(owned_warehouse: EmbeddedStore, edit: str) -> None:
    statements, bad_seq = EDITS[edit]
    assert audit.verify_ledger(owned_warehouse).ok
    run_sql(owned_warehouse.path, *statements)
    assert audit.verify_ledger(owned_warehouse).ok  # the chain alone cannot see it
    result = audit.verify_graph(owned_warehouse)
    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert result.problem


def test_the_cli_deep_verification_exits_1_naming_the_difference(
    owned_warehouse: EmbeddedStore,
) -> None:
    home = owned_warehouse.path.parent
    assert baton(home, "ledger", "verify", "--deep").exit_code == 0
    run_sql(owned_warehouse.path, f"DELETE FROM assertions WHERE id = {OWNS}")
    result = baton(home, "ledger", "verify", "--deep")
    assert result.exit_code == 1
    assert "entry 2" in result.output and "lacks OWNS" in result.output


def test_verifying_an_export_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    result = baton(tmp_path, "ledger", "verify", "--export", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2
    assert "cannot read" in result.output


# -- signed checkpoints ---------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "keys" / "ledger.key"
    private.parent.mkdir()
    assert baton(tmp_path, "ledger", "keygen", str(private)).exit_code == 0
    return private, private.with_name("ledger.key.pub")


def checkpointed(store: EmbeddedStore, private: Path) -> Path:
    """The store's home, after a checkpoint of its head."""
    home = store.path.parent
    signed = baton(home, "ledger", "checkpoint", "--key", str(private))
    assert signed.exit_code == 0, signed.output
    return home


def test_the_private_key_is_readable_by_its_owner_only(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert private.stat().st_mode & 0o777 == 0o600
    assert b"PUBLIC KEY" in public.read_bytes()


def test_an_untouched_ledger_matches_its_checkpoints(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    home = checkpointed(owned_warehouse, private)
    result = baton(home, "ledger", "verify", "--deep", "--public-key", str(public))
    assert result.exit_code == 0, result.output


def test_deleting_the_newest_entries_is_caught_by_a_checkpoint(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    home = checkpointed(owned_warehouse, private)
    run_sql(owned_warehouse.path, "DROP TRIGGER ledger_no_delete",
            "DELETE FROM ledger_entities WHERE seq = 2", "DELETE FROM ledger WHERE seq = 2",
            "DELETE FROM assertions WHERE from_seq = 2")  # fmt: skip
    assert baton(home, "ledger", "verify", "--deep").exit_code == 0  # invisible without it
    result = baton(home, "ledger", "verify", "--public-key", str(public))
    assert result.exit_code == 1
    assert "vouches for 2 entries, the ledger ends at 1" in result.output


def test_a_rewritten_and_rehashed_chain_is_caught_by_a_checkpoint(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    home = checkpointed(owned_warehouse, private)
    forged, prev_hash = [], GENESIS_HASH
    for entry in owned_warehouse.ledger_entries():  # each re-hashed, the first reworded
        reason = "rewritten" if entry.seq == 1 else entry.reason
        draft = LedgerDraft(entry.actor, entry.source, reason, entry.changes, entry.entities)
        forged.append(seal(draft, seq=entry.seq, at=entry.at, prev_hash=prev_hash))
        prev_hash = forged[-1].hash
    run_sql(owned_warehouse.path, "DROP TRIGGER ledger_no_update", *(
        f"UPDATE ledger SET reason = '{e.reason}', prev_hash = '{e.prev_hash}', "
        f"hash = '{e.hash}' WHERE seq = {e.seq}" for e in forged
    ))  # fmt: skip
    assert baton(home, "ledger", "verify", "--deep").exit_code == 0  # a consistent forgery
    result = baton(home, "ledger", "verify", "--public-key", str(public))
    assert result.exit_code == 1
    assert "the chain was rewritten" in result.output


def test_an_export_carries_its_checkpoints_and_verifies_offline(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    home = checkpointed(owned_warehouse, private)
    export = tmp_path / "ledger.jsonl"
    assert baton(home, "ledger", "export", str(export)).exit_code == 0
    lines = export.read_text().splitlines()
    assert lines[-1].startswith('{"checkpoint":')
    assert baton(tmp_path, "ledger", "verify", "--export", str(export),
                 "--public-key", str(public)).exit_code == 0  # fmt: skip
    export.write_text("\n".join([lines[0], lines[-1]]) + "\n")  # the newest entry cut off
    truncated = baton(tmp_path, "ledger", "verify", "--export", str(export),
                      "--public-key", str(public))  # fmt: skip
    assert truncated.exit_code == 1 and "newest entries were deleted" in truncated.output


def test_a_checkpoint_by_another_key_proves_nothing(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, _ = keys
    home = checkpointed(owned_warehouse, private)
    other = tmp_path / "other.key"
    assert baton(tmp_path, "ledger", "keygen", str(other)).exit_code == 0
    result = baton(home, "ledger", "verify", "--public-key", f"{other}.pub")
    assert result.exit_code == 1 and "no checkpoint signed by this key" in result.output


def test_a_forged_signature_is_refused(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    home = checkpointed(owned_warehouse, private)
    log = home / "checkpoints.jsonl"
    log.write_text(log.read_text().replace('"seq":2', '"seq":1'))
    result = baton(home, "ledger", "verify", "--public-key", str(public))
    assert result.exit_code == 1 and "bad signature" in result.output


def test_a_broken_ledger_is_never_checkpointed(
    owned_warehouse: EmbeddedStore, keys: tuple[Path, Path]
) -> None:
    private, _ = keys
    run_sql(owned_warehouse.path, "DROP TRIGGER ledger_no_update",
            "UPDATE ledger SET reason = 'edited' WHERE seq = 1")  # fmt: skip
    result = baton(owned_warehouse.path.parent, "ledger", "checkpoint", "--key", str(private))
    assert result.exit_code == 2 and "broken at entry 1" in result.output
