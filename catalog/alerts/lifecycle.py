"""The alert lifecycle: outbox events open, update and resolve alerts; unacknowledged
alerts escalate; acknowledgement stops that. Each step is one queue transaction that
claims its event, changes the alert and enqueues its deliveries together, so a crash
between steps repeats nothing and loses nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from fnmatch import fnmatchcase
from functools import partial

from catalog.alerts.events import AlertEvent, EventType
from catalog.alerts.judges import judge
from catalog.alerts.messages import compose
from catalog.alerts.model import Action, Alert, AlertStatus, Delivery, Silence
from catalog.alerts.queue import AlertQueue, AlertTx
from catalog.alerts.routing import Routing, escalation_destinations, route
from catalog.alerts.settings import AlertSettings, Subscription
from catalog.domain import Batch, NodeKind, NodeRef, SnapshotBuilder
from catalog.errors import InvalidArgument, NotFound
from catalog.services import subscriptions
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, apply_batch

Clock = Callable[[], float]
ALERT_SOURCE_PREFIX = "alert:"


class Verb(Enum):
    OPEN = "open"
    RESOLVE = "resolve"
    NOTICE = "notice"


FAMILIES: dict[EventType, tuple[str, Verb]] = {
    EventType.CHECK_FAILED: ("check.failed", Verb.OPEN),
    EventType.CHECK_PASSED: ("check.failed", Verb.RESOLVE),
    EventType.RUN_FAILED: ("run.failed", Verb.OPEN),
    EventType.RUN_SUCCEEDED: ("run.failed", Verb.RESOLVE),
    EventType.OWNERSHIP_CHANGED: ("ownership.changed", Verb.NOTICE),
    EventType.FRESHNESS_BREACHED: ("freshness.breached", Verb.OPEN),
    EventType.FRESHNESS_RECOVERED: ("freshness.breached", Verb.RESOLVE),
    EventType.DRIFT_APPEARED: ("contract.drift", Verb.OPEN),
    EventType.DRIFT_CLEARED: ("contract.drift", Verb.RESOLVE),
    EventType.CHANGE_BREAKING: ("change.breaking", Verb.NOTICE),
    EventType.CONTRACT_BREAKING: ("contract.breaking", Verb.NOTICE),
    EventType.SIGNOFF_NEEDED: ("handoff.signoff", Verb.OPEN),
    EventType.SIGNOFF_GIVEN: ("handoff.signoff", Verb.RESOLVE),
    EventType.HANDOFF_COMPLETED: ("handoff.completed", Verb.NOTICE),
}
"""Which alert each event type concerns, and what it does to it."""

ACK_CHANNELS = ("pagerduty:", "webhook:")
"""Destinations told about an acknowledgement (a page to stop, a system to update);
people in chat and mail are not re-notified."""


ALERTING_ACTOR = "baton:alerts"
"""Who the ledger names for the alerts the lifecycle opens, resolves and escalates."""


def alert_ref(alert_id: int) -> NodeRef:
    return NodeRef(kind=NodeKind.ALERT, namespace="alerts", name=str(alert_id))


def ledgered(tx: AlertTx, alerts: Sequence[Alert], actor: str, reason: str) -> None:
    """Record the alerts' state in the ledger, through the write path, in the queue's own
    transaction: each alert is its source `alert:<id>`, so an auditor reads when it opened,
    who acknowledged it, and when it resolved (counters and delivery attempts are not
    ledgered: they are operational)."""
    snapshots = []
    for alert in alerts:
        assert alert.id is not None
        builder = SnapshotBuilder(f"{ALERT_SOURCE_PREFIX}{alert.id}")
        builder.node(
            alert_ref(alert.id),
            key=alert.key, type=alert.type, severity=alert.severity,
            status=alert.status.value, summary=alert.summary,
            subject=alert.details.get("subject_ref"),
            assets=[a["ref"] for a in alert.details.get("assets") or []],
            opened_at=alert.opened_at, resolved_at=alert.resolved_at,
            acknowledged_by=alert.acked_by, acknowledged_at=alert.acked_at,
            escalation_level=alert.escalation_level, silenced=alert.silenced_by is not None,
            destinations=alert.details.get("destinations") or [],
            raised_by_seq=alert.first_seq,
        )  # fmt: skip
        snapshots.append(builder.build())
    if snapshots:
        apply_batch(tx.graph, Batch(snapshots=snapshots), WriteRequest(actor, "alerts", reason))


def alert_key(event: AlertEvent) -> str:
    """The key of the alert an event concerns: its family and subject (and part)."""
    part = f"|{event.part}" if event.part else ""
    return f"{FAMILIES[event.type][0]}|{event.subject.key}{part}"


def iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")


def idempotency_key(alert_id: int, step: str, destination: str) -> str:
    """Stable per alert, step and destination: the receiver's deduplication key."""
    digest = hashlib.sha256(f"{alert_id}\x1f{step}\x1f{destination}".encode()).hexdigest()
    return f"baton-{digest[:32]}"


def deliveries(
    alert: Alert, action: Action, step: str, destinations: Sequence[str], now: float
) -> list[Delivery]:
    assert alert.id is not None
    out = []
    for destination in dict.fromkeys(destinations):
        key = idempotency_key(alert.id, step, destination)
        out.append(
            Delivery(alert.id, action, destination, key, compose(alert, action, key), now, iso(now))
        )
    return out


def silenced_by(silences: Sequence[Silence], alert: Alert) -> int | None:
    assets = [a["ref"] for a in alert.details.get("assets") or []] or [alert.subject]
    for silence in silences:
        if fnmatchcase(alert.type, silence.events) and any(
            fnmatchcase(asset, silence.subjects) for asset in assets
        ):
            return silence.id
    return None


@dataclass
class Alerting:
    """Turns outbox events into alerts and deliveries; escalates; acknowledges."""

    store: Store
    queue: AlertQueue
    settings: AlertSettings
    clock: Clock = time.time

    def process(self, limit: int = 200) -> int:
        """Handle up to `limit` pending outbox events in one queue transaction (a write
        lock taken once per batch, not per event); how many there were. The graph is read
        before: to judge raw observations, and to route events that open a new alert or
        are notices."""
        pending = self.queue.pending_events(limit)
        if not pending:
            return 0
        now = self.clock()
        judged = judge(self.store, pending)
        events = [(item, n, e) for item in pending for n, e in enumerate(judged[item.id])]
        already = self.queue.firing_keys(sorted({alert_key(e) for _, _, e in events}))
        firing: list[Alert] | None = None
        routes: list[Subscription] = []
        routings: dict[tuple[int, int], Routing] = {}
        for item, n, event in events:
            verb = FAMILIES[event.type][1]
            if verb is Verb.RESOLVE or (verb is Verb.OPEN and alert_key(event) in already):
                continue
            if firing is None:  # read once per batch, and only when something is routed
                firing = self.queue.alerts(status=AlertStatus.FIRING.value, limit=1000)
                routes = [*self.settings.file.subscriptions, *subscriptions.current(self.store)]
            routings[item.id, n] = route(self.store, self.settings, event, firing, routes)

        def unit(tx: AlertTx) -> None:
            silences = tx.silences(now)
            changed: list[Alert] = []
            for item in pending:
                if tx.claim(item.id):
                    for n, event in enumerate(judged[item.id]):
                        routing = routings.get((item.id, n))
                        changed += self._apply(tx, item.seq, event, routing, silences, now)
            ledgered(tx, changed, ALERTING_ACTOR, "alerts raised and resolved")

        self.queue.transaction(unit)
        return len(pending)

    def _apply(
        self,
        tx: AlertTx,
        seq: int,
        event: AlertEvent,
        routing: Routing | None,
        silences: list[Silence],
        now: float,
    ) -> list[Alert]:
        """Open, update or resolve the event's alert; the alerts whose state changed (a
        repeat changes counters, not state)."""
        family, verb = FAMILIES[event.type]
        key = alert_key(event)
        if verb is Verb.RESOLVE:
            return self._resolve(tx, seq, event, key, now)
        current = tx.firing(key) if verb is Verb.OPEN else None
        if current is not None:
            current.occurrences += 1
            current.last_seq = seq
            current.updated_at = iso(now)
            current.details["observed"] = event.attrs
            tx.save(current)
            return []
        if routing is None:  # resolved earlier in this batch: routed now, under the lock
            routes = [*self.settings.file.subscriptions, *subscriptions.current(self.store)]
            routing = route(self.store, self.settings, event, [], routes)
        alert = Alert(
            key if verb is Verb.OPEN else f"{key}|{seq}",
            family, event.subject.key, routing.severity,
            AlertStatus.FIRING if verb is Verb.OPEN else AlertStatus.NOTICE,
            routing.summary, routing.details | {"destinations": routing.destinations},
            seq, seq, iso(now), iso(now),
        )  # fmt: skip
        alert.details["subject_ref"] = str(event.subject)
        if verb is Verb.OPEN and routing.escalation:
            alert.escalate_at = now + self.settings.escalate_after
        alert.silenced_by = silenced_by(silences, alert)
        tx.save(alert)
        if alert.silenced_by is None:
            tx.enqueue(deliveries(alert, Action.TRIGGER, "trigger", routing.destinations, now))
        return [alert]

    def _resolve(
        self, tx: AlertTx, seq: int, event: AlertEvent, key: str, now: float
    ) -> list[Alert]:
        alert = tx.firing(key)
        if alert is None:
            return []
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = alert.updated_at = iso(now)
        alert.last_seq = seq
        alert.escalate_at = None
        alert.details["resolved_by"] = {"observed": event.attrs, "source": event.source}
        tx.save(alert)
        if alert.silenced_by is None:
            told = alert.details.get("destinations", []) + alert.details.get("escalated", [])
            tx.enqueue(deliveries(alert, Action.RESOLVE, "resolve", told, now))
        return [alert]

    def escalate(self) -> int:
        """Send each due, unacknowledged alert to the next name on its escalation list."""
        now = self.clock()
        due = self.queue.escalations_due(now)
        for alert in due:
            chain = alert.details.get("escalation") or []
            owner = chain[alert.escalation_level] if alert.escalation_level < len(chain) else None
            reach = (
                escalation_destinations(self.store, self.settings, owner, alert.severity)
                if owner
                else []
            )
            step = partial(self._step, seen=alert, owner=owner, reach=reach, now=now)
            self.queue.transaction(step)
        return len(due)

    def _step(
        self, tx: AlertTx, seen: Alert, owner: str | None, reach: list[str], now: float
    ) -> None:
        assert seen.id is not None
        alert = tx.alert(seen.id)
        if (
            alert is None
            or alert.status is not AlertStatus.FIRING
            or alert.acked_by
            or alert.escalation_level != seen.escalation_level
        ):
            return  # acknowledged, resolved or escalated meanwhile
        chain = alert.details.get("escalation") or []
        if owner is not None:
            destinations = reach or list(self.settings.file.fallback)
            alert.escalation_level += 1
            alert.details.setdefault("escalated_to", []).append(owner)
            alert.details["escalated"] = alert.details.get("escalated", []) + destinations
            step = f"escalate-{alert.escalation_level}"
            tx.enqueue(deliveries(alert, Action.ESCALATE, step, destinations, now))
        more = alert.escalation_level < len(chain)
        alert.escalate_at = now + self.settings.escalate_after if more else None
        alert.updated_at = iso(now)
        tx.save(alert)
        if owner is not None:
            ledgered(tx, [alert], ALERTING_ACTOR, f"alert {alert.id} escalated to {owner}")

    def acknowledge(self, alert_id: int, by: str) -> Alert:
        return acknowledge(self.queue, alert_id, by, self.clock())


def acknowledge(queue: AlertQueue, alert_id: int, by: str, now: float) -> Alert:
    """Stop a firing alert's escalation, recording who; pages and webhooks are told.
    Acknowledging twice keeps the first acknowledgement."""

    def unit(tx: AlertTx) -> Alert:
        alert = tx.alert(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}; `baton alerts list` shows them")
        if alert.status is not AlertStatus.FIRING:
            raise InvalidArgument(
                f"alert {alert_id} is {alert.status.value}: nothing to acknowledge"
            )
        if alert.acked_by:
            return alert
        alert.acked_by, alert.acked_at = by, iso(now)
        alert.escalate_at = None
        alert.updated_at = iso(now)
        tx.save(alert)
        told = alert.details.get("destinations", []) + alert.details.get("escalated", [])
        acked = [d for d in told if d.startswith(ACK_CHANNELS)]
        tx.enqueue(deliveries(alert, Action.ACKNOWLEDGE, "acknowledge", acked, now))
        ledgered(tx, [alert], by, f"alert {alert_id} acknowledged")
        return alert

    return queue.transaction(unit)
