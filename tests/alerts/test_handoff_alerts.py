"""Handoffs that wait for people: a missing or stale sign-off alerts whoever holds its
role on the product, once, until it is given."""

from __future__ import annotations

from catalog.alerts.events import EventType, derive
from catalog.alerts.lifecycle import Alerting
from catalog.alerts.model import Alert
from catalog.alerts.settings import AlertSettings
from catalog.domain import SnapshotBuilder
from catalog.handoffs import handoff_ref
from catalog.services import handoff_alerts
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import SAM, approve, open_handoff, publish_contract


def judged(store: EmbeddedStore) -> list[Alert]:
    """Judge the open handoffs and handle what that raised; the sign-off alerts."""
    queue = store.alert_queue()
    handoff_alerts.raise_alerts(store, queue)
    Alerting(store, queue, AlertSettings.unconfigured()).process(10_000)
    return sorted(
        (a for a in queue.alerts(limit=1000) if a.type == "handoff.signoff"),
        key=lambda a: a.key,
    )


def test_an_open_handoff_alerts_the_holders_of_each_missing_sign_offs_role(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    open_handoff(owned_warehouse)
    engineering, governance = judged(owned_warehouse)
    assert (
        engineering.summary == "Handoff orders-prod waits for the engineering sign-off (engineer)"
    )
    assert {r["owner"] for r in engineering.details["recipients"]} == {"team:analytics-engineering"}
    assert {(r["owner"], r["role"]) for r in governance.details["recipients"]} == {
        ("person:maria@acme.example", "approver")
    }


def test_a_waiting_sign_off_alerts_once_however_often_it_is_judged(
    owned_warehouse: EmbeddedStore,
) -> None:
    open_handoff(owned_warehouse)
    first = judged(owned_warehouse)
    again = judged(owned_warehouse)
    assert [(a.id, a.occurrences) for a in again] == [(a.id, 1) for a in first]


def test_signing_resolves_that_sign_offs_alert(owned_warehouse: EmbeddedStore) -> None:
    open_handoff(owned_warehouse)
    judged(owned_warehouse)
    approve(owned_warehouse, "orders-prod", "engineering", SAM)
    engineering, governance = judged(owned_warehouse)
    assert engineering.status.value == "resolved"
    assert governance.status.value == "firing"


def test_a_completed_handoff_is_a_notice_derived_from_its_write() -> None:
    builder = SnapshotBuilder("handoff:orders-prod")
    builder.node(handoff_ref("orders-prod"), state="completed", move="stage", to="prod",
                 datasets=[], completed_by="token:ci")  # fmt: skip
    snapshot = builder.build()
    [event] = derive([(snapshot.source, a) for a in snapshot.assertions], [])
    assert event.type is EventType.HANDOFF_COMPLETED
    assert event.attrs["completed_by"] == "token:ci"
