"""Embedded schema migrations: applied once, recorded, and refused when the data is newer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from catalog.stores.embedded import EmbeddedStore
from catalog.stores.migrations import MigrationError, load
from tests.conftest import run_sql


def test_migrating_an_empty_database_applies_every_migration(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    applied = store.migrate()
    assert applied == [f"{m.version:04d}_{m.name}" for m in load("embedded")]
    store.close()


def test_migrating_again_is_a_no_op(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    assert store.migrate() == []
    store.close()


def test_applied_migrations_are_recorded_with_checksums(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    store.close()
    rows = sqlite3.connect(tmp_path / "baton.db").execute(
        "SELECT version, checksum FROM schema_migrations"
    )
    assert {v: c for v, c in rows} == {m.version: m.checksum for m in load("embedded")}


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    run_sql(
        tmp_path / "baton.db",
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'x', 'y')",
    )
    with pytest.raises(MigrationError, match="newer than this Baton"):
        store.migrate()
    store.close()


def test_an_edited_applied_migration_is_refused(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    run_sql(tmp_path / "baton.db", "UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        store.migrate()
    store.close()


def test_the_store_runs_with_foreign_keys_and_wal(embedded: EmbeddedStore) -> None:
    conn = embedded._conn()
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


COMMITTED = {
    "embedded": {
        1: "81a199ee790cc51b",
        2: "ad971632e85aff60",
        3: "093cdea3bf102bfb",
        4: "00c4dd4d22754e98",
        5: "e34607ed9be93492",
        6: "25d081208b61237f",
        7: "a8bc0eac6641ee42",
        8: "7c97de01d16ceebd",
    },
    "neo4j": {1: "ea667f9c5cdab7fd"},
}
"""The start of each committed migration's checksum. A store that applied one refuses to
open once its text changes, so a change goes in a new migration and a new line here."""


@pytest.mark.parametrize("backend", sorted(COMMITTED))
def test_committed_migrations_keep_their_text(backend: str) -> None:
    found = {m.version: m.checksum[:16] for m in load(backend)}
    assert {v: found.get(v) for v in COMMITTED[backend]} == COMMITTED[backend]
