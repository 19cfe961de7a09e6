"""The alerting configuration and the `baton alerts` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.alerts import settings as alert_settings
from catalog.errors import InvalidArgument
from tests.alerts.conftest import (
    FAILING_TEST,
    SLACK_URL_PATH,
    UNOWNED_TEST,
    Mailbox,
    Receiver,
    World,
    alerts_file,
    make_world,
)
from tests.conftest import baton


def test_a_destination_naming_no_configured_channel_is_an_error_naming_its_field(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox, secrets_env: dict[str, str]
) -> None:
    path = alerts_file(
        tmp_path, receiver, mailbox, "subscriptions:\n  - {name: x, to: [webhook:nope]}"
    )
    with pytest.raises(InvalidArgument, match=r"\$\.subscriptions\[0\]\.to\[0\].*webhook:nope"):
        alert_settings.load(path)


def test_a_channel_whose_secret_is_not_in_the_environment_is_an_error_naming_the_variable(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox
) -> None:
    with pytest.raises(InvalidArgument, match="TEST_WEBHOOK_SECRET is not set"):
        alert_settings.load(alerts_file(tmp_path, receiver, mailbox), environ={})


def test_secrets_never_appear_in_the_settings_repr(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox, secrets_env: dict[str, str]
) -> None:
    loaded = alert_settings.load(alerts_file(tmp_path, receiver, mailbox))
    assert secrets_env["TEST_WEBHOOK_SECRET"] not in repr(loaded)


def test_a_silenced_alert_is_recorded_but_sends_nothing(world: World) -> None:
    result = baton(world.home, "alerts", "silence", "--match", "*jaffle_shop.main.orders*",
                   "--events", "check.*", "--for", "2h", "--reason", "backfill")  # fmt: skip
    assert result.exit_code == 0, result.output
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.silenced_by is not None
    assert world.receiver.requests == [] and world.mailbox.messages == []


def test_alerts_silences_lists_those_in_force(world: World) -> None:
    silenced = baton(world.home, "alerts", "silence", "--match", "*orders*", "--for", "2h",
                     "--reason", "backfill")  # fmt: skip
    assert silenced.exit_code == 0, silenced.output
    listed = baton(world.home, "alerts", "silences")
    assert "* on *orders* until" in listed.output and "backfill" in listed.output


def test_a_subscription_adds_its_destinations_to_the_owners(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox, secrets_env: dict[str, str]
) -> None:
    extra = (
        "subscriptions:\n"
        "  - {name: platform, events: ['check.*'], match: '*orders*', to: [webhook:ops]}"
    )
    world = make_world(tmp_path, receiver, mailbox, extra)
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    assert len(world.receiver.at(SLACK_URL_PATH)) == 1
    [hook] = world.webhooks()
    assert hook["unowned"] is False
    world.store.close()


def test_a_mute_subscription_takes_its_destinations_away(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox, secrets_env: dict[str, str]
) -> None:
    extra = (
        "subscriptions:\n"
        "  - {name: no pages for orders, mute: true, match: '*orders*', to: ['pagerduty:*']}"
    )
    world = make_world(tmp_path, receiver, mailbox, extra)
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    assert world.receiver.at("/pagerduty") == []
    assert len(world.receiver.at(SLACK_URL_PATH)) == 1
    world.store.close()


def test_alerts_list_and_show_tell_what_was_raised_and_whom_it_reached(world: World) -> None:
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    world.work()
    listed = baton(world.home, "alerts", "list", "--status", "firing")
    assert "not_null_stg_customers_customer_id failed" in listed.output
    [alert] = json.loads(baton(world.home, "alerts", "list", "--status", "firing", "--json").output)
    shown = baton(world.home, "alerts", "show", str(alert["id"]))
    assert "trigger -> webhook:ops: delivered" in shown.output
    assert "nobody who owns it can be reached; fallback: webhook:ops" in shown.output


def test_alerts_ack_stops_escalation(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    acked = baton(world.home, "alerts", "ack", str(alert.id))
    assert acked.exit_code == 0, acked.output
    [after] = world.alerting.queue.alerts(status="firing")
    assert after.acked_by is not None and after.escalate_at is None


def test_acknowledging_an_unknown_alert_is_an_error(world: World) -> None:
    result = baton(world.home, "alerts", "ack", "999")
    assert result.exit_code == 2
    assert "no alert 999" in result.output


def test_alerts_deliver_runs_one_pass(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    monkeypatch.setenv("BATON_ALERTS", str(world.tmp / "alerts.yaml"))
    result = baton(world.home, "alerts", "deliver")
    assert result.exit_code == 0, result.output
    assert "0 events and 0 deliveries still pending" in result.output
    assert len(world.webhooks()) == 1
