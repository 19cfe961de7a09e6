"""The alert queue port: the outbox, alerts, deliveries and silences a store keeps.

Alerting state is operational (what was sent, when to retry), so it lives beside the graph
rather than in it; what matters to an audit (an alert opened, acknowledged, resolved) is
kept with who and when on the alert itself and in its delivery history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from catalog.alerts.events import AlertEvent
from catalog.alerts.model import Alert, Delivery, OutboxEvent, Silence

if TYPE_CHECKING:  # the store port names this port; this one names the write transaction
    from catalog.stores.protocol import WriteTx

T = TypeVar("T")


class AlertTx(Protocol):
    """The queue inside one transaction: read an alert's state, change it, enqueue; and
    `graph`, the store's write transaction, to ledger the change in the same commit."""

    @property
    def graph(self) -> WriteTx: ...

    def firing(self, key: str) -> Alert | None:
        """The firing alert with this key, if any."""

    def alert(self, alert_id: int) -> Alert | None: ...

    def save(self, alert: Alert) -> int:
        """Insert (no id) or update the alert; its id."""

    def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        """Add deliveries; one whose idempotency key exists already is left as it is."""

    def claim(self, event_id: int) -> bool:
        """Mark an outbox event handled, in the transaction of what it causes; False when
        another worker handled it first (then do nothing)."""

    def silences(self, now: float) -> list[Silence]:
        """Silences that have not ended at `now`."""


class AlertQueue(Protocol):
    def transaction(self, unit: Callable[[AlertTx], T]) -> T: ...

    def firing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` have a firing alert (outside a transaction: a hint to skip
        reading the graph for repeats)."""

    def firing_keys_of(self, alert_type: str) -> set[str]:
        """Keys of the firing alerts of one type."""

    def enqueue_events(self, events: Sequence[AlertEvent]) -> None:
        """Put events that no write raised (a freshness evaluation) in the outbox, as of
        the ledger head (the graph they were judged on)."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Outbox events not yet processed, oldest first."""

    def due(self, now: float, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""

    def update(self, deliveries: Sequence[Delivery]) -> None:
        """Persist the outcome of attempts (status, attempts, next attempt, last error)."""

    def escalations_due(self, now: float) -> list[Alert]:
        """Firing, unacknowledged, unsilenced alerts whose escalation time has come."""

    def alerts(
        self, *, status: str | None = None, before_id: int | None = None, limit: int = 50
    ) -> list[Alert]:
        """Alerts newest first, optionally of one status, below an id cursor."""

    def alert(self, alert_id: int) -> Alert | None: ...

    def firing_about(self, dataset: str) -> list[Alert]:
        """Firing alerts that affect a dataset (`namespace/name`) or one of its columns."""

    def deliveries(
        self, *, alert_id: int | None = None, status: str | None = None, limit: int = 200
    ) -> list[Delivery]:
        """Deliveries of one alert, or of one status (`dead`: the dead letters), newest first."""

    def retry(self, delivery_ids: Sequence[int], now: float) -> int:
        """Make dead deliveries pending again, due now; how many were."""

    def add_silence(self, silence: Silence) -> int: ...

    def silences(self, now: float) -> list[Silence]: ...

    def backlog(self) -> tuple[int, int]:
        """Outbox events not yet processed, deliveries pending."""
