"""Alert state changes are in the ledger, written in the queue's own transaction."""

from __future__ import annotations

from catalog.alerts.lifecycle import alert_ref
from catalog.stores.protocol import LedgerQuery
from tests.alerts.conftest import FAILING_TEST, World
from tests.conftest import baton


def alert_entries(world: World) -> list[tuple[str, str]]:
    entries = world.store.ledger(LedgerQuery(source="alerts", limit=100))
    return [(e.actor, e.reason) for e in entries]


def test_an_alert_opening_and_resolving_are_ledger_entries(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.id is not None
    [view] = world.store.nodes([alert_ref(alert.id)])
    assert view.attrs["status"] == "firing"
    world.ingest({}, "run-3")
    world.work()
    [view] = world.store.nodes([alert_ref(alert.id)])
    assert view.attrs["status"] == "resolved"
    assert ("baton:alerts", "alerts raised and resolved") in alert_entries(world)


def test_an_acknowledgement_is_a_ledger_entry_by_whoever_acknowledged(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.id is not None
    world.alerting.acknowledge(alert.id, "token:ops")
    assert ("token:ops", f"alert {alert.id} acknowledged") in alert_entries(world)
    [view] = world.store.nodes([alert_ref(alert.id)])
    assert view.attrs["acknowledged_by"] == "token:ops"


def test_a_repeat_changes_no_ledgered_state(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    before = len(alert_entries(world))
    world.ingest({FAILING_TEST: 4}, "run-3")
    world.work()
    assert len(alert_entries(world)) == before


def test_the_ledger_still_verifies_deeply_with_alerts_in_it(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    result = baton(world.home, "ledger", "verify", "--deep")
    assert result.exit_code == 0, result.output
