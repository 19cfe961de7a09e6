"""`baton freshness check`: every dataset with a freshness SLA, and whether it is kept.

For cron: exit 1 when a dataset is stale (also when one has no recorded write, with
`--strict`); the check also raises `freshness.breached` / `freshness.recovered` alerts,
which `baton serve` or `baton alerts deliver` then sends.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from catalog.cli.common import JSON_OPTION, freshness_app, opened, out, print_json
from catalog.services import alerting, freshness
from catalog.services.freshness import State

MARK = {
    State.STALE: "[red]STALE[/red]  ",
    State.UNKNOWN: "[yellow]UNKNOWN[/yellow]",
    State.FRESH: "[green]fresh[/green]  ",
}


@freshness_app.command("check")
def freshness_check(
    ctx: typer.Context,
    strict: bool = typer.Option(False, help="Count datasets with no recorded write as failing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Judge every freshness SLA now; exit 1 when one is broken."""
    with opened(ctx) as store:
        results = freshness.raise_alerts(store, alerting.queue_of(store))
    if as_json:
        print_json([
            {"dataset": str(r.dataset), "state": r.state.value, "sla_seconds": r.sla.within,
             "sla_source": r.sla.source, "last_written_at": r.last_written_at,
             "age_seconds": r.age}
            for r in results
        ])  # fmt: skip
    else:
        if not results:
            out.print("no dataset has a freshness SLA (contracts' slaProperties, ownership maps)")
        order = {State.STALE: 0, State.UNKNOWN: 1, State.FRESH: 2}
        for r in sorted(results, key=lambda r: (order[r.state], str(r.dataset))):
            out.print(f"{MARK[r.state]} {escape(str(r.dataset))}: {escape(r.detail())}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    failing = {State.STALE, State.UNKNOWN} if strict else {State.STALE}
    if any(r.state in failing for r in results):
        raise typer.Exit(1)
