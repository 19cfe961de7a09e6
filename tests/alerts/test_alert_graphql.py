"""Alerts over GraphQL, on a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.api.app import create_app
from tests.alerts.conftest import FAILING_TEST, World
from tests.conftest import graphql_call, running

TOKEN = "alerts-token"
FIRING = """{ alerts(status: FIRING) { id type severity summary acknowledgedBy
  details deliveries { destination action status attempts idempotencyKey } } }"""
ACK = "mutation($id: Int!) { acknowledgeAlert(id: $id) { acknowledgedBy escalationLevel } }"


@pytest.fixture
def endpoint(world: World) -> Iterator[str]:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    with running(create_app(world.store, api_token=TOKEN)) as url:
        yield url


def test_alerts_lists_each_with_its_routing_and_every_delivery(endpoint: str) -> None:
    [alert] = graphql_call(endpoint, FIRING, None)["data"]["alerts"]
    assert alert["type"] == "check.failed"
    assert alert["details"]["recipients"][0]["owner"] == "team:shop-ops"
    assert {d["destination"] for d in alert["deliveries"]} == {
        "email:ops@shop.example", "slack:#shop-ops", "pagerduty:shop-oncall",
    }  # fmt: skip
    assert all(d["status"] == "delivered" for d in alert["deliveries"])


def test_acknowledging_needs_a_token(endpoint: str) -> None:
    [alert] = graphql_call(endpoint, FIRING, None)["data"]["alerts"]
    body = graphql_call(endpoint, ACK, None, id=alert["id"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_acknowledging_records_the_caller(endpoint: str) -> None:
    [alert] = graphql_call(endpoint, FIRING, None)["data"]["alerts"]
    body = graphql_call(endpoint, ACK, TOKEN, id=alert["id"])
    assert body["data"]["acknowledgeAlert"]["acknowledgedBy"] == "token:static"


def test_an_unknown_alert_is_not_found(endpoint: str) -> None:
    body = graphql_call(endpoint, "{ alert(id: 999) { id } }", None)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_dead_letters_are_for_administrators(endpoint: str) -> None:
    body = graphql_call(endpoint, "{ deadAlertDeliveries { id } }", TOKEN)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
