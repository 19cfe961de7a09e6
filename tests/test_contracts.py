"""Contracts: ODCS files, the compatibility table rule by rule, publishing rules, drift."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.api.app import create_app
from catalog.compatibility import RULES, ChangeKind, diff, same_type
from catalog.contracts import ContractColumn, ContractVersion, QualityRule, SlaProperty
from catalog.domain import Batch, EdgeKind, SnapshotBuilder, dataset_ref
from catalog.errors import NotFound
from catalog.services import contracts
from catalog.services.ingestion import ingest_dbt, ingest_sql
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from catalog.write_path import WriteRequest, write_batch
from ingesters import dbt, sql
from ingesters.contracts import read_contracts
from ingesters.sql.names import Defaults
from tests.conftest import FIXTURES, PROJECT, graphql_call, running

EXAMPLES = PROJECT / "examples" / "contracts"
ORDERS = "urn:acme:contract:fct-orders"


def example(name: str) -> ContractVersion:
    versions, errors = read_contracts([EXAMPLES / name])
    assert not errors
    return versions[0]


@pytest.fixture
def v1() -> ContractVersion:
    return example("fct_orders.v1.odcs.yaml")


def with_column(contract: ContractVersion, column: str, **changes: Any) -> ContractVersion:
    """The contract with one column of its first dataset changed (`remove=True` drops it)."""
    dataset = contract.datasets[0]
    columns = [
        c if c.name != column else c.model_copy(update=changes)
        for c in dataset.columns
        if not (c.name == column and changes.get("remove"))
    ]
    return with_dataset(contract, columns=tuple(columns))


def with_dataset(contract: ContractVersion, **changes: Any) -> ContractVersion:
    dataset = contract.datasets[0].model_copy(update=changes)
    return contract.model_copy(update={"datasets": (dataset, *contract.datasets[1:])})


def with_sla(contract: ContractVersion, *sla: SlaProperty) -> ContractVersion:
    return contract.model_copy(update={"sla": sla})


def bumped(contract: ContractVersion, version: str) -> ContractVersion:
    return contract.model_copy(update={"version": version})


def published(store: EmbeddedStore, *versions: ContractVersion) -> None:
    contracts.publish(store, versions, actor="test:alice", reason="test")


LATENCY_4H = SlaProperty(property="latency", value=4, unit="h")
RETENTION_3Y = SlaProperty(property="retention", value=3, unit="y")

# One case per rule of the compatibility table: (rule, how to change v1 to trigger it).
CASES: dict[ChangeKind, Any] = {
    ChangeKind.DATASET_REMOVED: lambda c: c.model_copy(update={"datasets": ()}),
    ChangeKind.DATASET_ADDED: lambda c: c.model_copy(
        update={"datasets": (*c.datasets, c.datasets[0].model_copy(update={"object_name": "x"}))}
    ),
    ChangeKind.COLUMN_REMOVED: lambda c: with_column(c, "status", remove=True),
    ChangeKind.COLUMN_RENAMED: lambda c: with_column(c, "customer_id", name="client_id"),
    ChangeKind.COLUMN_ADDED: lambda c: with_dataset(
        c, columns=(*c.datasets[0].columns, ContractColumn(name="channel"))
    ),
    ChangeKind.TYPE_WIDENED: lambda c: with_column(c, "customer_id", physical_type="decimal(38,0)"),
    ChangeKind.TYPE_NARROWED: lambda c: with_column(c, "customer_id", physical_type="int"),
    ChangeKind.TYPE_CHANGED: lambda c: with_column(c, "order_date", physical_type="timestamp"),
    ChangeKind.NULLABLE_TO_REQUIRED: lambda c: with_column(c, "status", required=True),
    ChangeKind.REQUIRED_TO_NULLABLE: lambda c: with_column(c, "order_date", required=False),
    ChangeKind.PRIMARY_KEY_CHANGED: lambda c: with_column(c, "customer_id", primary_key_position=2),
    ChangeKind.UNIQUE_DROPPED: lambda c: with_column(c, "order_id", unique=False),
    ChangeKind.UNIQUE_ADDED: lambda c: with_column(c, "customer_id", unique=True),
    ChangeKind.QUALITY_RULE_REMOVED: lambda c: with_dataset(c, quality=()),
    ChangeKind.QUALITY_RULE_CHANGED: lambda c: with_dataset(
        c, quality=(QualityRule(name="row_count_positive", definition={"mustBeGreaterThan": 100}),)
    ),
    ChangeKind.QUALITY_RULE_ADDED: lambda c: with_dataset(
        c, quality=(*c.datasets[0].quality, QualityRule(name="fresh", definition={}))
    ),
    ChangeKind.SLA_WEAKENED: lambda c: with_sla(
        c, SlaProperty(property="latency", value=1, unit="d"), RETENTION_3Y
    ),
    ChangeKind.SLA_STRENGTHENED: lambda c: with_sla(
        c, SlaProperty(property="latency", value=30, unit="m"), RETENTION_3Y
    ),
    ChangeKind.SLA_REMOVED: lambda c: with_sla(c, LATENCY_4H),
    ChangeKind.SLA_ADDED: lambda c: with_sla(
        c, *c.sla, SlaProperty(property="timeToRepair", value=8, unit="h")
    ),
    ChangeKind.CLASSIFICATION_CHANGED: lambda c: with_column(
        c, "customer_id", classification="restricted"
    ),
    ChangeKind.DESCRIPTION_CHANGED: lambda c: with_column(c, "order_id", description="Key."),
}


def test_every_rule_of_the_table_has_a_case() -> None:
    assert set(CASES) == set(RULES) == set(ChangeKind)


@pytest.mark.parametrize("kind", list(ChangeKind), ids=lambda k: k.value)
def test_each_rule_detects_its_change_and_classifies_it(
    v1: ContractVersion, kind: ChangeKind
) -> None:
    base = with_sla(v1, LATENCY_4H, RETENTION_3Y)
    if kind is ChangeKind.COLUMN_RENAMED:  # a rename is seen through the column's stable id
        assert base.datasets[0].column("customer_id").property_id  # type: ignore[union-attr]
    changes = diff(base, CASES[kind](base))
    assert [c.kind for c in changes] == [kind]
    assert changes[0].breaking is RULES[kind].breaking


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("varchar(10)", "varchar(20)", ChangeKind.TYPE_WIDENED),
        ("varchar(20)", "varchar(10)", ChangeKind.TYPE_NARROWED),
        ("int", "bigint", ChangeKind.TYPE_WIDENED),
        ("decimal(10,2)", "decimal(12,2)", ChangeKind.TYPE_WIDENED),
        ("decimal(12,4)", "decimal(10,2)", ChangeKind.TYPE_NARROWED),
        ("decimal(12,4)", "decimal(12,2)", ChangeKind.TYPE_CHANGED),  # fewer decimals, more digits
        ("text", "varchar(200)", ChangeKind.TYPE_NARROWED),
        ("float", "double", ChangeKind.TYPE_WIDENED),
        ("bigint", "text", ChangeKind.TYPE_CHANGED),
    ],
)
def test_types_are_compared_by_the_values_they_admit(
    v1: ContractVersion, old: str, new: str, kind: ChangeKind
) -> None:
    before = with_column(v1, "status", physical_type=old)
    after = with_column(v1, "status", physical_type=new)
    assert [c.kind for c in diff(before, after)] == [kind]


def test_spellings_of_one_type_are_the_same_type() -> None:
    assert same_type("text", "VARCHAR")
    assert same_type("numeric(12,2)", "DECIMAL(12, 2)")
    assert not same_type("bigint", "text")


def test_the_example_versions_classify_as_their_numbers_say() -> None:
    v1, v1_1, v2 = (example(f"fct_orders.{n}.odcs.yaml") for n in ("v1", "v1_1", "v2"))
    assert not any(c.breaking for c in diff(v1, v1_1))
    assert {c.kind for c in diff(v1_1, v2) if c.breaking} == {
        ChangeKind.COLUMN_REMOVED,
        ChangeKind.TYPE_CHANGED,
    }


def test_an_invalid_contract_is_rejected_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text("apiVersion: v9\nkind: DataContract\nversion: one\nschema: {}\n")
    versions, errors = read_contracts([EXAMPLES / "fct_orders.v1.odcs.yaml", bad])
    assert versions == []
    fields = {e.field for e in errors}
    assert {"$", "$.apiVersion", "$.schema"} <= fields
    assert all(e.source == bad.as_posix() for e in errors)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: x\nversion: [1.0.0\n")
    _, errors = read_contracts([bad])
    assert errors[0].line == 3


def test_a_breaking_change_without_a_major_bump_is_rejected_and_nothing_written(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    published(embedded, v1)
    unbumped = bumped(with_column(v1, "status", remove=True), "1.1.0")
    with pytest.raises(contracts.ContractRejected, match=r"COLUMN_REMOVED fct_orders\.status"):
        published(embedded, unbumped)
    assert [v.version for v in contracts.versions(embedded, ORDERS)] == ["1.0.0"]


def test_a_breaking_change_with_a_major_bump_is_published(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    published(embedded, v1, bumped(with_column(v1, "status", remove=True), "2.0.0"))
    assert [v.version for v in contracts.versions(embedded, ORDERS)] == ["1.0.0", "2.0.0"]


def test_a_published_version_is_immutable(embedded: EmbeddedStore, v1: ContractVersion) -> None:
    published(embedded, v1)
    with pytest.raises(contracts.ContractRejected, match="immutable"):
        published(embedded, with_column(v1, "order_id", description="changed"))


def test_republishing_an_identical_version_changes_nothing(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    published(embedded, v1)
    result = contracts.publish(embedded, [v1], actor="test:alice", reason="again")
    assert not result.changed
    assert len(embedded.ledger(LedgerQuery(limit=10))) == 1


def test_versions_are_attached_to_their_dataset(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    published(embedded, v1)
    [edge] = [
        e for e in embedded.edge_history(v1.datasets[0].ref) if e.kind == EdgeKind.HAS_CONTRACT
    ]
    assert edge.object == v1.ref
    assert [v.digest for v in contracts.of_dataset(embedded, v1.datasets[0].ref)] == [v1.digest]


@pytest.fixture
def warehouse(embedded: EmbeddedStore) -> EmbeddedStore:
    options = sql.SqlOptions(
        dialect="postgres",
        namespace="postgres://warehouse:5432",
        defaults=Defaults("analytics", "public"),
    )
    ingest_sql(embedded, [PROJECT / "examples/warehouse"], options, actor="t", reason="t")
    return embedded


def drift_of(store: EmbeddedStore, contract: ContractVersion) -> set[tuple[str, str | None]]:
    published(store, contract)
    return {(d.kind.value, d.column) for d in contracts.drift(store, contract.contract_id)}


def test_drift_lists_undeclared_columns(warehouse: EmbeddedStore, v1: ContractVersion) -> None:
    assert ("UNDECLARED", "item_count") in drift_of(warehouse, v1)


def test_drift_lists_missing_columns(warehouse: EmbeddedStore, v1: ContractVersion) -> None:
    extra = with_dataset(v1, columns=(*v1.datasets[0].columns, ContractColumn(name="channel")))
    assert ("MISSING", "channel") in drift_of(warehouse, extra)


def test_drift_lists_type_mismatches(warehouse: EmbeddedStore, v1: ContractVersion) -> None:
    retyped = with_column(v1, "order_date", physical_type="timestamp")
    assert ("TYPE_MISMATCH", "order_date") in drift_of(warehouse, retyped)


def test_drift_reports_a_dataset_the_catalog_does_not_know(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    assert drift_of(embedded, v1) == {("UNKNOWN_DATASET", None)}


def test_the_mesh_contract_lands_on_the_dataset_dbt_ingested(embedded: EmbeddedStore) -> None:
    mesh = FIXTURES / "dbt" / "mesh_platform" / "manifest.json.gz"
    options = dbt.DbtOptions(namespace="snowflake://jaffleshop")
    ingest_dbt(embedded, dbt.ArtifactPaths.find(mesh), options, actor="t", reason="t")
    contract = example("stg_locations.odcs.yaml")
    assert drift_of(embedded, contract) == set()


TOKEN = "contract-token"
PUBLISH = """
mutation($document: String!) {
  publishContract(document: $document) { changed ledgerSeq versions { version digest } }
}
"""


@pytest.fixture
def endpoint(embedded: EmbeddedStore) -> Iterator[str]:
    with running(create_app(embedded, api_token=TOKEN)) as url:
        yield url


def call(url: str, query: str, token: str | None = TOKEN, **variables: Any) -> dict[str, Any]:
    return graphql_call(url, query, token, **variables)


def document(name: str) -> str:
    return (EXAMPLES / name).read_text()


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def test_publishing_over_graphql_needs_a_token(endpoint: str) -> None:
    body = call(endpoint, PUBLISH, token=None, document=document("fct_orders.v1.odcs.yaml"))
    assert error_code(body) == "UNAUTHENTICATED"


def test_publishing_over_graphql_records_the_caller(endpoint: str, embedded: EmbeddedStore) -> None:
    body = call(endpoint, PUBLISH, document=document("fct_orders.v1.odcs.yaml"))
    assert body["data"]["publishContract"]["changed"] is True
    [entry] = embedded.ledger(LedgerQuery(limit=10))
    assert entry.actor == "token:static"


def test_an_unbumped_breaking_publish_over_graphql_is_rejected(endpoint: str) -> None:
    call(endpoint, PUBLISH, document=document("fct_orders.v1.odcs.yaml"))
    unbumped = document("fct_orders.v2.odcs.yaml").replace("version: 2.0.0", "version: 1.5.0")
    body = call(endpoint, PUBLISH, document=unbumped)
    assert error_code(body) == "CONTRACT_REJECTED"
    assert "COLUMN_REMOVED" in body["errors"][0]["message"]


def test_diff_and_drift_are_queryable(endpoint: str) -> None:
    for name in ("fct_orders.v1.odcs.yaml", "fct_orders.v2.odcs.yaml"):
        call(endpoint, PUBLISH, document=document(name))
    query = """
    query($id: String!) {
      contractDiff(contractId: $id, oldVersion: "1.0.0", newVersion: "2.0.0") {
        needsMajorVersion changes { kind subject breaking }
      }
      contractDrift(contractId: $id) { kind column }
      contractVersions(contractId: $id) { version datasets { name columns { name } } }
    }
    """
    data = call(endpoint, query, id=ORDERS)["data"]
    kinds = {c["kind"] for c in data["contractDiff"]["changes"] if c["breaking"]}
    assert kinds == {"COLUMN_REMOVED", "TYPE_CHANGED"}
    assert data["contractDiff"]["needsMajorVersion"] is False
    assert data["contractDrift"] == [{"kind": "UNKNOWN_DATASET", "column": None}]
    assert [v["version"] for v in data["contractVersions"]] == ["1.0.0", "2.0.0"]


def test_the_documented_table_is_the_table_in_the_code() -> None:
    documented = (PROJECT / "docs" / "contracts.md").read_text()
    for kind, rule in RULES.items():
        verdict = "yes" if rule.breaking else "no"
        assert f"| `{kind.value}` | {verdict} | {rule.reason} |" in documented


def test_a_consumer_pins_the_version_it_relies_on(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    v2 = bumped(with_column(v1, "status", remove=True), "2.0.0")
    published(embedded, v1, v2)
    report = dataset_ref("postgres://warehouse:5432", "analytics.reporting.exec_kpis")
    builder = SnapshotBuilder("test")
    builder.node(report)
    write_batch(embedded, Batch(snapshots=[builder.build()]), WriteRequest("t", "test", "t"))
    contracts.pin(embedded, report, ORDERS, "1.0.0", actor="t", reason="t")
    contracts.pin(embedded, report, ORDERS, "2.0.0", actor="t", reason="t")
    assert [(str(p.dependent), p.version) for p in contracts.dependents(embedded, ORDERS)] == [
        (str(report), "2.0.0")
    ]
    contracts.unpin(embedded, report, ORDERS, actor="t", reason="t")
    assert contracts.dependents(embedded, ORDERS) == []


def test_pinning_an_unpublished_version_is_refused(
    embedded: EmbeddedStore, v1: ContractVersion
) -> None:
    published(embedded, v1)
    with pytest.raises(NotFound, match=r"no version 9\.0\.0"):
        contracts.pin(embedded, v1.datasets[0].ref, ORDERS, "9.0.0", actor="t", reason="t")


def test_pins_are_declared_over_graphql(endpoint: str) -> None:
    call(endpoint, PUBLISH, document=document("fct_orders.v1.odcs.yaml"))
    mutation = """mutation { pinContract(kind: DATASET, namespace: "postgres://warehouse:5432",
        name: "analytics.marts.fct_orders", contractId: "urn:acme:contract:fct-orders",
        version: "1.0.0") { changed } }"""
    assert call(endpoint, mutation)["data"]["pinContract"]["changed"] is True
    query = '{ contractDependents(contractId: "urn:acme:contract:fct-orders") { name version } }'
    assert call(endpoint, query)["data"]["contractDependents"] == [
        {"name": "analytics.marts.fct_orders", "version": "1.0.0"}
    ]


def test_dbt_contracts_are_contract_versions_too(embedded: EmbeddedStore) -> None:
    mesh = FIXTURES / "dbt" / "mesh_platform" / "manifest.json.gz"
    options = dbt.DbtOptions(namespace="snowflake://jaffleshop")
    ingest_dbt(embedded, dbt.ArtifactPaths.find(mesh), options, actor="t", reason="t")
    odcs_version = example("stg_locations.odcs.yaml")
    [dbt_version] = contracts.of_dataset(embedded, odcs_version.datasets[0].ref)
    assert dbt_version.contract_id == "dbt:jaffle_shop_mesh_platform.stg_locations"
    assert [c.name for c in dbt_version.datasets[0].columns] == [
        c.name for c in odcs_version.datasets[0].columns
    ]
    assert contracts.drift(embedded, dbt_version.contract_id) == []
