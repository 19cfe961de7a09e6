"""Handoffs that wait for people: each open handoff's sign-offs are judged (as time and
every write may change them), and a sign-off that is missing or went stale is an alert
to whoever holds its role on the product, until it is given or the handoff completes."""

from __future__ import annotations

from catalog.alerts.events import AlertEvent, EventType
from catalog.alerts.lifecycle import alert_key
from catalog.alerts.queue import AlertQueue
from catalog.domain import NodeRef
from catalog.handoffs import HandoffState, SignOffState
from catalog.services import handoffs
from catalog.stores.protocol import Store

WAITING = frozenset({SignOffState.MISSING, SignOffState.STALE})


def raise_alerts(store: Store, queue: AlertQueue) -> int:
    """Put `handoff.signoff_needed` in the outbox for each sign-off newly waiting, and
    `handoff.signoff_given` for each alerting one no longer waiting; how many."""
    firing = queue.firing_keys_of("handoff.signoff")
    events: list[AlertEvent] = []
    waiting: set[str] = set()
    for handoff in handoffs.find(store, state=HandoffState.OPEN, limit=10_000):
        evaluation = handoffs.evaluate(store, handoff)
        product = [d.key for d in handoff.datasets]
        for status in evaluation.signoffs:
            observed = {
                "part": status.spec.name, "role": status.spec.role,
                "state": status.state.value, "changed": list(status.changed),
                "datasets": product,
            }  # fmt: skip
            needed = status.state in WAITING
            event = AlertEvent(
                EventType.SIGNOFF_NEEDED if needed else EventType.SIGNOFF_GIVEN,
                handoff.ref, "handoffs", observed,
            )  # fmt: skip
            if needed:
                waiting.add(alert_key(event))
            if needed != (alert_key(event) in firing):  # newly waiting, or no longer
                events.append(event)
    for key in sorted(firing - waiting - {alert_key(e) for e in events}):  # handoff closed
        subject, part = key.removeprefix("handoff.signoff|").rsplit("|", 1)
        closed = {"part": part, "state": "closed"}
        events.append(
            AlertEvent(EventType.SIGNOFF_GIVEN, NodeRef.from_key(subject), "handoffs", closed)
        )
    if events:
        queue.enqueue_events(events)
    return len(events)
