"""`baton ingest ownership`, `baton owners`, `baton owned-by`, `baton unowned`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.markup import escape

from catalog.cli.common import (
    JSON_OPTION,
    actor,
    app,
    err,
    ingest_app,
    opened,
    out,
    print_json,
    print_written,
    written,
)
from catalog.domain import column_ref, owner_key, owner_named
from catalog.services import catalog, ownership
from catalog.services.ownership import Ownership

AS_OF_OPTION = typer.Option(
    None, "--as-of", help="Answer from what the catalog recorded then (ISO 8601 instant)."
)
AT_OPTION = typer.Option(None, "--at", help="Ownership on this day (YYYY-MM-DD; default today).")


@ingest_app.command("ownership")
def ingest_ownership(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="An ownership map (YAML, see docs/ownership.md)."),
    reason: str = typer.Option("ownership map", help="Why: recorded in the ledger."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Apply an ownership map to every dataset in the catalog.

    An invalid map exits 2 listing every problem and writes nothing. Conflicts (two rules
    equally specific) are listed; the later rule wins.
    """
    with opened(ctx, write=True) as store:
        try:
            result, conflicts = ownership.apply_map(store, path, actor=actor(), reason=reason)
        except ownership.InvalidMap as invalid:
            for error in invalid.errors:
                err.print(
                    f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
                )
            err.print(f"{len(invalid.errors)} problems; nothing was written")
            raise typer.Exit(2) from invalid
    if as_json:
        print_json({**written(result), "conflicts": [str(c) for c in conflicts]})
        return
    for conflict in conflicts:
        err.print(
            f"[yellow]conflict:[/yellow] {escape(str(conflict))}", highlight=False, soft_wrap=True
        )
    print_written(result)


def _day(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None


def _json(found: list[Ownership]) -> list[dict[str, object]]:
    return [
        {
            "owner": str(o.owner.ref),
            "role": o.role,
            "target": str(o.target),
            "inherited": o.inherited,
            "via": o.via,
            "source": o.source,
            "effective_from": o.effective_from,
            "effective_to": o.effective_to,
            "contact": {
                k: o.owner.attrs[k]
                for k in ("email", "slack", "pager", "runbook", "escalation")
                if k in o.owner.attrs
            },
        }
        for o in found
    ]


def _text(title: str, found: list[Ownership], targets: bool) -> str:
    """One block per ownership, its details indented below it: nothing is cut at 80
    columns. `targets`: name what is owned (an owner's holdings) instead of the owner."""
    lines = [title]
    for o in found:
        attrs = o.owner.attrs
        head = f"  {o.role:<9} {o.target if targets else owner_key(o.owner.ref)}"
        lines.append(head + (" (inherited from the dataset)" if o.inherited else ""))
        contact = attrs.get("pager") or attrs.get("email") or attrs.get("slack")
        details = {
            "contact": contact,
            "escalation": ", ".join(attrs.get("escalation") or []),
            "runbook": attrs.get("runbook"),
            "effective": " to ".join(d for d in (o.effective_from, o.effective_to) if d),
            "via": o.via or o.source,
        }
        lines += [f"            {k} {v}" for k, v in details.items() if v]
    if not found:
        lines.append("  nobody holds a role here")
    return "\n".join(lines)


@app.command("owners")
def show_owners(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset name."),
    namespace: str | None = typer.Option(None, help="Needed only when the name is ambiguous."),
    column: str | None = typer.Option(None, help="A column (inherits the dataset's owners)."),
    at: str | None = AT_OPTION,
    as_of: datetime | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Who owns a dataset or column, in each role, with how to reach them."""
    with opened(ctx) as store:
        dataset = catalog.resolve_dataset(store, name, namespace)
        target = column_ref(dataset.namespace, dataset.name, column) if column else dataset
        found = ownership.owners_of(store, target, _day(at), as_of)
    if as_json:
        print_json(_json(found))
    else:
        out.print(
            _text(f"owners of {target}", found, targets=False), highlight=False, soft_wrap=True
        )
        if not found and as_of is not None:
            err.print(
                f"(--as-of answers from what the catalog had recorded by {as_of.isoformat()}; "
                "--at DAY asks who owns it on a day, by the owners' effective dates)"
            )


@app.command("owned-by")
def show_owned_by(
    ctx: typer.Context,
    owner: str = typer.Argument(..., help="`team:<name>`, `person:<email>`, or an email."),
    at: str | None = AT_OPTION,
    as_of: datetime | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Everything an owner holds a role on."""
    with opened(ctx) as store:
        found = ownership.owned_by(store, owner_named(owner), _day(at), as_of)
    if as_json:
        print_json(_json(found))
    else:
        out.print(_text(f"held by {owner}", found, targets=True), highlight=False, soft_wrap=True)


@app.command("unowned")
def show_unowned(
    ctx: typer.Context,
    role: list[str] = typer.Option(["steward", "operator"], help="Roles every dataset needs."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Datasets with nobody in one of the roles (default: steward, operator). Exits 1 when any."""
    with opened(ctx) as store:
        missing = ownership.unowned(store, tuple(role), _day(at))
    if as_json:
        print_json([{"dataset": str(ref), "missing": roles} for ref, roles in missing])
    else:
        for ref, roles in missing:
            out.print(f"{escape(str(ref))}: no {', '.join(roles)}", highlight=False)
        if not missing:
            out.print("every dataset has " + ", ".join(role))
    if missing:
        raise typer.Exit(1)
