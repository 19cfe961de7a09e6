"""The server stays available while the store is busy or its disk is full: reads never
wait for a writer, a write that cannot get the store in time is a 503 with Retry-After,
and a full disk is said plainly, reported by /readyz, and leaves nothing half-written."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.api.app import create_app
from catalog.domain import Batch
from catalog.errors import DiskFull, StoreBusy
from catalog.services import audit
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import FIXTURES, baton, chain_snapshot, demo_batch, running

TOKEN = "availability-token"
EVENT = (FIXTURES / "openlineage" / "event_simple.json").read_bytes()
WRITE = WriteRequest("test:alice", "test", "testing")


def post_event(url: str, body: bytes = EVENT) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    return httpx.post(f"{url}/api/v1/lineage", content=body, headers=headers, timeout=30)


@contextmanager
def writer_elsewhere(database: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write in progress: the store's write lock held, uncommitted."""
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO nodes (key, kind, namespace, name) VALUES ('x', 'dataset', 'x', 'x')")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[tuple[str, EmbeddedStore]]:
    """A server over the demo project whose writes wait at most 0.3 s for the store."""
    store = EmbeddedStore(tmp_path / "baton.db", write_wait=0.3)
    store.migrate()
    write_batch(store, demo_batch(), WRITE)
    with running(create_app(store, api_token=TOKEN)) as url:
        yield url, store
    store.close()


# -- a busy store ---------------------------------------------------------------------------


def test_a_write_that_cannot_get_the_store_in_time_is_refused_as_busy(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db", write_wait=0.2)
    store.migrate()
    with writer_elsewhere(store.path), pytest.raises(StoreBusy) as refused:
        write_batch(store, demo_batch(), WRITE)
    assert refused.value.retry_after >= 1
    assert audit.verify_ledger(store).entries_checked == 0  # nothing half-written
    store.close()


def test_a_write_waits_its_turn_behind_another_in_the_same_process(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db", write_wait=0.2)
    store.migrate()
    holding, release = threading.Event(), threading.Event()

    def slow_unit(tx: Any) -> None:
        holding.set()
        release.wait(timeout=10)

    worker = threading.Thread(target=lambda: store.write(slow_unit))
    worker.start()
    assert holding.wait(timeout=10)
    with pytest.raises(StoreBusy):
        write_batch(store, demo_batch(), WRITE)
    release.set()
    worker.join()
    assert write_batch(store, demo_batch(), WRITE).changed  # the store is free again
    store.close()


def test_an_event_posted_while_another_process_writes_is_a_503_with_retry_after(
    impatient: tuple[str, EmbeddedStore],
) -> None:
    url, store = impatient
    with writer_elsewhere(store.path):
        refused = post_event(url)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == "UNAVAILABLE"
    assert post_event(url).status_code == 201  # and accepted once the other write is done


def test_a_mutation_while_another_process_writes_is_a_503_with_retry_after(
    impatient: tuple[str, EmbeddedStore],
) -> None:
    url, store = impatient
    mutation = (
        'mutation { assignOwner(namespace: "postgres://warehouse:5432", '
        'name: "analytics.marts.fct_orders", owner: "team:a", role: "steward") { changed } }'
    )
    with writer_elsewhere(store.path):
        response = httpx.post(
            f"{url}/graphql",
            json={"query": mutation},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


def test_reads_and_probes_never_wait_for_a_writer(impatient: tuple[str, EmbeddedStore]) -> None:
    url, store = impatient
    query = (
        '{ dataset(namespace: "postgres://warehouse:5432", '
        'name: "analytics.marts.fct_orders") { name } }'
    )
    with writer_elsewhere(store.path):
        read = httpx.post(f"{url}/graphql", json={"query": query}, timeout=2)
        assert read.json()["data"]["dataset"]["name"] == "analytics.marts.fct_orders"
        assert httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        assert httpx.get(f"{url}/readyz", timeout=2).status_code == 200


# -- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MiB file system (tmpfs), to fill; skips where mounting is not allowed."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> None:
    """Take every free byte of `disk`. Unbuffered: a buffered file keeps the part of its
    last block that did not fit, and closing it then fails for want of space."""
    with (disk / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65_536)
        except OSError:
            pass


def test_a_write_on_a_full_disk_says_so_and_keeps_what_was_there(small_disk: Path) -> None:
    store = EmbeddedStore(small_disk / "baton.db")
    store.migrate()
    write_batch(store, Batch(snapshots=[chain_snapshot("first", "a", "b")]), WRITE)
    fill(small_disk)
    with pytest.raises(DiskFull, match="disk full"):
        write_batch(store, demo_batch(), WRITE)
    assert store.unready() is not None and "disk full" in store.unready()  # type: ignore[operator]
    verification = audit.verify_ledger(store)
    assert verification.ok and verification.entries_checked == 1
    store.close()


def test_the_cli_says_disk_full_plainly(small_disk: Path) -> None:
    home = small_disk / "home"
    assert baton(home, "migrate").exit_code == 0
    fill(small_disk)
    result = baton(home, "ingest", "sql", str(FIXTURES.parent.parent / "examples" / "warehouse"),
                   "--dialect", "postgres", "--namespace", "postgres://w")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "disk full" in result.output
    assert "cannot rollback" not in result.output


def ours(home: Path) -> set[str]:
    """Files in `home` but SQLite's own log and shared memory (created on opening)."""
    return {p.name for p in home.iterdir() if not p.name.endswith(("-wal", "-shm"))}


def test_token_create_and_ledger_export_on_a_full_disk_leave_no_stray_files(
    small_disk: Path,
) -> None:
    home = small_disk / "home"
    assert baton(home, "migrate").exit_code == 0
    before = ours(home)
    fill(small_disk)
    created = baton(home, "token", "create", "ci", "--role", "editor")
    exported = baton(home, "ledger", "export", str(small_disk / "ledger.jsonl"))
    for result in (created, exported):
        assert result.exit_code == 2, result.output
        assert "disk full" in result.output
    assert ours(home) == before
    assert not (small_disk / "ledger.jsonl").exists()
    assert [p.name for p in small_disk.iterdir() if p.name.endswith(".partial")] == []


def test_the_server_answers_503_and_reports_not_ready_on_a_full_disk(small_disk: Path) -> None:
    store = EmbeddedStore(small_disk / "baton.db")
    store.migrate()
    with running(create_app(store, api_token=TOKEN)) as url:
        assert httpx.get(f"{url}/readyz").status_code == 200
        fill(small_disk)
        refused = post_event(url)
        ready = httpx.get(f"{url}/readyz")
    assert refused.status_code == 503 and "disk full" in refused.json()["error"]
    assert ready.status_code == 503 and "disk full" in ready.json()["reason"]
    store.close()
