"""What every `baton` command shares: the command groups, consoles, and opening the store."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from catalog.config import Settings
from catalog.errors import BatonError
from catalog.stores import open_store
from catalog.stores.migrations import MigrationError
from catalog.stores.protocol import Store
from catalog.write_path import WriteResult
from ingesters.sql.dialects import known_dialect, unknown_dialect


def _group(help_text: str) -> typer.Typer:
    # Plain help: flags without a `<bool>` value, and text that fits 80 columns.
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


app = _group("Baton: metadata catalog and lineage graph for data handoffs.")
ingest_app = _group("Ingest metadata from a source.")
ledger_app = _group("Browse and verify the audit ledger.")
schema_app = _group("The GraphQL schema.")
sql_app = _group("SQL lineage without touching the store.")
contract_app = _group("Data contracts: versions, diffs, drift.")
token_app = _group("API tokens: create, list, revoke.")
handoff_app = _group("Handoffs: create, evaluate, sign off, complete.")
alerts_app = _group("Alerts: list, show, acknowledge, silence, deliver.")
freshness_app = _group("Freshness SLAs: which datasets are written as often as promised.")
for name, group in [("ingest", ingest_app), ("ledger", ledger_app), ("schema", schema_app),
                    ("sql", sql_app), ("contract", contract_app), ("token", token_app),
                    ("handoff", handoff_app), ("alerts", alerts_app),
                    ("freshness", freshness_app)]:  # fmt: skip
    app.add_typer(group, name=name)

out = Console(emoji=False)  # user text such as `team:a:` is never turned into an emoji
err = Console(stderr=True, emoji=False, highlight=False, soft_wrap=True)
"""Errors are never wrapped inside a name (they are read, and grepped, whole)."""

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@contextmanager
def opened(ctx: typer.Context, *, write: bool = False, serving: bool = False) -> Iterator[Store]:
    """The configured store, migrated; service errors become a message and exit code 2.
    Only a command that writes creates a store that is not there: a read on a wrong
    `--home` is an error, not an empty answer. `serving`: for a long-running server."""
    try:
        store = open_store(settings_of(ctx), create=write, serving=serving)
    except (MigrationError, BatonError) as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    try:
        yield store
    except BatonError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    finally:
        store.close()


def written(result: WriteResult) -> dict[str, Any]:
    """What every ingest reports in `--json` about its write."""
    return {"changed": result.changed, "ledger_seq": result.ledger_seq, "summary": result.summary}


def print_written(result: WriteResult) -> None:
    """What every ingest says about its write: the ledger entry and what it changed."""
    if result.entry is None:
        out.print("no changes")
        return
    counts = ", ".join(f"{n} {label}" for label, n in result.summary.items())
    out.print(f"ledger entry {result.entry.seq}: {counts}", highlight=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def actor() -> str:
    """Local CLI writes are attributed to the operating-system user."""
    return f"cli:{getpass.getuser()}"


def checked_dialect(value: str) -> str:
    """A `--dialect` sqlglot knows, or a usage error naming it."""
    if not known_dialect(value):
        raise typer.BadParameter(unknown_dialect(value))
    return value
