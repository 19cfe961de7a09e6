"""Alerts delivered by `baton serve` itself: durable across kill -9, secrets kept out of
its log and the ledger."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from catalog.alerts.model import Delivery
from catalog.stores.embedded import EmbeddedStore
from tests.alerts.conftest import (
    FAILING_TEST,
    JAFFLE,
    PAGER_KEY,
    SLACK_URL_PATH,
    WEBHOOK_SECRET,
    World,
    alerts_file,
)
from tests.conftest import baton, served

RESULTS = json.loads((JAFFLE / "run_results.json").read_text())["results"]
UNOWNED_TESTS = [
    r["unique_id"]
    for r in RESULTS
    if r["unique_id"].startswith("test.")
    and "_orders_" not in r["unique_id"].replace("stg_orders", "")
    and "_customers_" not in r["unique_id"].replace("stg_customers", "")
]
"""Checks on datasets without an operator: each alert is one webhook to the fallback."""


def alerting_env(world: World, secrets: dict[str, str]) -> dict[str, str]:
    path = alerts_file(world.tmp, world.receiver, world.mailbox)
    return secrets | {"BATON_ALERTS": str(path)}


def deliveries(home: Path) -> list[Delivery]:
    store = EmbeddedStore(home / "baton.db")
    try:
        return store.alert_queue().deliveries(limit=10_000)
    finally:
        store.close()


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_alerts_pending_when_the_server_is_killed_are_all_delivered_after_a_restart(
    world: World, secrets_env: dict[str, str]
) -> None:
    world.ingest(dict.fromkeys(UNOWNED_TESTS, 1), "run-2")
    env = alerting_env(world, secrets_env)
    world.receiver.slow = 0.05
    with served(world.home, env) as server:
        wait_until(lambda: len(world.receiver.requests) >= 3)
        server.process.kill()  # SIGKILL: no shutdown, no flush
        server.process.wait()
    assert any(d.status.value == "pending" for d in deliveries(world.home))
    world.receiver.slow = 0
    with served(world.home, env):
        wait_until(lambda: all(d.status.value == "delivered" for d in deliveries(world.home)))
    attempts = {
        d.idempotency_key: d.attempts
        for d in deliveries(world.home)
        if d.destination == "webhook:ops"
    }
    received = Counter(r.headers["Idempotency-Key"] for r in world.receiver.at("/hook"))
    assert len(attempts) == len(UNOWNED_TESTS)
    assert set(received) == set(attempts)
    assert all(received[key] <= attempts[key] for key in received)


def test_secrets_never_reach_the_servers_log_the_ledger_or_the_alert_records(
    world: World, secrets_env: dict[str, str]
) -> None:
    world.receiver.fail = True  # failures are logged: they must not quote a secret
    world.ingest({FAILING_TEST: 2}, "run-2")
    with served(world.home, alerting_env(world, secrets_env)) as server:
        wait_until(lambda: any(d.attempts for d in deliveries(world.home)))
        log = server.log
    exported = baton(world.home, "ledger", "export", "-").output
    stored = (world.home / "baton.db").read_bytes()
    for secret in (WEBHOOK_SECRET, PAGER_KEY, SLACK_URL_PATH):
        assert secret not in log.read_text()
        assert secret not in exported
        assert secret.encode() not in stored
