"""Alerts end to end in one process: real dbt results in, real receivers out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.alerts.conftest import (
    FAILING_TEST,
    ORDERS,
    PAGER_KEY,
    SLACK_URL_PATH,
    STEWARDED_TEST,
    UNOWNED_TEST,
    Receiver,
    TlsMailbox,
    World,
    mail_text,
    make_world,
    verified,
)


def test_a_failing_dbt_test_reaches_the_datasets_operator_with_the_check_and_runbook(
    world: World,
) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [slack] = world.receiver.at(SLACK_URL_PATH)
    assert "not_null_orders_amount" in slack.json["text"]
    assert "3 failing rows" in slack.json["text"]
    assert "https://wiki.shop.example/runbooks/orders" in str(slack.json["blocks"])
    [mail] = world.mailbox.messages
    assert mail.rcpt_tos == ["ops@shop.example"]
    body = mail_text(mail)
    assert f"Affected: {ORDERS}.amount" in body
    assert "Runbook: https://wiki.shop.example/runbooks/orders" in body
    assert "http://baton.shop.example/datasets/" in body


def test_the_alert_pages_the_operators_on_call_with_a_dedup_key(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [page] = world.receiver.at("/pagerduty")
    assert page.json["routing_key"] == PAGER_KEY
    assert page.json["event_action"] == "trigger"
    assert page.json["payload"]["severity"] == "error"
    assert page.json["dedup_key"].startswith("baton-")


def test_a_repeat_failure_updates_the_alert_instead_of_sending_again(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    world.ingest({FAILING_TEST: 5}, "run-3")
    world.work()
    assert len(world.receiver.at(SLACK_URL_PATH)) == 1
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.occurrences == 2
    assert alert.details["observed"]["failures"] == 5


def test_the_checks_recovery_resolves_the_alert_everywhere_it_was_sent(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    world.ingest({}, "run-3")
    world.work()
    [alert] = world.alerting.queue.alerts(status="resolved")
    assert alert.type == "check.failed"
    pages = world.receiver.at("/pagerduty")
    assert [p.json["event_action"] for p in pages] == ["trigger", "resolve"]
    assert pages[0].json["dedup_key"] == pages[1].json["dedup_key"]
    assert world.receiver.at(SLACK_URL_PATH)[-1].json["text"].startswith("[RESOLVED]")
    assert len(world.mailbox.messages) == 2


def test_an_alert_on_an_asset_without_an_operator_goes_to_the_fallback_marked_unowned(
    world: World,
) -> None:
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    world.work()
    [hook] = world.webhooks()
    assert hook["unowned"] is True
    assert hook["action"] == "trigger"
    assert hook["alert"]["type"] == "check.failed"
    assert world.receiver.at(SLACK_URL_PATH) == []


def test_an_asset_without_an_operator_alerts_its_steward_instead(world: World) -> None:
    world.ingest({STEWARDED_TEST: 2}, "run-2")
    world.work()
    [mail] = world.mailbox.messages
    assert mail.rcpt_tos == ["analytics@shop.example"]
    assert "Owner: team:analytics (steward of" in mail_text(mail)
    assert world.webhooks() == []


def test_webhooks_are_signed_over_timestamp_and_body(world: World) -> None:
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    world.work()
    [request] = world.receiver.at("/hook")
    assert verified(request)
    assert request.headers["Idempotency-Key"] == request.json["idempotency_key"]


def test_an_unacknowledged_alert_escalates_after_the_delay(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    world.clock.now += 29 * 60
    world.work()
    assert [m.rcpt_tos for m in world.mailbox.messages] == [["ops@shop.example"]]
    world.clock.now += 2 * 60
    world.work()
    assert world.mailbox.messages[-1].rcpt_tos == ["lead@shop.example"]
    assert mail_text(world.mailbox.messages[-1]).startswith("[ESCALATED ERROR]")


def test_an_acknowledged_alert_does_not_escalate(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [alert] = world.alerting.queue.alerts(status="firing")
    assert alert.id is not None
    world.alerting.acknowledge(alert.id, "cli:ops")
    world.clock.now += 3600
    world.work()
    assert [m.rcpt_tos for m in world.mailbox.messages] == [["ops@shop.example"]]
    assert [p.json["event_action"] for p in world.receiver.at("/pagerduty")] == [
        "trigger", "acknowledge",
    ]  # fmt: skip


def test_a_receiver_that_is_down_for_a_while_gets_every_alert_once_it_is_back(
    world: World,
) -> None:
    world.receiver.fail = True
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    world.work()
    world.clock.now += 5
    world.work()
    assert world.webhooks() == []
    world.receiver.fail = False
    world.clock.now += 60
    world.work()
    assert len(world.webhooks()) == 1
    [delivery] = [d for d in world.alerting.queue.deliveries() if d.destination == "webhook:ops"]
    assert delivery.status.value == "delivered"
    assert delivery.attempts == 3


def test_a_delivery_that_runs_out_of_attempts_is_dead_lettered_and_can_be_retried(
    world: World,
) -> None:
    world.receiver.fail = True
    world.ingest({UNOWNED_TEST: 1}, "run-2")
    for _ in range(6):
        world.work()
        world.clock.now += 100
    [dead] = world.alerting.queue.deliveries(status="dead")
    assert dead.attempts == 4
    assert dead.last_error == "HTTP 503"
    world.receiver.fail = False
    assert dead.id is not None
    assert world.alerting.queue.retry([dead.id], world.clock.now) == 1
    world.work()
    assert len(world.webhooks()) == 1


def test_a_failed_run_upstream_is_named_as_a_suspect_of_a_failing_check(world: World) -> None:
    world.ingest({"model.jaffle_shop.stg_orders": 1}, "run-2")
    world.work()
    world.ingest({"model.jaffle_shop.stg_orders": 1, FAILING_TEST: 3}, "run-3")
    world.work()
    [check] = [a for a in world.alerting.queue.alerts(status="firing") if a.type == "check.failed"]
    suspects = check.details["upstream_suspects"]
    assert suspects[0]["type"] == "run.failed"
    assert "model.jaffle_shop.stg_orders failed: relation does not exist" in suspects[0]["summary"]


def test_jobs_upstream_that_changed_recently_are_named_as_suspects(world: World) -> None:
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [check] = world.alerting.queue.alerts(status="firing")
    changed = [s for s in check.details["upstream_suspects"] if s["type"] == "job.changed"]
    assert any("model.jaffle_shop.stg_orders changed in ledger entry" in s["summary"]
               for s in changed)  # fmt: skip


def test_mail_goes_over_starttls_with_a_login(
    tmp_path: Path, receiver: Receiver, tls_mailbox: TlsMailbox, secrets_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEST_SMTP_USER", "baton")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "smtp-secret")
    tls = (
        "    starttls: true\n    username_env: TEST_SMTP_USER\n"
        f"    password_env: TEST_SMTP_PASSWORD\n    ca_file: {tls_mailbox.ca_file}\n"
    )
    world = make_world(tmp_path, receiver, tls_mailbox, email_extra=tls)
    world.ingest({FAILING_TEST: 3}, "run-2")
    world.work()
    [mail] = tls_mailbox.messages
    assert mail.rcpt_tos == ["ops@shop.example"]
    assert {login for login, _ in tls_mailbox.logins} == {"baton"}  # one per mail sent
    world.store.close()
