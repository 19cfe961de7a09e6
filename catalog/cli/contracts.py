"""`baton ingest contracts` and `baton contract ...`: publish, diff, drift, versions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from catalog.cli.common import (
    JSON_OPTION,
    actor,
    contract_app,
    err,
    ingest_app,
    opened,
    out,
    print_json,
    print_written,
    written,
)
from catalog.compatibility import Change, diff
from catalog.contracts import ContractVersion
from catalog.services import contracts
from ingesters.contracts import read_contracts


def _read_or_exit(paths: list[Path]) -> list[ContractVersion]:
    versions, errors = read_contracts(paths)
    for error in errors:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    if errors:
        err.print(f"{len(errors)} problems; nothing was written")
        raise typer.Exit(2)
    return versions


@ingest_app.command("contracts")
def ingest_contracts(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="ODCS v3 YAML files, or folders of them."),
    reason: str = typer.Option("contract publication", help="Why: recorded in the ledger."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish contract versions (Open Data Contract Standard v3).

    All files are validated first; any invalid file, a changed published version, or a
    breaking change without a major version bump exits 2 listing every problem, and
    nothing is written.
    """
    versions = _read_or_exit(paths)
    with opened(ctx, write=True) as store:
        try:
            result = contracts.publish(store, versions, actor=actor(), reason=reason)
        except contracts.ContractRejected as rejected:
            for problem in rejected.problems:
                err.print(
                    f"[red]rejected:[/red] {escape(problem)}", highlight=False, soft_wrap=True
                )
            raise typer.Exit(2) from rejected
    published = [f"{v.contract_id} {v.version}" for v in versions]
    if as_json:
        print_json({"versions": published, **written(result)})
        return
    out.print(f"{len(published)} contract versions read: {', '.join(published)}")
    print_written(result)


def _version(ctx: typer.Context, contract_id: str, spec: str) -> ContractVersion:
    """A version from the catalog, or from a contract file when `spec` is a path."""
    if Path(spec).is_file():
        return _read_or_exit([Path(spec)])[0]
    with opened(ctx) as store:
        return contracts.version(store, contract_id, spec)


def _change_json(change: Change) -> dict[str, object]:
    return {
        "kind": change.kind.value,
        "subject": change.subject,
        "before": change.before,
        "after": change.after,
        "breaking": change.breaking,
        "reason": change.reason,
    }


@contract_app.command("diff")
def contract_diff(
    ctx: typer.Context,
    contract_id: str = typer.Argument(..., help="The contract's id."),
    old: str = typer.Argument(..., help="Old version number, or a contract file."),
    new: str = typer.Argument(..., help="New version number, or a contract file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every change between two versions, breaking or not, with the reason.

    Exits 1 when a change is breaking and the major version did not change, so it can
    gate a pull request that edits a contract file.
    """
    before, after = _version(ctx, contract_id, old), _version(ctx, contract_id, new)
    changes = diff(before, after)
    unbumped = any(c.breaking for c in changes) and after.semver[0] == before.semver[0]
    if as_json:
        print_json({"changes": [_change_json(c) for c in changes], "needs_major": unbumped})
    else:
        for change in changes:
            label = "[red]breaking[/red]" if change.breaking else "[green]compatible[/green]"
            out.print(f"{label} {escape(str(change))}", highlight=False)
        if not changes:
            out.print("no changes")
        if unbumped:
            err.print(f"breaking changes need a new major version (not {after.version})")
    if unbumped:
        raise typer.Exit(1)


@contract_app.command("drift")
def contract_drift(
    ctx: typer.Context,
    contract_id: str = typer.Argument(..., help="The contract's id."),
    version: str | None = typer.Option(None, help="Version (default: the latest)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Where the catalog's datasets differ from the contract. Exits 1 when they do."""
    with opened(ctx) as store:
        found = contracts.drift(store, contract_id, version)
    if as_json:
        print_json(
            [
                {
                    "kind": d.kind.value,
                    "dataset": str(d.dataset),
                    "column": d.column,
                    "contract_type": d.contract_type,
                    "catalog_type": d.catalog_type,
                }
                for d in found
            ]
        )
    else:
        for item in found:
            out.print(escape(str(item)), highlight=False)
        if not found:
            out.print("no drift")
    if found:
        raise typer.Exit(1)


@contract_app.command("versions")
def contract_versions(
    ctx: typer.Context,
    contract_id: str = typer.Argument(..., help="The contract's id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Published versions of a contract, oldest first."""
    with opened(ctx) as store:
        found = contracts.published(store, contract_id)
    if as_json:
        print_json([v.model_dump(mode="json") for v in found])
        return
    for v in found:
        datasets = ", ".join(str(d.ref) for d in v.datasets)
        out.print(f"{v.version}  {v.status}  {escape(datasets)}", highlight=False)
