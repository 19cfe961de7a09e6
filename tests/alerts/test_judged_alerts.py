"""Alerts that need the graph to mean something: contract drift, columns dropped under
something downstream, contract versions that break the one before. On the demo warehouse
with its owners; without channels, so each alert's routing is read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog.alerts.lifecycle import Alerting
from catalog.alerts.model import Alert
from catalog.alerts.settings import AlertSettings, Subscription
from catalog.services import ingestion, subscriptions
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import DEMO_OPTIONS, EXAMPLES, publish_contract

FCT_ORDERS = "postgres://warehouse:5432/analytics.marts.fct_orders"


def raised(store: EmbeddedStore, alert_type: str) -> list[Alert]:
    queue = store.alert_queue()
    Alerting(store, queue, AlertSettings.unconfigured()).process(10_000)
    return [a for a in queue.alerts(limit=1000) if a.type == alert_type]


def recipients(alert: Alert) -> set[tuple[str, str]]:
    return {(r["owner"], r["role"]) for r in alert.details["recipients"]}


@pytest.fixture
def warehouse_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(EXAMPLES, copy)
    return copy


def edit(project: Path, old: str, new: str) -> None:
    """Change the staging orders model of a copy of the warehouse project."""
    model = project / "staging" / "stg_orders.sql"
    model.write_text(model.read_text().replace(old, new))


def reingest(store: EmbeddedStore, project: Path) -> None:
    ingestion.ingest_sql(store, [project], DEMO_OPTIONS, actor="test:alice", reason="edit")


def test_a_contract_bound_to_a_drifted_dataset_alerts_its_stewards(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    [drift] = raised(owned_warehouse, "contract.drift")
    assert drift.status.value == "firing"
    assert drift.summary.startswith(f"{FCT_ORDERS} drifted from contract urn:acme:contract:")
    assert "UNDECLARED" in drift.summary
    assert recipients(drift) == {("team:analytics-engineering", "steward")}


def test_a_dataset_without_a_contract_raises_no_drift(owned_warehouse: EmbeddedStore) -> None:
    assert raised(owned_warehouse, "contract.drift") == []


def test_dropping_a_column_something_downstream_derives_from_alerts_downstream_owners(
    owned_warehouse: EmbeddedStore, warehouse_copy: Path
) -> None:
    staging = warehouse_copy / "staging" / "stg_orders.sql"
    staging.write_text(
        staging.read_text().replace(
            "    END             AS status,\n", "    END             AS state,\n"
        )
    )
    reingest(owned_warehouse, warehouse_copy)
    [breaking] = raised(owned_warehouse, "change.breaking")
    observed = breaking.details["observed"]
    assert observed["columns"] == ["status"]
    assert any(p.startswith("postgres://warehouse:5432/analytics.staging.stg_orders.status -> ")
               for p in observed["paths"])  # fmt: skip
    assert ("team:analytics-engineering", "engineer") in recipients(breaking)
    assert ("team:analytics-engineering", "steward") in recipients(breaking)


def test_dropping_a_column_nothing_reads_raises_nothing(
    owned_warehouse: EmbeddedStore, warehouse_copy: Path
) -> None:
    staging = warehouse_copy / "staging" / "stg_orders.sql"
    staging.write_text(
        staging.read_text().replace(
            "    o.store_id\nFROM raw.orders", "    1 AS store_id\nFROM raw.orders"
        )
    )
    reingest(owned_warehouse, warehouse_copy)
    assert raised(owned_warehouse, "change.breaking") == []


def test_a_contract_version_breaking_the_one_before_alerts_downstream_owners(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    publish_contract(owned_warehouse, "fct_orders.v2.odcs.yaml")
    [breaking] = raised(owned_warehouse, "contract.breaking")
    observed = breaking.details["observed"]
    assert (observed["previous"], observed["version"]) == ("1.0.0", "2.0.0")
    assert observed["breaking"]
    assert breaking.summary.startswith("Contract urn:acme:contract:fct-orders 2.0.0 breaks 1.0.0")


@pytest.mark.parametrize(("domain", "routed"), [("sales", ["webhook:sales"]), ("hr", [])])
def test_a_subscription_for_a_domain_takes_alerts_on_its_datasets(
    owned_warehouse: EmbeddedStore, domain: str, routed: list[str]
) -> None:
    only = Subscription(name="domain", domain=domain, to=["webhook:sales"])
    subscriptions.put(owned_warehouse, only, actor="test:alice", reason="domain route")
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")  # domain: sales
    [drift] = raised(owned_warehouse, "contract.drift")
    assert drift.details["unroutable"] == routed  # matched: no channel configured here


def test_owners_no_configured_channel_reaches_are_unreachable_not_unowned(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    [drift] = raised(owned_warehouse, "contract.drift")  # no channels configured here
    assert (drift.details["unowned"], drift.details["unreachable"]) == (False, True)


def test_drift_names_each_difference_by_its_column(owned_warehouse: EmbeddedStore) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    [drift] = raised(owned_warehouse, "contract.drift")
    assert "UNDECLARED gross_margin" in drift.details["observed"]["drift"]
