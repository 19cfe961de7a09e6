"""Which writes raise which events (pure), and that they land with the write or not at all."""

from __future__ import annotations

import sqlite3

import pytest

from catalog.alerts.events import AlertEvent, EventType, derive
from catalog.domain import (
    Batch,
    EdgeKind,
    NodeKind,
    NodeRef,
    SnapshotBuilder,
    dataset_ref,
    job_ref,
    owner_named,
)
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import run_sql

CHECK = NodeRef(kind=NodeKind.CHECK, namespace="dbt", name="test.shop.unique_orders_id.1a")
JOB = job_ref("airflow", "shop.load_orders")
ORDERS = dataset_ref("postgres://wh", "shop.orders")


def events_of(builder: SnapshotBuilder) -> list[AlertEvent]:
    snapshot = builder.build()
    return derive([(snapshot.source, a) for a in snapshot.assertions], [])


def check_result(status: str, source: str = "dbt:run:1", **attrs: object) -> SnapshotBuilder:
    builder = SnapshotBuilder(source)
    builder.node(CHECK, status=status, **attrs)
    return builder


@pytest.mark.parametrize(("status", "severity"), [("fail", "error"), ("error", "error"),
                                                  ("warn", "warning")])  # fmt: skip
def test_a_failing_check_outcome_raises_check_failed_with_its_severity(
    status: str, severity: str
) -> None:
    [event] = events_of(check_result(status, failures=3))
    assert event.type is EventType.CHECK_FAILED
    assert event.subject == CHECK
    assert event.attrs["severity"] == severity
    assert event.attrs["failures"] == 3


@pytest.mark.parametrize("status", ["pass", "success"])
def test_a_passing_check_outcome_raises_check_passed(status: str) -> None:
    [event] = events_of(check_result(status))
    assert event.type is EventType.CHECK_PASSED


def test_a_skipped_check_says_nothing() -> None:
    assert events_of(check_result("skipped")) == []


def test_an_openlineage_fail_event_raises_run_failed_about_its_job() -> None:
    builder = SnapshotBuilder("openlineage:run:r1:FAIL:2026-11-30T00:00:00Z")
    run = NodeRef(kind=NodeKind.RUN, namespace=JOB.namespace, name="r1")
    builder.node(run, fail_at="2026-11-30T00:00:00Z", error_message="disk full")
    builder.edge(EdgeKind.HAS_RUN, builder.node(JOB), run)
    [event] = events_of(builder)
    assert event.type is EventType.RUN_FAILED
    assert event.subject == JOB
    assert event.attrs == {"run": "r1", "at": "2026-11-30T00:00:00Z", "message": "disk full"}


def test_a_run_that_only_started_says_nothing() -> None:
    builder = SnapshotBuilder("openlineage:run:r1:START:2026-11-30T00:00:00Z")
    run = NodeRef(kind=NodeKind.RUN, namespace=JOB.namespace, name="r1")
    builder.node(run, start_at="2026-11-30T00:00:00Z")
    builder.edge(EdgeKind.HAS_RUN, builder.node(JOB), run)
    assert events_of(builder) == []


def test_a_dbt_model_that_errored_raises_run_failed() -> None:
    builder = SnapshotBuilder("dbt:run:1")
    model = job_ref("dbt", "model.shop.orders")
    builder.node(model, last_run_status="error", last_run_message="relation missing")
    [event] = events_of(builder)
    assert (event.type, event.subject, event.attrs["message"]) == (
        EventType.RUN_FAILED, model, "relation missing",
    )  # fmt: skip


def test_ownership_assigned_in_a_write_is_one_notice_per_owner_listing_the_assets() -> None:
    builder = SnapshotBuilder("ownership-map:shop")
    ops = builder.node(owner_named("team:ops"))
    payments = dataset_ref("postgres://wh", "shop.payments")
    builder.owns(ops, builder.node(ORDERS), "operator")
    builder.owns(ops, builder.node(payments), "steward")
    [assigned] = events_of(builder)
    assert (assigned.type, assigned.subject) == (EventType.OWNERSHIP_CHANGED, ops)
    assert assigned.attrs == {"change": "assigned", "roles": ["operator", "steward"],
                              "count": 2, "assets": sorted([ORDERS.key, payments.key])}  # fmt: skip


def test_ownership_ended_is_a_notice_to_the_former_owner() -> None:
    identity = (EdgeKind.OWNS.value, owner_named("team:ops").key, ORDERS.key)
    [ended] = derive([], [("ownership-map:shop", identity)])
    assert (ended.subject, ended.attrs["change"]) == (owner_named("team:ops"), "ended")


def outbox(store: EmbeddedStore) -> list[tuple[int, str]]:
    return [(e.seq, e.event.type.value) for e in store.alert_queue().pending_events(100)]


def failing_check_batch(invocation: str) -> Batch:
    builder = check_result("fail", f"dbt:run:{invocation}", failures=1)
    return Batch(snapshots=[builder.build()])


def test_a_write_puts_its_events_in_the_outbox_under_its_ledger_entry(
    embedded: EmbeddedStore,
) -> None:
    result = write_batch(embedded, failing_check_batch("i1"), WriteRequest("t", "dbt", "r"))
    assert outbox(embedded) == [(result.ledger_seq, "check.failed")]


def test_a_write_that_changes_nothing_raises_nothing(embedded: EmbeddedStore) -> None:
    write_batch(embedded, failing_check_batch("i1"), WriteRequest("t", "dbt", "r"))
    write_batch(embedded, failing_check_batch("i1"), WriteRequest("t", "dbt", "r"))
    assert len(outbox(embedded)) == 1


def test_a_write_that_rolls_back_raises_nothing(embedded: EmbeddedStore) -> None:
    run_sql(
        embedded.path,
        "CREATE TRIGGER fail_outbox BEFORE INSERT ON alert_outbox"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        write_batch(embedded, failing_check_batch("i1"), WriteRequest("t", "dbt", "r"))
    run_sql(embedded.path, "DROP TRIGGER fail_outbox")
    assert list(embedded.ledger_entries()) == []
    assert outbox(embedded) == []
