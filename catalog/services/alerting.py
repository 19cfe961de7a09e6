"""Alerting as a use case: the lifecycle and the deliverer over a store's queue, from the
settings; the one place the CLI, the server and GraphQL get them from."""

from __future__ import annotations

from catalog.alerts import settings as alert_settings
from catalog.alerts.channels import Channels
from catalog.alerts.lifecycle import Alerting
from catalog.alerts.queue import AlertQueue
from catalog.alerts.worker import AlertWorker, Deliverer
from catalog.config import Settings
from catalog.durations import seconds
from catalog.errors import InvalidArgument
from catalog.stores.protocol import Store


def queue_of(store: Store) -> AlertQueue:
    queue = store.alert_queue()
    if queue is None:
        raise InvalidArgument(
            f"the {getattr(store, 'backend', 'configured')} store keeps alert events in its "
            "outbox but cannot route or deliver them yet; use the embedded store for alerts"
        )
    return queue


def alerting(store: Store, settings: Settings) -> Alerting:
    """The lifecycle over the store's queue, routed and delivered as `BATON_ALERTS` says
    (without it, alerts are kept and shown but sent nowhere)."""
    configured = (
        alert_settings.load(settings.alerts)
        if settings.alerts is not None
        else alert_settings.AlertSettings.unconfigured()
    )
    return Alerting(store, queue_of(store), configured)


def worker(store: Store, settings: Settings, interval: float = 1.0) -> AlertWorker:
    running = alerting(store, settings)
    deliverer = Deliverer(Channels(running.settings), running.settings.file.delivery)
    every = seconds(running.settings.file.judge_every)
    return AlertWorker(running, deliverer, interval, judge_every=every)
