"""`baton alerts ...`: what was raised, whom it reached, and acting on it.

Alerts are raised without any configuration; `BATON_ALERTS` says where they are sent.
`baton serve` raises and delivers by itself; `deliver` is one pass (cron, a server that
is down).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from catalog.alerts.lifecycle import acknowledge, iso
from catalog.alerts.model import Alert, Delivery, Silence
from catalog.cli.common import (
    JSON_OPTION,
    actor,
    alerts_app,
    ingest_app,
    opened,
    out,
    print_json,
    print_written,
    settings_of,
    written,
)
from catalog.durations import seconds
from catalog.services import alerting, subscriptions


def _say(text: str) -> None:
    """A line of user data, printed as it is (no markup, no highlighting, no wrapping)."""
    out.print(escape(text), highlight=False, soft_wrap=True)


def alert_json(alert: Alert) -> dict[str, Any]:
    return asdict(alert) | {"status": alert.status.value}


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    found = asdict(delivery) | {"action": delivery.action.value, "status": delivery.status.value}
    found.pop("message")
    return found


def _line(alert: Alert) -> str:
    ack = f" acked by {alert.acked_by}" if alert.acked_by else ""
    silenced = " (silenced)" if alert.silenced_by else ""
    return (
        f"{alert.id:>5}  {alert.status.value:<8} {alert.severity:<7} {alert.summary}"
        f"  [{alert.occurrences}x, since {alert.opened_at}{ack}{silenced}]"
    )


@ingest_app.command("subscriptions")
def ingest_subscriptions(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A subscriptions file (YAML, see docs/alerts.md)."),
    reason: str = typer.Option("alert subscriptions", help="Why: recorded in the ledger."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Alert routes besides the owners' (or mutes), kept in the graph: a new version of
    the file replaces the old one's, with history."""
    with opened(ctx, write=True) as store:
        result = subscriptions.ingest(store, path, actor=actor(), reason=reason)
    if as_json:
        print_json(written(result))
        return
    print_written(result)


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="firing, resolved or notice."),
    dead: bool = typer.Option(False, "--dead", help="List dead-lettered deliveries instead."),
    before: int | None = typer.Option(None, help="Only alerts with a smaller id (paging)."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Alerts newest first (or, with --dead, deliveries that ran out of attempts)."""
    if status is not None and status not in ("firing", "resolved", "notice"):
        raise typer.BadParameter(f"unknown status {status!r}: firing, resolved or notice")
    with opened(ctx) as store:
        queue = alerting.queue_of(store)
        if dead:
            found = queue.deliveries(status="dead", limit=limit)
            if as_json:
                print_json([delivery_json(d) for d in found])
                return
            for d in found:
                _say(
                    f"{d.id:>5}  alert {d.alert_id}  {d.action.value} -> {d.destination}"
                    f"  {d.attempts} attempts: {d.last_error}"
                )
            return
        alerts = queue.alerts(status=status, before_id=before, limit=limit)
        if as_json:
            print_json([alert_json(a) for a in alerts])
            return
        if not alerts:
            out.print("no alerts" + (f" with status {status}" if status else ""))
        for alert in alerts:
            _say(_line(alert))


@alerts_app.command("show")
def alerts_show(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="The alert's id (`baton alerts list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One alert: what was seen, whom it was routed to, and every delivery attempt."""
    with opened(ctx) as store:
        queue = alerting.queue_of(store)
        alert = queue.alert(alert_id)
        if alert is None:
            out.print(f"no alert {alert_id}; `baton alerts list` shows them")
            raise typer.Exit(2)
        deliveries = queue.deliveries(alert_id=alert_id)
        if as_json:
            print_json(alert_json(alert) | {"deliveries": [delivery_json(d) for d in deliveries]})
            return
        _say(_line(alert))
        details = alert.details
        for asset in details.get("assets") or []:
            _say(f"  affected  {asset['ref']}  {asset['url']}")
        for r in details.get("recipients") or []:
            reach = ", ".join(r["destinations"]) or "no configured contact"
            _say(f"  owner     {r['owner']} ({r['role']}): {reach}")
        if details.get("unreachable", details.get("unowned")):
            fallback = ", ".join(details.get("destinations") or []) or "none configured"
            _say(f"  owner     nobody who owns it can be reached; fallback: {fallback}")
        _say(f"  observed  {details.get('observed')}")
        _say(f"  source    {details.get('source')} (ledger {alert.first_seq}..{alert.last_seq})")
        for d in reversed(deliveries):
            state = d.status.value + (f" at {d.delivered_at}" if d.delivered_at else "")
            error = f", last error: {d.last_error}" if d.last_error else ""
            tried = f"{d.attempts} attempts{error}"
            _say(f"  delivery  {d.action.value} -> {d.destination}: {state} ({tried})")


@alerts_app.command("ack")
def alerts_ack(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="The alert's id."),
) -> None:
    """Acknowledge a firing alert: escalation stops; pages and webhooks are told."""
    with opened(ctx) as store:
        alert = acknowledge(alerting.queue_of(store), alert_id, actor(), time.time())
        _say(f"alert {alert.id} acknowledged by {alert.acked_by}")


@alerts_app.command("silence")
def alerts_silence(
    ctx: typer.Context,
    match: str = typer.Option(..., help="Glob over affected assets as namespace/name."),
    events: str = typer.Option("*", help="Glob over event types, e.g. 'check.*'."),
    duration: str = typer.Option(..., "--for", help="How long: 90m, 4h, 2d."),
    reason: str = typer.Option(..., help="Why (shown with the silence)."),
) -> None:
    """Send nothing for matching alerts until the silence ends (they are still recorded)."""
    try:
        length = seconds(duration)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    now = time.time()
    with opened(ctx) as store:
        queue = alerting.queue_of(store)
        silence = Silence(events, match, now + length, actor(), reason, iso(now))
        silence_id = queue.add_silence(silence)
        _say(f"silence {silence_id}: {events} on {match} until {iso(now + length)}")


@alerts_app.command("silences")
def alerts_silences(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """The silences in force: what they mute, until when, who set them and why."""
    with opened(ctx) as store:
        found = alerting.queue_of(store).silences(time.time())
    if as_json:
        print_json([asdict(s) for s in found])
        return
    if not found:
        out.print("no silence in force")
    for s in found:
        _say(f"{s.id:>5}  {s.events} on {s.subjects} until {iso(s.ends_at)}: {s.reason}"
             f" ({s.created_by}, {s.created_at})")  # fmt: skip


@alerts_app.command("retry")
def alerts_retry(
    ctx: typer.Context,
    delivery_ids: list[int] = typer.Argument(..., help="Dead deliveries to try again."),
) -> None:
    """Make dead-lettered deliveries pending again (after fixing the receiver)."""
    with opened(ctx) as store:
        count = alerting.queue_of(store).retry(delivery_ids, time.time())
        out.print(f"{count} deliveries pending again")


@alerts_app.command("deliver")
def alerts_deliver(
    ctx: typer.Context,
    wait: float = typer.Option(
        0.0, help="Keep going this many seconds while deliveries are pending (retries)."
    ),
) -> None:
    """One pass: turn new events into alerts, escalate, send what is due."""
    with opened(ctx) as store:
        worker = alerting.worker(store, settings_of(ctx))
        deadline = time.monotonic() + wait
        done = worker.run_once()
        while time.monotonic() < deadline and worker.alerting.queue.backlog() != (0, 0):
            done += worker.run_once()
            time.sleep(0.2)
        events, pending = worker.alerting.queue.backlog()
        out.print(f"{done} steps; {events} events and {pending} deliveries still pending")
