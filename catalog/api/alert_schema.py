"""GraphQL for alerts: what was raised, whom it reached (every delivery attempt), and
acknowledging one (authenticated; recorded as the caller)."""

from __future__ import annotations

import time
from enum import Enum
from typing import Annotated, cast

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON
from strawberry.types import Info

from catalog.alerts import lifecycle, model
from catalog.alerts.settings import Subscription
from catalog.api import auth
from catalog.api.context import store_of
from catalog.errors import InvalidArgument, NotFound
from catalog.security import Permission
from catalog.services import subscriptions
from catalog.services.alerting import queue_of

AlertId = Annotated[int, strawberry.argument(description="The alert's id.")]


@strawberry.enum(description="Where an alert is in its life.")
class AlertStatus(Enum):
    FIRING = strawberry.enum_value("firing", description="Open: the problem was last seen.")
    RESOLVED = strawberry.enum_value("resolved", description="What raised it recovered.")
    NOTICE = strawberry.enum_value("notice", description="A one-off notification.")


@strawberry.type(description="One message to one destination about an alert, and its attempts.")
class AlertDelivery:
    id: int = strawberry.field(description="The delivery's id.")
    alert_id: int = strawberry.field(description="The alert it is about.")
    action: str = strawberry.field(description="trigger, escalate, acknowledge or resolve.")
    destination: str = strawberry.field(
        description="`webhook:<name>`, `slack:<channel>`, `pagerduty:<service>` or "
        "`email:<address>`."
    )
    idempotency_key: str = strawberry.field(description="What the receiver deduplicates by.")
    status: str = strawberry.field(description="pending, delivered or dead (out of attempts).")
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    created_at: str = strawberry.field(description="When it was queued (ISO-8601).")
    delivered_at: str | None = strawberry.field(description="When the receiver accepted it.")

    @classmethod
    def of(cls, d: model.Delivery) -> AlertDelivery:
        assert d.id is not None
        return cls(
            id=d.id, alert_id=d.alert_id, action=d.action.value, destination=d.destination,
            idempotency_key=d.idempotency_key, status=d.status.value, attempts=d.attempts,
            last_error=d.last_error, created_at=d.created_at, delivered_at=d.delivered_at,
        )  # fmt: skip


@strawberry.type(description="An incident (or a notice) raised by what a write recorded.")
class Alert:
    id: int = strawberry.field(description="The alert's id.")
    key: str = strawberry.field(
        description="Stable identity (event family and subject): repeats update the firing alert."
    )
    type: str = strawberry.field(description="check.failed, run.failed or ownership.changed.")
    severity: str = strawberry.field(description="error, warning or info.")
    status: AlertStatus = strawberry.field(description="Firing, resolved or a one-off notice.")
    summary: str = strawberry.field(description="One line saying what happened where.")
    occurrences: int = strawberry.field(description="How many times it was observed.")
    first_seq: int = strawberry.field(description="The ledger entry that raised it.")
    last_seq: int = strawberry.field(description="The last ledger entry that touched it.")
    opened_at: str = strawberry.field(description="When it opened (ISO-8601).")
    updated_at: str = strawberry.field(description="When it last changed.")
    resolved_at: str | None = strawberry.field(description="When it resolved.")
    acknowledged_by: str | None = strawberry.field(description="Who acknowledged it.")
    acknowledged_at: str | None = strawberry.field(description="When it was acknowledged.")
    escalation_level: int = strawberry.field(description="Escalation steps taken so far.")
    silenced: bool = strawberry.field(description="Whether a silence kept it from being sent.")
    details: JSON = strawberry.field(
        description="Affected assets with console links, what was observed, the source, the "
        "owners it was routed to, runbook, remediation, upstream suspects and downstream assets."
    )

    @strawberry.field(description="Every delivery of this alert, newest first.")
    def deliveries(self, info: Info) -> list[AlertDelivery]:
        found = queue_of(store_of(info)).deliveries(alert_id=self.id)
        return [AlertDelivery.of(d) for d in found]

    @classmethod
    def of(cls, a: model.Alert) -> Alert:
        assert a.id is not None
        return cls(
            id=a.id, key=a.key, type=a.type, severity=a.severity,
            status=AlertStatus(a.status.value), summary=a.summary, occurrences=a.occurrences,
            first_seq=a.first_seq, last_seq=a.last_seq, opened_at=a.opened_at,
            updated_at=a.updated_at, resolved_at=a.resolved_at, acknowledged_by=a.acked_by,
            acknowledged_at=a.acked_at, escalation_level=a.escalation_level,
            silenced=a.silenced_by is not None, details=cast(JSON, a.details),
        )  # fmt: skip


@strawberry.type(description="A route alerts take besides their owners', or a mute.")
class AlertSubscription:
    name: str = strawberry.field(description="Unique within its file (or among API ones).")
    events: list[str] = strawberry.field(description="Globs over event types (`check.*`).")
    severity: list[str] = strawberry.field(description="Only these severities (none: any).")
    match: str = strawberry.field(description="Glob over affected assets as namespace/name.")
    owner: str | None = strawberry.field(description="Only alerts routed to this owner.")
    domain: str | None = strawberry.field(description="Only alerts on datasets of this domain.")
    to: list[str] = strawberry.field(
        description="Destinations added (`slack:#x`), or for a mute, destination globs taken away."
    )
    mute: bool = strawberry.field(description="Takes routes away instead of adding them.")

    @classmethod
    def of(cls, s: Subscription) -> AlertSubscription:
        return cls(name=s.name, events=s.events, severity=s.severity, match=s.match,
                   owner=s.owner, domain=s.domain, to=s.to, mute=s.mute)  # fmt: skip


@strawberry.input(description="A subscription to set over the API.")
class AlertSubscriptionInput:
    name: str = strawberry.field(description="Its name; setting it again replaces it.")
    to: list[str] = strawberry.field(description="Destinations (or, muting, their globs).")
    events: list[str] = strawberry.field(
        default_factory=lambda: ["*"], description="Event type globs."
    )
    severity: list[str] = strawberry.field(
        default_factory=list, description="Severities (none: any)."
    )
    match: str = strawberry.field(default="*", description="Asset glob (namespace/name).")
    owner: str | None = strawberry.field(
        default=None, description="Only alerts routed to this owner."
    )
    domain: str | None = strawberry.field(
        default=None, description="Only alerts on datasets of this domain."
    )
    mute: bool = strawberry.field(default=False, description="Take routes away instead.")


@strawberry.type(description="Reading alerts.")
class AlertQuery:
    @strawberry.field(description="Alerts, newest first, optionally of one status.")
    def alerts(
        self,
        info: Info,
        status: Annotated[
            AlertStatus | None, strawberry.argument(description="Only in this status.")
        ] = None,
        before: Annotated[
            int | None, strawberry.argument(description="Only alerts with a smaller id (paging).")
        ] = None,
        first: Annotated[int, strawberry.argument(description="At most this many (1-500).")] = 50,
    ) -> list[Alert]:
        if not 1 <= first <= 500:
            raise InvalidArgument("first must be between 1 and 500")
        queue = queue_of(store_of(info))
        chosen = str(status.value) if status else None
        found = queue.alerts(status=chosen, before_id=before, limit=first)
        return [Alert.of(a) for a in found]

    @strawberry.field(
        description="Every subscription in force: from subscription files and the API (the "
        "alerts file's own are not listed: they live with the server's configuration)."
    )
    def alert_subscriptions(self, info: Info) -> list[AlertSubscription]:
        return [AlertSubscription.of(s) for s in subscriptions.current(store_of(info))]

    @strawberry.field(description="One alert by id (NOT_FOUND when there is none).")
    def alert(self, info: Info, id: AlertId) -> Alert:
        found = queue_of(store_of(info)).alert(id)
        if found is None:
            raise NotFound(f"no alert {id}; `alerts` lists them")
        return Alert.of(found)

    @strawberry.field(
        description="Deliveries that ran out of attempts (the dead letters); administrators only."
    )
    def dead_alert_deliveries(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="At most this many (1-500).")] = 100,
    ) -> list[AlertDelivery]:
        auth.require(info.context, Permission.ADMINISTER)
        if not 1 <= first <= 500:
            raise InvalidArgument("first must be between 1 and 500")
        found = queue_of(store_of(info)).deliveries(status="dead", limit=first)
        return [AlertDelivery.of(d) for d in found]


@strawberry.type(description="Acting on alerts; each needs a bearer token.")
class AlertMutation:
    @strawberry.mutation(
        description="Set a subscription (ledgered as the caller); INVALID_ARGUMENT when it is "
        "not well formed."
    )
    def set_alert_subscription(
        self,
        info: Info,
        subscription: Annotated[
            AlertSubscriptionInput, strawberry.argument(description="The subscription to set.")
        ],
    ) -> AlertSubscription:
        principal = auth.require(info.context, Permission.WRITE)
        try:
            parsed = Subscription.model_validate(vars(subscription))
        except ValidationError as invalid:
            raise InvalidArgument(str(invalid.errors(include_url=False)[0]["msg"])) from invalid
        subscriptions.put(store_of(info), parsed, actor=principal.name, reason="subscription set")
        return AlertSubscription.of(parsed)

    @strawberry.mutation(
        description="Remove a subscription set over the API (ledgered as the caller); "
        "NOT_FOUND when there is none of that name."
    )
    def remove_alert_subscription(
        self, info: Info, name: Annotated[str, strawberry.argument(description="Its name.")]
    ) -> bool:
        principal = auth.require(info.context, Permission.WRITE)
        subscriptions.remove(
            store_of(info), name, actor=principal.name, reason="subscription removed"
        )
        return True

    @strawberry.mutation(
        description="Acknowledge a firing alert as the caller: its escalation stops; pages and "
        "webhooks are told. INVALID_ARGUMENT when it is not firing."
    )
    def acknowledge_alert(self, info: Info, id: AlertId) -> Alert:
        principal = auth.require(info.context, Permission.WRITE)
        queue = queue_of(store_of(info))
        return Alert.of(lifecycle.acknowledge(queue, id, principal.name, time.time()))
