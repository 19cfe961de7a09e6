"""dbt ingestion: every manifest version, relations, lineage from depends_on and compiled SQL,
owners, exposures, contracts, checks and results, replacement, and rejection of bad files."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.cli import app
from catalog.domain import (
    FACT,
    TEAM,
    EdgeKind,
    NodeKind,
    NodeRef,
    column_ref,
    dataset_ref,
    job_ref,
    owner_ref,
)
from catalog.services import catalog
from catalog.services.ingestion import ingest_dbt, ingest_sql
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import EdgeView, LedgerQuery
from catalog.write_path import WriteResult
from ingesters import dbt, fingerprints, sql
from ingesters.dbt import compiled_sql
from ingesters.sql.names import Defaults
from tests.conftest import FIXTURES

DBT = FIXTURES / "dbt"
CLASSIC = DBT / "jaffle_shop_classic"
MESH = DBT / "mesh_platform" / "manifest.json.gz"
DUCKDB = "duckdb://default"
SNOWFLAKE = "snowflake://default"


def classic(name: str) -> NodeRef:
    return dataset_ref(DUCKDB, f"jaffle_shop.main.{name}")


def ingest(store: EmbeddedStore, path: Path, **options: Any) -> WriteResult:
    return ingest_dbt(
        store,
        dbt.ArtifactPaths.find(path),
        dbt.DbtOptions(**options),
        actor="test:alice",
        reason="test",
    )


def parse(path: Path, **options: Any) -> Any:
    return dbt.parse(dbt.read_artifacts(dbt.ArtifactPaths.find(path)), dbt.DbtOptions(**options))


def edges(
    store: EmbeddedStore, ref: NodeRef, kind: EdgeKind, *, current: bool = True
) -> list[EdgeView]:
    return [
        e
        for e in store.edge_history(ref)
        if e.kind == kind.value and (e.valid_to is None or not current)
    ]


def node_attrs(store: EmbeddedStore, ref: NodeRef) -> dict[str, Any]:
    return catalog.get_node(store, ref).attrs


def manifest_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return data


def write_target(folder: Path, manifest: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def classic_store(embedded: EmbeddedStore) -> EmbeddedStore:
    ingest(embedded, CLASSIC)
    return embedded


@pytest.mark.parametrize(
    "manifest", sorted((DBT / "older").glob("*.json")), ids=lambda p: p.stem.split("_")[1]
)
def test_older_manifest_versions_parse(manifest: Path) -> None:
    batch = parse(manifest)
    assert batch.snapshots[0].assertions
    assert dbt.read_artifacts(dbt.ArtifactPaths(manifest)).manifest.schema_version in manifest.name


def test_every_shared_manifest_parses(shared_fixtures: Path) -> None:
    manifests = [
        *(shared_fixtures / "openlineage/upstream/integration/common/tests/dbt").glob(
            "*/target/manifest.json"
        ),
        *(shared_fixtures / "dbt").glob("*/manifest.json*"),
    ]
    versions = {dbt.read_artifacts(dbt.ArtifactPaths(m)).manifest.schema_version for m in manifests}
    assert {"v2", "v3", "v4", "v7", "v11", "v12"} <= versions


def test_models_and_seeds_become_datasets_named_by_relation(classic_store: EmbeddedStore) -> None:
    found = {v.ref.name for v in classic_store.find_nodes(NodeKind.DATASET, limit=100)}
    assert found == {
        f"jaffle_shop.main.{name}"
        for name in (
            *("customers", "orders", "stg_customers", "stg_orders", "stg_payments"),
            *("raw_customers", "raw_orders", "raw_payments"),
        )
    }


def test_a_model_is_a_job_writing_its_relation_with_its_compiled_sql(
    classic_store: EmbeddedStore,
) -> None:
    job = job_ref("dbt", "model.jaffle_shop.customers")
    assert "select" in node_attrs(classic_store, job)["sql"].lower()
    assert [e.object for e in edges(classic_store, job, EdgeKind.WRITES)] == [classic("customers")]


def test_table_lineage_follows_depends_on(classic_store: EmbeddedStore) -> None:
    feeds = edges(classic_store, classic("customers"), EdgeKind.FEEDS)
    assert {e.subject for e in feeds if e.object == classic("customers")} == {
        classic("stg_customers"),
        classic("stg_orders"),
        classic("stg_payments"),
    }


def test_column_lineage_comes_from_compiled_sql(classic_store: EmbeddedStore) -> None:
    target = column_ref(DUCKDB, "jaffle_shop.main.customers", "customer_lifetime_value")
    derives = [e for e in edges(classic_store, target, EdgeKind.DERIVES) if e.object == target]
    assert [(e.subject.name, e.subject.column, e.attrs["transformation"]) for e in derives] == [
        ("jaffle_shop.main.stg_payments", "amount", "AGGREGATION")
    ]


def test_catalog_json_gives_columns_their_real_types(classic_store: EmbeddedStore) -> None:
    columns = catalog.columns(classic_store, classic("orders"))
    assert columns[0].ref.column == "order_id"
    assert columns[0].attrs["data_type"] == "INTEGER"


def test_tests_become_checks_on_columns_with_their_latest_result(
    classic_store: EmbeddedStore,
) -> None:
    column = column_ref(DUCKDB, "jaffle_shop.main.customers", "customer_id")
    checks = [e.subject for e in edges(classic_store, column, EdgeKind.CHECKS)]
    tests = {node_attrs(classic_store, c)["test"]: node_attrs(classic_store, c) for c in checks}
    assert set(tests) == {"unique", "not_null"}
    assert tests["unique"]["status"] == "pass"


def test_run_results_record_each_job_s_last_run(classic_store: EmbeddedStore) -> None:
    attrs = node_attrs(classic_store, job_ref("dbt", "model.jaffle_shop.orders"))
    assert attrs["last_run_status"] == "success"


def test_reingesting_the_same_artifacts_changes_nothing(classic_store: EmbeddedStore) -> None:
    assert not ingest(classic_store, CLASSIC).changed


def test_a_removed_model_s_edges_are_ended_and_kept_in_history(
    classic_store: EmbeddedStore, tmp_path: Path
) -> None:
    manifest = manifest_json(CLASSIC / "manifest.json.gz")
    del manifest["nodes"]["model.jaffle_shop.orders"]
    result = ingest(classic_store, write_target(tmp_path / "target", manifest))
    assert result.changed
    assert not edges(classic_store, classic("orders"), EdgeKind.FEEDS)
    ended = edges(classic_store, classic("orders"), EdgeKind.FEEDS, current=False)
    assert ended and all(e.valid_to is not None for e in ended)


def test_a_truncated_manifest_is_rejected_and_nothing_is_written(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    text = gzip.decompress((CLASSIC / "manifest.json.gz").read_bytes())
    (tmp_path / "manifest.json").write_bytes(text[: len(text) // 2])
    with pytest.raises(dbt.ArtifactError) as rejected:
        ingest(embedded, tmp_path / "manifest.json")
    assert rejected.value.file.endswith("manifest.json")
    assert "EOF" in rejected.value.reason
    assert not embedded.ledger(LedgerQuery(limit=10))


def test_a_malformed_node_is_rejected_naming_its_json_path(tmp_path: Path) -> None:
    manifest = manifest_json(CLASSIC / "manifest.json.gz")
    del manifest["nodes"]["model.jaffle_shop.orders"]["resource_type"]
    target = write_target(tmp_path, manifest)
    with pytest.raises(dbt.ArtifactError) as rejected:
        dbt.read_artifacts(dbt.ArtifactPaths.find(target))
    assert rejected.value.path == '$.nodes["model.jaffle_shop.orders"].resource_type'


def test_a_bad_run_results_file_fails_the_whole_ingestion(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    shutil.copytree(CLASSIC, target)
    (target / "run_results.json").write_text('{"metadata": {}, "results": []}')
    with pytest.raises(dbt.ArtifactError, match="dbt_schema_version"):
        ingest(embedded, target)
    assert not embedded.ledger(LedgerQuery(limit=10))


def test_a_model_whose_sql_does_not_parse_keeps_its_table_lineage(tmp_path: Path) -> None:
    manifest = manifest_json(CLASSIC / "manifest.json.gz")
    manifest["nodes"]["model.jaffle_shop.orders"]["compiled_code"] = "select from where ((("
    batch = parse(write_target(tmp_path, manifest))
    assert [e.field for e in batch.errors] == ['nodes["model.jaffle_shop.orders"].compiled_code']
    feeds = [
        a
        for a in batch.snapshots[0].assertions
        if a.kind == EdgeKind.FEEDS.value and a.object == classic("orders")
    ]
    assert len(feeds) == 2
    assert batch.counts["models_with_column_lineage"] == 4


def test_a_parse_only_manifest_gives_table_lineage_and_says_so() -> None:
    batch = parse(MESH)
    assert batch.counts["models_with_sql"] == 0
    assert any(a.kind == EdgeKind.FEEDS.value for a in batch.snapshots[0].assertions)


def test_groups_become_teams_owning_their_models(embedded: EmbeddedStore) -> None:
    ingest(embedded, MESH)
    team = owner_ref(TEAM, "platform")
    assert node_attrs(embedded, team)["contact_email"] == "jaff.bridges@jaffleshop.com"
    owned = {e.object.name for e in edges(embedded, team, EdgeKind.OWNS)}
    assert "ANALYTICS.DBT_FIXTURE.STG_LOCATIONS" in owned
    roles = {role for e in edges(embedded, team, EdgeKind.OWNS) for role in e.attrs["roles"]}
    assert roles == {"steward"}


def test_enforced_contracts_become_contract_versions(embedded: EmbeddedStore) -> None:
    ingest(embedded, MESH)
    dataset = dataset_ref(SNOWFLAKE, "ANALYTICS.DBT_FIXTURE.STG_LOCATIONS")
    [edge] = edges(embedded, dataset, EdgeKind.HAS_CONTRACT)
    contract = node_attrs(embedded, edge.object)
    assert contract["contract_id"] == "dbt:jaffle_shop_mesh_platform.stg_locations"
    columns = {c["name"]: c["physical_type"] for c in contract["datasets"][0]["columns"]}
    assert columns["LOCATION_ID"] == "text"


def test_a_changed_contract_is_a_new_version_and_the_old_one_is_ended(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    ingest(embedded, MESH)
    manifest = manifest_json(MESH)
    node = manifest["nodes"]["model.jaffle_shop_mesh_platform.stg_locations"]
    node["contract"]["checksum"] = "0" * 64
    ingest(embedded, write_target(tmp_path, manifest))
    dataset = dataset_ref(SNOWFLAKE, "ANALYTICS.DBT_FIXTURE.STG_LOCATIONS")
    history = edges(embedded, dataset, EdgeKind.HAS_CONTRACT, current=False)
    assert [e.valid_to is None for e in history] == [False, True]
    assert history[1].object.name == "1.0.0+000000000000"


def test_exposures_become_consumers_owned_by_their_owner(shared_fixtures: Path) -> None:
    batch = parse(shared_fixtures / "dbt/mattermost_analytics/manifest.json.gz")
    facts = [a for a in batch.snapshots[0].assertions if a.kind == FACT]
    consumers = [a for a in facts if a.subject.kind is NodeKind.CONSUMER]
    owned = {
        a.object
        for a in batch.snapshots[0].assertions
        if a.kind == EdgeKind.OWNS.value and "consumer" in a.attrs["roles"]
    }
    assert len(consumers) == 12
    assert owned == {a.subject for a in consumers}


def test_metrics_become_consumers_of_their_semantic_model(shared_fixtures: Path) -> None:
    batch = parse(shared_fixtures / "dbt/jaffle_shop")
    uses = {
        (a.subject.name, a.object.name)
        for a in batch.snapshots[0].assertions
        if a.kind == EdgeKind.USES.value
    }
    assert ("metric.revenue", "jaffle.main.order_items") in uses


def test_parallel_analysis_gives_the_same_lineage_as_sequential() -> None:
    artifacts = dbt.read_artifacts(dbt.ArtifactPaths.find(CLASSIC))
    relations = dbt.relations_of(artifacts.manifest, dbt.DbtOptions())
    models = [n for n in artifacts.manifest.nodes.values() if n.resource_type == "model"]
    runs = [
        [m.lineage for m in compiled_sql.analyse_models(models, relations, {}, {}, workers=w)]
        for w in (1, 2)
    ]
    assert runs[0] == runs[1]
    # No catalog: the staging models' columns are inferred through `select *` of one source.
    assert sum(1 for lineage in runs[0] if lineage is not None and lineage.flows) == 5


UNGUARDED_SCRIPT = """
from pathlib import Path

from ingesters import dbt
from ingesters.dbt import compiled_sql

artifacts = dbt.read_artifacts(dbt.ArtifactPaths.find(Path({classic!r})))
relations = dbt.relations_of(artifacts.manifest, dbt.DbtOptions())
models = [n for n in artifacts.manifest.nodes.values() if n.resource_type == "model"]
wide = {{("db", "s", f"t{{n}}"): {{f"c{{c}}_{{n}}": "INT" for c in range(20)}} for n in range(900)}}
list(compiled_sql.analyse_models(models, relations, wide, {{}}, workers=2))
"""


def test_a_script_without_a_main_guard_fails_to_start_the_pool_instead_of_hanging(
    tmp_path: Path,
) -> None:
    """Spawned workers import the script again; unguarded, each dies starting. With a
    schema larger than a pipe holds (this one: 300 KB), the pool must still see that."""
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT.format(classic=str(CLASSIC)))
    ran = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode != 0
    assert "BrokenProcessPool" in ran.stderr
    assert "bootstrapping phase" in ran.stderr  # Python's own advice on the guard


def test_cli_ingests_a_target_folder_and_reports_counts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--home", str(tmp_path), "ingest", "dbt", str(CLASSIC), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["datasets"] == 8
    assert report["counts"]["checks"] == 20


def test_cli_exits_2_on_a_bad_artifact_naming_it(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{")
    result = CliRunner().invoke(
        app, ["--home", str(tmp_path / "home"), "ingest", "dbt", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "manifest.json" in result.stderr
    assert "nothing was written" in result.stderr


@pytest.mark.parametrize(
    ("project", "datasets", "owners", "consumers", "contracts", "checks"),
    [
        ("jaffle_shop_classic", 8, 0, 0, 0, 20),
        ("jaffle_shop", 19, 0, 19, 0, 27),
        ("jaffle_shop_mesh_platform", 12, 3, 0, 6, 12),
        ("mattermost_analytics/manifest.json.gz", 872, 3, 12, 0, 460),
    ],
)
def test_counts_per_shared_project(
    shared_fixtures: Path,
    project: str,
    datasets: int,
    owners: int,
    consumers: int,
    contracts: int,
    checks: int,
) -> None:
    counts = parse(shared_fixtures / "dbt" / project, column_lineage=False).counts
    found = [counts.get(k, 0) for k in ("datasets", "owners", "consumers", "contracts", "checks")]
    assert found == [datasets, owners, consumers, contracts, checks]


def test_sql_ingestion_of_the_same_warehouse_lands_on_the_same_datasets(
    classic_store: EmbeddedStore, tmp_path: Path
) -> None:
    script = tmp_path / "report.sql"
    script.write_text("CREATE TABLE jaffle_shop.main.report AS SELECT customer_id FROM customers")
    options = sql.SqlOptions(
        dialect="duckdb", namespace=DUCKDB, defaults=Defaults("jaffle_shop", "main")
    )
    ingest_sql(classic_store, [script], options, actor="test:alice", reason="test")
    feeds = edges(classic_store, classic("customers"), EdgeKind.FEEDS)
    assert classic("report") in {e.object for e in feeds}


@pytest.fixture
def classic_target(tmp_path: Path) -> Path:
    """A copy of the classic project's target folder, to change."""
    target = tmp_path / "target"
    shutil.copytree(CLASSIC, target)
    return target


def _no_analysis(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the project was analysed again")


def test_an_unchanged_project_is_not_analysed_again(
    embedded: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifest_json(CLASSIC / "manifest.json.gz")
    manifest["nodes"]["model.jaffle_shop.orders"]["compiled_code"] = "select from where ((("
    target = write_target(tmp_path / "target", manifest)
    first = ingest(embedded, target)
    monkeypatch.setattr(dbt, "parse", _no_analysis)
    again = ingest(embedded, target)
    assert not again.changed
    assert again.counts == {**first.counts, "unchanged_project": 1}
    assert [str(e) for e in again.errors] == [str(e) for e in first.errors] != []


def test_the_project_job_records_the_ingest_that_asserted_it(classic_store: EmbeddedStore) -> None:
    attrs = node_attrs(classic_store, job_ref("dbt", "project.jaffle_shop"))
    assert len(attrs["input_fingerprint"]) == 64
    assert attrs["ingest_counts"]["models_with_sql"] == 5
    assert attrs["ingest_errors"] == []


def test_new_run_results_are_read_when_the_project_is_unchanged(
    embedded: EmbeddedStore, classic_target: Path
) -> None:
    ingest(embedded, classic_target)
    results = json.loads((classic_target / "run_results.json").read_text())
    results["metadata"]["invocation_id"] = "a-later-run"
    for result in results["results"]:
        if result["unique_id"] == "model.jaffle_shop.orders":
            result["status"] = "error"
    (classic_target / "run_results.json").write_text(json.dumps(results))
    again = ingest(embedded, classic_target)
    assert again.changed and again.counts["unchanged_project"] == 1
    attrs = node_attrs(embedded, job_ref("dbt", "model.jaffle_shop.orders"))
    assert attrs["last_run_status"] == "error"


def test_other_options_analyse_the_project_again(classic_store: EmbeddedStore) -> None:
    again = ingest(classic_store, CLASSIC, column_lineage=False)
    assert again.changed and "unchanged_project" not in again.counts


def test_changed_artifact_bytes_analyse_the_project_again(
    embedded: EmbeddedStore, classic_target: Path
) -> None:
    ingest(embedded, classic_target)
    (classic_target / "catalog.json").write_text(
        (classic_target / "catalog.json").read_text().replace('"INTEGER"', '"BIGINT"')
    )
    again = ingest(embedded, classic_target)
    assert again.changed and "unchanged_project" not in again.counts


def test_a_new_baton_or_sqlglot_analyses_the_project_again(
    classic_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fingerprints, "code_digest", lambda: "another version")
    again = ingest(classic_store, CLASSIC)
    assert "unchanged_project" not in again.counts
    assert again.changed  # the project job records the new fingerprint


def test_full_analyses_an_unchanged_project(classic_store: EmbeddedStore) -> None:
    options = dbt.DbtOptions()
    paths = dbt.ArtifactPaths.find(CLASSIC)
    again = ingest_dbt(classic_store, paths, options, actor="test:a", reason="t", full=True)
    assert not again.changed and "unchanged_project" not in again.counts


def test_cli_says_an_unchanged_project_was_not_analysed_again(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    CliRunner().invoke(app, [*home, "ingest", "dbt", str(CLASSIC)])
    again = CliRunner().invoke(app, [*home, "ingest", "dbt", str(CLASSIC)])
    assert again.exit_code == 0, again.output
    assert "project unchanged since it was last ingested" in again.output
    assert "--full" in again.output and "no changes" in again.output
