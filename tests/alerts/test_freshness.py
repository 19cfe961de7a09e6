"""Freshness SLAs: where they come from, what counts as a write, and alerts that fire once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.domain import dataset_ref, job_ref
from catalog.services import freshness
from catalog.services.freshness import State
from catalog.stores.embedded import EmbeddedStore
from ingesters.ownership import OwnershipMap
from tests.alerts.conftest import JAFFLE_RUN_AT, ORDERS, SLACK_URL_PATH, World
from tests.conftest import baton, publish_contract

WRITTEN = datetime.fromisoformat(JAFFLE_RUN_AT)
ORDERS_REF = dataset_ref("duckdb://default", "jaffle_shop.main.orders")


def at(hours_after_the_run: float) -> datetime:
    return datetime.fromtimestamp(WRITTEN.timestamp() + hours_after_the_run * 3600, UTC)


def judged(world: World, hours: float) -> freshness.Freshness:
    [orders] = [r for r in freshness.evaluate(world.store, at(hours)) if r.dataset == ORDERS_REF]
    return orders


def test_a_dbt_run_records_when_each_model_was_written(world: World) -> None:
    [view] = world.store.nodes([ORDERS_REF])
    assert view.attrs["last_written_at"] == JAFFLE_RUN_AT
    assert view.attrs["written_by"] == str(job_ref("dbt", "model.jaffle_shop.orders"))


def test_an_ownership_map_rule_sets_a_datasets_freshness_sla(world: World) -> None:
    orders = judged(world, 1)
    assert orders.sla.within == 6 * 3600
    assert orders.sla.source == "ownership-map:shop rule 2"
    assert orders.state is State.FRESH


def test_a_dataset_not_written_within_its_sla_is_stale(world: World) -> None:
    orders = judged(world, 7)
    assert orders.state is State.STALE
    assert orders.detail().startswith("last written 7h ago")


def test_a_breach_alerts_the_operator_once_however_often_it_is_judged(world: World) -> None:
    for hours in (7, 7.5, 8):
        freshness.raise_alerts(world.store, world.alerting.queue, at(hours))
        world.work()
    [slack] = world.receiver.at(SLACK_URL_PATH)
    assert slack.json["text"].startswith(f"[ERROR] {ORDERS} is stale: last written 7h ago")


def test_the_next_successful_write_resolves_the_breach(world: World) -> None:
    freshness.raise_alerts(world.store, world.alerting.queue, at(7))
    world.work()
    world.ingest({}, "run-2", at=at(7.5).isoformat())
    freshness.raise_alerts(world.store, world.alerting.queue, at(8))
    world.work()
    texts = [r.json["text"] for r in world.receiver.at(SLACK_URL_PATH)]
    assert [t.split("]")[0] for t in texts] == ["[ERROR", "[RESOLVED"]


def test_a_dataset_with_an_sla_and_no_recorded_write_is_unknown_not_fresh(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")  # latency: 4 h
    [orders] = freshness.evaluate(owned_warehouse)
    assert orders.dataset.name == "analytics.marts.fct_orders"
    assert orders.sla.within == 4 * 3600
    assert orders.sla.source == "contract urn:acme:contract:fct-orders 1.0.0"
    assert orders.state is State.UNKNOWN


def test_freshness_check_exits_1_when_a_dataset_is_stale(world: World) -> None:
    result = baton(world.home, "freshness", "check")
    assert result.exit_code == 1  # the example run was days ago; the SLA is 6h
    assert "STALE" in result.output and "jaffle_shop.main.orders" in result.output


def test_a_freshness_rule_needs_a_duration_it_can_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        OwnershipMap.model_validate({"version": 1, "rules": [{"match": "*", "freshness": "soon"}]})


def test_a_rule_with_neither_owners_nor_freshness_is_refused() -> None:
    with pytest.raises(ValueError, match="needs `owners`, `freshness` or both"):
        OwnershipMap.model_validate({"version": 1, "rules": [{"match": "*"}]})


def test_freshness_check_on_a_data_directory_that_is_not_there_is_an_error(
    tmp_path: Path,
) -> None:
    result = baton(tmp_path / "nowhere", "freshness", "check")
    assert result.exit_code == 2
    assert "no Baton store" in result.output
    assert not (tmp_path / "nowhere").exists()
