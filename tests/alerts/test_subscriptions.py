"""Subscriptions kept in the graph: from files and GraphQL, each change ledgered, read by
routing beside the alerts file's own."""

from __future__ import annotations

from pathlib import Path

from catalog.api.app import create_app
from catalog.stores.protocol import LedgerQuery
from tests.alerts.conftest import FAILING_TEST, World
from tests.conftest import baton, graphql_call, running

TOKEN = "subscriptions-token"
HOOKED = """
version: 1
name: platform
subscriptions:
  - {name: orders checks, events: ["check.*"], match: "*orders*", to: [webhook:ops, slack:#nowhere]}
"""
SET = """mutation { setAlertSubscription(subscription: {name: "ops", to: ["webhook:ops"],
  events: ["check.*"]}) { name to } }"""


def subscribed(world: World, text: str) -> None:
    path = world.tmp / "subscriptions.yaml"
    path.write_text(text, encoding="utf-8")
    result = baton(world.home, "ingest", "subscriptions", str(path))
    assert result.exit_code == 0, result.output


def test_a_subscription_file_adds_its_routes_and_its_change_is_ledgered(world: World) -> None:
    subscribed(world, HOOKED)
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [hook] = world.webhooks()
    assert hook["alert"]["type"] == "check.failed"
    [entry] = world.store.ledger(LedgerQuery(source="subscriptions:platform", limit=5))
    assert entry.actor.startswith("cli:")


def test_a_destination_no_channel_serves_is_reported_not_sent(world: World) -> None:
    subscribed(world, HOOKED)
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.details["unroutable"] == ["slack:#nowhere"]


def test_a_new_version_of_the_file_ends_the_routes_it_no_longer_holds(world: World) -> None:
    subscribed(world, HOOKED)
    subscribed(world, "version: 1\nname: platform\nsubscriptions: []\n")
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    assert world.webhooks() == []


def test_a_subscription_set_over_graphql_routes_and_names_its_setter(world: World) -> None:
    with running(create_app(world.store, api_token=TOKEN)) as url:
        body = graphql_call(url, SET, TOKEN)
        assert body["data"]["setAlertSubscription"] == {"name": "ops", "to": ["webhook:ops"]}
        listed = graphql_call(url, "{ alertSubscriptions { name mute } }", None)
        assert listed["data"]["alertSubscriptions"] == [{"name": "ops", "mute": False}]
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    assert len(world.webhooks()) == 1
    [entry] = world.store.ledger(LedgerQuery(source="subscriptions:api/ops", limit=5))
    assert entry.actor == "token:static"


def test_removing_an_unknown_subscription_is_not_found(world: World) -> None:
    with running(create_app(world.store, api_token=TOKEN)) as url:
        body = graphql_call(url, 'mutation { removeAlertSubscription(name: "nope") }', TOKEN)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_an_invalid_subscription_file_is_refused_naming_the_field(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nname: x\nsubscriptions:\n  - {name: a}\n", encoding="utf-8")
    result = baton(world.home, "ingest", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "$.subscriptions[0].to" in result.output
