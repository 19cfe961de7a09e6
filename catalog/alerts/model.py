"""Alerts and deliveries as the worker and the readers see them: plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catalog.alerts.events import AlertEvent


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    NOTICE = "notice"
    """A one-off notification (an ownership change): nothing to resolve or escalate."""


class Action(StrEnum):
    """What a delivery tells its receiver about the alert."""

    TRIGGER = "trigger"
    ESCALATE = "escalate"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Out of attempts: an admin sees it (`baton alerts list --dead`) and may retry it."""


@dataclass(frozen=True)
class OutboxEvent:
    """An event as the write left it: the outbox row id and the ledger entry that raised it."""

    id: int
    seq: int
    event: AlertEvent


@dataclass
class Alert:
    key: str
    """Stable identity: event family and subject (`check.failed|<check key>`)."""
    type: str
    subject: str
    severity: str
    status: AlertStatus
    summary: str
    details: dict[str, Any]
    first_seq: int
    last_seq: int
    opened_at: str
    updated_at: str
    occurrences: int = 1
    resolved_at: str | None = None
    acked_by: str | None = None
    acked_at: str | None = None
    escalation_level: int = 0
    escalate_at: float | None = None
    silenced_by: int | None = None
    id: int | None = None


@dataclass
class Delivery:
    alert_id: int
    action: Action
    destination: str
    """`<channel>:<address>`: `webhook:ops`, `slack:#data-eng`, `email:a@b`, `pagerduty:svc`."""
    idempotency_key: str
    message: dict[str, Any]
    next_attempt_at: float
    created_at: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    delivered_at: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Silence:
    """Alerts whose type and subject match get no deliveries until `ends_at`."""

    events: str
    """Glob over event types (`check.*`)."""
    subjects: str
    """Glob over the subject as `namespace/name` (`postgres://wh/analytics.marts.*`)."""
    ends_at: float
    created_by: str
    reason: str
    created_at: str
    id: int | None = None
