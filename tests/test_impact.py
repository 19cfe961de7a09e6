"""Impact analysis on the demo warehouse and on real dbt projects: exact affected sets,
kinds, confidences, owner groups, contracts, severity, truncation, digests, interfaces."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog.api.app import create_app
from catalog.cli import app
from catalog.domain import column_ref, dataset_ref, job_ref
from catalog.errors import LimitExceeded
from catalog.impact import ChangeKind, ImpactReport
from catalog.services import change_sets, contracts, impact, ownership
from catalog.services.ingestion import ingest_dbt, ingest_sql
from catalog.stores.embedded import EmbeddedStore
from ingesters import dbt, sql
from ingesters.contracts import read_contracts
from ingesters.sql.names import Defaults
from tests.conftest import FIXTURES, PROJECT, running

WAREHOUSE = "postgres://warehouse:5432"
SQL_OPTIONS = sql.SqlOptions(
    dialect="postgres", namespace=WAREHOUSE, defaults=Defaults("analytics", "public")
)


def column(name: str) -> Any:
    table, _, col = name.rpartition(".")
    return column_ref(WAREHOUSE, f"analytics.{table}", col)


def ingest_warehouse(store: EmbeddedStore, home: Path | None = None) -> None:
    ingest_sql(store, [PROJECT / "examples/warehouse"], SQL_OPTIONS, actor="t", reason="t")


@pytest.fixture
def warehouse(embedded: EmbeddedStore) -> EmbeddedStore:
    ingest_warehouse(embedded)
    ownership.apply_map(
        embedded, PROJECT / "examples/ownership/warehouse.yaml", actor="t", reason="t"
    )
    versions, _ = read_contracts([PROJECT / "examples/contracts/fct_orders.v1.odcs.yaml"])
    contracts.publish(embedded, versions, actor="t", reason="t")
    return embedded


def drop(store: EmbeddedStore, name: str, **options: Any) -> ImpactReport:
    return impact.analyse(
        store, [impact.ChangeRequest(ChangeKind.DROP_COLUMN, column(name))], **options
    )


def affected(report: ImpactReport) -> set[tuple[str, str, str, str]]:
    return {
        (a.kind, a.label.removeprefix(f"{WAREHOUSE}/analytics."), a.confidence.value, a.lineage)
        for a in report.affected
        if a.kind != "JOB"
    }


def test_a_dropped_column_reaches_exactly_its_readers(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "staging.stg_orders.status")
    assert affected(report) == {
        ("COLUMN", "intermediate.int_store_daily.returned_orders", "certain", "DIRECT"),
        ("COLUMN", "marts.fct_orders.status", "certain", "DIRECT"),
        ("DATASET", "intermediate.int_store_daily", "certain", "DIRECT"),
        ("DATASET", "marts.fct_orders", "certain", "DIRECT"),
        ("DATASET", "marts.fct_daily_revenue", "certain", "INDIRECT"),  # WHERE o.status
        ("DATASET", "reporting.exec_kpis", "certain", "INDIRECT"),  # reads those rows
    }


def test_each_hop_names_the_statement_that_creates_it(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "staging.stg_orders.status")
    [status] = [a for a in report.affected if a.label.endswith("fct_orders.status")]
    [hop] = status.path
    assert (hop.kind, hop.detail) == ("DERIVES", "IDENTITY")
    assert hop.where == "warehouse:marts/fct_orders.sql:14"
    assert hop.job is not None and hop.job.endswith("fct_orders.sql#analytics.marts.fct_orders")


def test_the_jobs_behind_affected_data_are_affected(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "staging.stg_orders.status")
    jobs = {a.label.rsplit("#", 1)[-1] for a in report.affected if a.kind == "JOB"}
    assert "analytics.marts.fct_daily_revenue" in jobs


def test_owners_are_grouped_by_owner_and_role_with_escalation(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "staging.stg_orders.status")
    groups = {(o.owner, o.role): o for o in report.owners}
    engineer = groups[("team/analytics-engineering", "engineer")]
    assert engineer.contact == "analytics-eng-oncall"
    assert engineer.escalation == ("person:maria@acme.example", "team:data-platform")
    assert f"{WAREHOUSE}/analytics.marts.fct_orders" in engineer.assets


def test_affected_assets_nobody_owns_are_listed(embedded: EmbeddedStore) -> None:
    ingest_warehouse(embedded)
    report = drop(embedded, "staging.stg_orders.status")
    assert report.owners == ()
    assert f"{WAREHOUSE}/analytics.marts.fct_orders" in report.unowned


def test_a_contract_declaring_the_column_is_broken(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "marts.fct_orders.net_paid")
    [broken] = report.contracts
    assert (broken.contract_id, broken.version) == ("urn:acme:contract:fct-orders", "1.0.0")
    assert broken.reason == "a declared column is dropped"


def test_a_broken_contract_others_rely_on_decides_breaking(warehouse: EmbeddedStore) -> None:
    kpis = dataset_ref(WAREHOUSE, "analytics.reporting.exec_kpis")
    contracts.pin(warehouse, kpis, "urn:acme:contract:fct-orders", "1.0.0", actor="t", reason="t")
    report = drop(warehouse, "marts.fct_orders.net_paid")
    assert report.contracts[0].dependents == (str(kpis),)
    assert report.rule == "breaking: a contract version others rely on no longer holds"


def test_table_level_lineage_only_gives_possible_impact(
    warehouse: EmbeddedStore, tmp_path: Path
) -> None:
    script = tmp_path / "partner.sql"
    script.write_text(
        "CREATE TABLE analytics.staging.stg_partner AS SELECT * FROM analytics.raw.partner_feed;\n"
        "CREATE TABLE analytics.marts.partner_kpis AS\n"
        "SELECT * FROM analytics.staging.stg_partner;\n"
    )
    ingest_sql(warehouse, [script], SQL_OPTIONS, actor="t", reason="t")
    report = drop(warehouse, "raw.partner_feed.region")
    assert affected(report) == {
        ("DATASET", "staging.stg_partner", "possible", "DIRECT"),
        ("DATASET", "marts.partner_kpis", "possible", "DIRECT"),
    }
    assert report.severity.value == "risky"


def test_a_widened_type_is_at_most_risky(warehouse: EmbeddedStore) -> None:
    request = impact.ChangeRequest(
        ChangeKind.RETYPE_COLUMN, column("marts.fct_orders.customer_id"), new_type="decimal(38,0)"
    )
    report = impact.analyse(warehouse, [request])
    assert report.changes[0].compatible
    assert report.affected
    assert report.severity.value == "risky"


def test_nothing_downstream_is_safe(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "reporting.exec_kpis.gold_customers")
    assert report.affected == ()
    assert report.severity.value == "safe"


def test_dropping_a_dataset_breaks_every_reader_for_certain(warehouse: EmbeddedStore) -> None:
    request = impact.ChangeRequest(
        ChangeKind.DROP_DATASET, dataset_ref(WAREHOUSE, "analytics.marts.fct_daily_revenue")
    )
    report = impact.analyse(warehouse, [request])
    assert ("DATASET", "reporting.exec_kpis", "certain", "DIRECT") in affected(report)


def test_truncation_is_reported_with_where(warehouse: EmbeddedStore) -> None:
    report = drop(warehouse, "staging.stg_payments.amount", limit=3)
    assert report.truncated
    assert report.truncated_at
    assert len(report.affected) <= 3


def test_the_digest_is_stable_and_follows_the_report(warehouse: EmbeddedStore) -> None:
    first = drop(warehouse, "staging.stg_orders.status")
    assert drop(warehouse, "staging.stg_orders.status").digest == first.digest
    assert drop(warehouse, "staging.stg_orders.order_date").digest != first.digest


def test_a_proposed_contract_version_is_analysed_as_its_shape_changes(
    warehouse: EmbeddedStore,
) -> None:
    [v2], _ = read_contracts([PROJECT / "examples/contracts/fct_orders.v2.odcs.yaml"])
    requests = change_sets.from_contract(warehouse, v2)
    assert {(r.kind, r.target.column, r.new_type) for r in requests} == {
        (ChangeKind.DROP_COLUMN, "status", None),
        (ChangeKind.RETYPE_COLUMN, "order_id", "text"),
    }


def test_limits_are_checked(warehouse: EmbeddedStore) -> None:
    with pytest.raises(LimitExceeded):
        drop(warehouse, "staging.stg_orders.status", depth=99)


@pytest.fixture
def classic(embedded: EmbeddedStore) -> EmbeddedStore:
    """The jaffle_shop_classic dbt project, with column lineage from its compiled SQL."""
    paths = dbt.ArtifactPaths.find(FIXTURES / "dbt/jaffle_shop_classic")
    ingest_dbt(embedded, paths, dbt.DbtOptions(), actor="t", reason="t")
    return embedded


def test_a_dbt_column_change_follows_compiled_sql_lineage(classic: EmbeddedStore) -> None:
    amount = column_ref("duckdb://default", "jaffle_shop.main.stg_payments", "amount")
    report = impact.analyse(classic, [impact.ChangeRequest(ChangeKind.DROP_COLUMN, amount)])
    columns = {a.label.rsplit("/", 1)[-1] for a in report.affected if a.kind == "COLUMN"}
    assert "jaffle_shop.main.customers.customer_lifetime_value" in columns
    assert all(a.confidence.value == "certain" for a in report.affected)


def test_changing_a_dbt_model_affects_everything_downstream(classic: EmbeddedStore) -> None:
    job = job_ref("dbt", "model.jaffle_shop.stg_orders")
    report = impact.analyse(classic, [impact.ChangeRequest(ChangeKind.CHANGE_JOB, job)])
    datasets = {a.label.rsplit("/", 1)[-1] for a in report.affected if a.kind == "DATASET"}
    assert datasets == {"jaffle_shop.main.customers", "jaffle_shop.main.orders"}


def test_exposures_downstream_are_affected_consumers(
    embedded: EmbeddedStore, shared_fixtures: Path
) -> None:
    manifest = shared_fixtures / "dbt/mattermost_analytics/manifest.json.gz"
    ingest_dbt(
        embedded,
        dbt.ArtifactPaths.find(manifest),
        dbt.DbtOptions(column_lineage=False),
        actor="t",
        reason="t",
    )
    exposure = next(
        e
        for e in dbt.read_artifacts(dbt.ArtifactPaths(manifest)).manifest.exposures.values()
        if e.depends_on.nodes
    )
    parent = dbt.relations_of(
        dbt.read_artifacts(dbt.ArtifactPaths(manifest)).manifest, dbt.DbtOptions()
    ).dataset(exposure.depends_on.nodes[0])
    assert parent is not None
    report = impact.analyse(embedded, [impact.ChangeRequest(ChangeKind.DROP_DATASET, parent)])
    consumers = {a.label.rsplit("/", 1)[-1] for a in report.affected if a.kind == "CONSUMER"}
    assert exposure.unique_id in consumers


@pytest.fixture
def cli_home(tmp_path: Path) -> list[str]:
    """`--home` of a data directory where the CLI ingested the demo warehouse."""
    home = ["--home", str(tmp_path)]
    ingest = ["ingest", "sql", str(PROJECT / "examples/warehouse"), "--dialect", "postgres"]
    ingest += ["--namespace", WAREHOUSE, "--default-database", "analytics"]
    assert CliRunner().invoke(app, [*home, *ingest]).exit_code == 0
    return home


DROP_STATUS = ["impact", "--drop-column", "analytics.staging.stg_orders.status"]


def test_cli_markdown_is_a_pull_request_comment(cli_home: list[str]) -> None:
    result = CliRunner().invoke(app, [*cli_home, *DROP_STATUS, "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## 🔴 Baton impact: **breaking**")
    assert "<details><summary>Evidence</summary>" in result.stdout


def test_cli_fails_on_breaking_for_ci(cli_home: list[str]) -> None:
    gate = [*cli_home, *DROP_STATUS, "--fail-on", "breaking", "--format", "json"]
    result = CliRunner().invoke(app, gate)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["severity"] == "breaking"


@pytest.fixture
def endpoint(warehouse: EmbeddedStore) -> Iterator[str]:
    with running(create_app(warehouse)) as url:
        yield url


def test_impact_over_graphql(endpoint: str, warehouse: EmbeddedStore) -> None:
    query = f"""{{ impact(changes: [{{kind: DROP_COLUMN, namespace: "{WAREHOUSE}",
        name: "analytics.staging.stg_orders", column: "status"}}]) {{
        severity digest affected {{ kind label confidence lineage path {{ kind where }} }}
        owners {{ owner role }} }} }}"""
    body = httpx.post(f"{endpoint}/graphql", json={"query": query}).json()
    report = body["data"]["impact"]
    assert report["severity"] == "breaking"
    assert report["digest"] == drop(warehouse, "staging.stg_orders.status").digest
    assert {"owner": "team/finance-data", "role": "steward"} in report["owners"]


def test_old_and_new_sql_give_dropped_renamed_and_changed_columns(warehouse: EmbeddedStore) -> None:
    old = (PROJECT / "examples/warehouse/marts/fct_orders.sql").read_text()
    new = (
        old.replace("    status        text,\n", "")
        .replace("order_date, status, store_id", "order_date, store_id")
        .replace("    o.status,\n", "")
        .replace("gross_margin", "margin")
        .replace("coalesce(p.net_paid, 0)", "coalesce(p.gross_paid, 0)")
    )
    versions = change_sets.SqlVersions(
        old, new, "postgres", WAREHOUSE, defaults=Defaults("analytics", "public")
    )
    requests = change_sets.from_sql(warehouse, versions)
    assert {(r.kind, r.target.column, r.new_name) for r in requests} == {
        (ChangeKind.DROP_COLUMN, "status", None),
        (ChangeKind.RENAME_COLUMN, "gross_margin", "margin"),
        (ChangeKind.CHANGE_COLUMN, "net_paid", None),
    }


def test_a_changed_derivation_alone_is_risky(warehouse: EmbeddedStore) -> None:
    request = impact.ChangeRequest(ChangeKind.CHANGE_COLUMN, column("marts.fct_orders.net_paid"))
    report = impact.analyse(warehouse, [request])
    assert report.affected
    assert report.severity.value == "risky"


def test_two_manifests_give_the_pull_request_s_changes(
    classic: EmbeddedStore, tmp_path: Path
) -> None:
    before = dbt.read_artifacts(dbt.ArtifactPaths.find(FIXTURES / "dbt/jaffle_shop_classic"))
    manifest = json.loads(
        gzip.decompress((FIXTURES / "dbt/jaffle_shop_classic/manifest.json.gz").read_bytes())
    )
    del manifest["nodes"]["model.jaffle_shop.orders"]
    customers = manifest["nodes"]["model.jaffle_shop.customers"]
    customers["compiled_code"] = customers["compiled_code"].replace(
        "customer_orders.number_of_orders,", ""
    )
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    after = dbt.read_artifacts(dbt.ArtifactPaths(tmp_path / "manifest.json"))
    requests = change_sets.from_manifests(classic, before, after, dbt.DbtOptions())
    assert {(r.kind, r.target.name.rsplit(".", 1)[-1], r.target.column) for r in requests} == {
        (ChangeKind.DROP_DATASET, "orders", None),
        (ChangeKind.DROP_COLUMN, "customers", "number_of_orders"),
    }


def test_impact_of_sql_over_graphql(endpoint: str) -> None:
    old = (PROJECT / "examples/warehouse/marts/fct_orders.sql").read_text()
    new = old.replace("coalesce(p.net_paid, 0)", "coalesce(p.gross_paid, 0)")
    query = """query($old: String!, $new: String!) {
      impactOfSql(oldSql: $old, newSql: $new, dialect: "postgres",
                  namespace: "postgres://warehouse:5432", defaultDatabase: "analytics",
                  defaultSchema: "public") { severity changes { kind target } } }"""
    body = httpx.post(
        f"{endpoint}/graphql", json={"query": query, "variables": {"old": old, "new": new}}
    ).json()
    report = body["data"]["impactOfSql"]
    assert report["changes"] == [
        {"kind": "CHANGE_COLUMN", "target": f"{WAREHOUSE}/analytics.marts.fct_orders.net_paid"}
    ]
    assert report["severity"] == "risky"


def test_cli_asks_a_server_when_given_one(
    endpoint: str, warehouse: EmbeddedStore, tmp_path: Path
) -> None:
    remote = ["--home", str(tmp_path), *DROP_STATUS, "--server", endpoint]
    result = CliRunner().invoke(app, [*remote, "--namespace", WAREHOUSE, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)["digest"] == drop(warehouse, "staging.stg_orders.status").digest
    )


def test_impact_through_lineage_inferred_over_a_star_is_inferred_and_at_most_risky(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    project = tmp_path / "star"
    project.mkdir()
    (project / "out.sql").write_text(
        "INSERT INTO analytics.public.out SELECT s.x FROM (SELECT * FROM analytics.public.src) s"
    )
    ingest_sql(embedded, [project], SQL_OPTIONS, actor="t", reason="t")
    report = drop(embedded, "public.src.x")
    assert ("COLUMN", "public.out.x", "inferred", "DIRECT") in affected(report)
    assert report.severity.value == "risky"
    assert "inferred over a `*` with no schema" in report.rule
