"""Delivery: due deliveries are sent, with retries (exponential backoff with jitter), a
rate limit per destination, and a dead-letter state when attempts run out.

At least once: a delivery is marked delivered only after its receiver accepted it, so a
crash in between sends it again, with the same idempotency key for the receiver to drop;
each attempt is recorded before it is made, so a receiver sees a key at most as often as
the attempts on record.
`AlertWorker` runs the lifecycle and delivery in `baton serve`; `baton alerts deliver`
runs one pass.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.alerts.channels import Channels, SendFailed
from catalog.alerts.lifecycle import Alerting, iso
from catalog.alerts.model import Delivery, DeliveryStatus
from catalog.alerts.settings import DeliveryPolicy
from catalog.services import freshness, handoff_alerts

log = logging.getLogger("baton.alerts")

BATCH = 200
"""Deliveries read and recorded per step."""


def backoff(
    policy: DeliveryPolicy, attempts: int, rng: Callable[[], float] = random.random
) -> float:
    """Seconds before the next attempt after `attempts` failures: doubling from
    `backoff_seconds`, capped, with full jitter over its upper half (so many deliveries
    failing together do not retry together)."""
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempts - 1))
    return float(ceiling * (0.5 + 0.5 * rng()))


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Deliverer:
    channels: Channels
    policy: DeliveryPolicy
    clock: Callable[[], float] = time.time
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allowed(self, destination: str, now: float) -> bool:
        """Token bucket per destination: `rate_per_second`, bursts of that many."""
        rate = self.policy.rate_per_second
        bucket = self._buckets.setdefault(destination, _Bucket(rate, now))
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def begin(self, delivery: Delivery, now: float) -> Delivery:
        """Put the attempt on record before it is made: a crash while sending then counts
        as a failed attempt (retried after its backoff), so a receiver never sees a key
        more often than the attempts recorded for it."""
        delivery.attempts += 1
        delivery.next_attempt_at = now + backoff(self.policy, delivery.attempts)
        delivery.last_error = "interrupted before the receiver answered"
        return delivery

    def attempt(self, delivery: Delivery) -> Delivery:
        """Send once (after `begin`); the delivery with its outcome."""
        now = self.clock()
        try:
            self.channels.send(delivery, now)
        except SendFailed as failed:
            delivery.last_error = str(failed)
            if delivery.attempts >= self.policy.max_attempts:
                delivery.status = DeliveryStatus.DEAD
                log.warning(
                    "alert delivery %s to %s is dead after %d attempts: %s",
                    delivery.id, delivery.destination, delivery.attempts, failed,
                )  # fmt: skip
            return delivery
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = iso(now)
        delivery.last_error = None
        return delivery


def deliver_due(alerting: Alerting, deliverer: Deliverer, limit: int = 10_000) -> int:
    """Send what is due (up to `limit`); how many attempts were made."""
    made = 0
    while made < limit:
        now = deliverer.clock()
        due = alerting.queue.due(now, min(BATCH, limit - made))
        ready = [d for d in due if deliverer.allowed(d.destination, now)]
        if not ready:
            return made
        alerting.queue.update([deliverer.begin(d, now) for d in ready])
        alerting.queue.update([deliverer.attempt(d) for d in ready])
        made += len(ready)
    return made


class AlertWorker:
    """A daemon thread: judge freshness and open handoffs (every `judge_every` seconds),
    process the outbox, escalate, deliver; every `interval` seconds while idle."""

    def __init__(
        self,
        alerting: Alerting,
        deliverer: Deliverer,
        interval: float = 1.0,
        judge_every: float = 60.0,
    ) -> None:
        self.alerting = alerting
        self.deliverer = deliverer
        self.interval = interval
        self.judge_every = judge_every
        self._judge_due = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="baton-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def run_once(self) -> int:
        if time.monotonic() >= self._judge_due:  # what the clock changes, not a write
            freshness.raise_alerts(self.alerting.store, self.alerting.queue)
            handoff_alerts.raise_alerts(self.alerting.store, self.alerting.queue)
            self._judge_due = time.monotonic() + self.judge_every
        done = self.alerting.process()
        done += self.alerting.escalate()
        return done + deliver_due(self.alerting, self.deliverer)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the worker outlives a bad moment; the next pass retries
                log.exception("alert worker pass failed")
                busy = 0
            if not busy:
                self._wake.wait(self.interval)
                self._wake.clear()
