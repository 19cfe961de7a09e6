"""SQL sources are known by project and path inside it, never by the path as typed: the
same folder from another checkout is the same source, a file gone from an ingested folder
has its lineage retired, and stores written before are migrated in one ledger entry."""

from __future__ import annotations

import shutil
from pathlib import Path

from catalog.domain import EdgeKind, dataset_ref
from catalog.services import audit, lineage, source_identity
from catalog.services.ingestion import ingest_sql
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from ingesters import sql
from tests.conftest import DEMO_OPTIONS, EXAMPLES, NAMESPACE

FCT_ORDERS = dataset_ref(NAMESPACE, "analytics.marts.fct_orders")


def checkout(tmp_path: Path, where: str) -> Path:
    """A copy of the demo project at another place, as another machine would have it."""
    copy = tmp_path / where / "warehouse"
    shutil.copytree(EXAMPLES, copy)
    return copy


def ingest(store: EmbeddedStore, folder: Path, project: str | None = None) -> int | None:
    result = ingest_sql(store, [folder], DEMO_OPTIONS, actor="t", reason="t", project=project)
    return result.ledger_seq


def upstream_feeds(store: EmbeddedStore) -> int:
    graph = lineage.lineage(store, FCT_ORDERS, direction=lineage.LineageDirection.UPSTREAM, depth=1)
    return sum(1 for e in graph.edges if e.kind == EdgeKind.FEEDS.value)


def test_a_file_is_known_by_its_project_and_path_inside_it(tmp_path: Path) -> None:
    files = sql.read_sql_files([checkout(tmp_path, "a")])
    assert "warehouse:marts/fct_orders.sql" in files.texts


def test_the_same_folder_from_another_checkout_changes_nothing(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    assert ingest(embedded, checkout(tmp_path, "runner-1")) == 1
    before = upstream_feeds(embedded)
    assert ingest(embedded, checkout(tmp_path, "elsewhere/runner-2")) is None  # no changes
    assert upstream_feeds(embedded) == before == 3


def test_a_project_name_replaces_the_folder_name(tmp_path: Path) -> None:
    files = sql.read_sql_files([checkout(tmp_path, "a")], project="sales-dwh")
    assert "sales-dwh:marts/fct_orders.sql" in files.texts


def test_a_deleted_file_has_its_lineage_retired_with_history(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    folder = checkout(tmp_path, "a")
    ingest(embedded, folder)
    (folder / "marts" / "fct_orders.sql").unlink()
    seq = ingest(embedded, folder)
    assert seq is not None and upstream_feeds(embedded) == 0
    ended = [c for c in embedded.entry_changes(seq, 10_000) if c.op == "ended"]
    assert {c.source for c in ended} == {"sql:warehouse:marts/fct_orders.sql"}
    assert audit.verify_graph(embedded).ok


def test_an_unreadable_file_is_not_mistaken_for_a_deleted_one(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    folder = checkout(tmp_path, "a")
    ingest(embedded, folder)
    (folder / "marts" / "fct_orders.sql").write_bytes(b"\xff\xfe not utf-8")
    result = ingest_sql(embedded, [folder], DEMO_OPTIONS, actor="t", reason="t")
    assert result.errors and upstream_feeds(embedded) == 3


def test_errors_name_the_file_where_it_is(tmp_path: Path, embedded: EmbeddedStore) -> None:
    folder = checkout(tmp_path, "a")
    (folder / "broken.sql").write_text("-- oops\nCREATE TABLE x AS SELECT FROM (;\n")
    result = ingest_sql(embedded, [folder], DEMO_OPTIONS, actor="t", reason="t")
    assert [(e.source, e.line) for e in result.errors] == [((folder / "broken.sql").as_posix(), 2)]


# -- stores written before identities were stable ---------------------------------------------


def legacy_ingest(store: EmbeddedStore, folder: Path) -> None:
    """What an ingest wrote before: sources and jobs named by the path as typed."""
    files = sql.read_sql_files([folder])
    typed = {files.paths[key].as_posix(): text for key, text in files.texts.items()}
    batch = sql.parse(typed, DEMO_OPTIONS)
    write_batch(store, batch, WriteRequest("t", f"sql {folder.as_posix()}", "before"))


def test_legacy_sources_are_renamed_in_one_entry(embedded: EmbeddedStore, tmp_path: Path) -> None:
    legacy_ingest(embedded, checkout(tmp_path, "old-runner"))
    assert source_identity.legacy_sources(embedded)
    moved = source_identity.migrate(embedded, actor="t")
    assert moved is not None and moved.ledger_seq == 2
    assert source_identity.legacy_sources(embedded) == []
    assert upstream_feeds(embedded) == 3
    assert audit.verify_graph(embedded).ok


def test_after_the_migration_a_new_checkout_changes_nothing(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    legacy_ingest(embedded, checkout(tmp_path, "old-runner"))
    source_identity.migrate(embedded, actor="t")
    assert ingest(embedded, checkout(tmp_path, "new-runner")) is None
    graph = lineage.lineage(embedded, FCT_ORDERS, direction=lineage.LineageDirection.UPSTREAM)
    assert all("old-runner" not in (j.ref.name) for j in graph.jobs)


def test_an_ingest_migrates_a_legacy_store_before_writing(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    legacy_ingest(embedded, checkout(tmp_path, "old-runner"))
    assert ingest(embedded, checkout(tmp_path, "new-runner")) is None  # migrated, then equal
    assert upstream_feeds(embedded) == 3


def test_a_store_without_legacy_sources_needs_no_migration(embedded: EmbeddedStore) -> None:
    assert source_identity.migrate(embedded, actor="t") is None
