"""`baton ledger ...`: browse entries (by entity, actor, source, time), show what one
changed (before/after), export the ledger as JSON Lines, and verify the chain (of the
store, or of an export alone, offline)."""

from __future__ import annotations

import sys
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape

from catalog.checkpoints import CheckpointLog, load_private_key, load_public_key, new_key_pair
from catalog.cli.common import (
    JSON_OPTION,
    err,
    ledger_app,
    opened,
    out,
    print_json,
    settings_of,
)
from catalog.errors import BatonError
from catalog.files import write_atomically
from catalog.ledger import LedgerEntry, Verification, verify_export
from catalog.services import audit
from catalog.stores.protocol import LedgerQuery


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as `ledger log --json` prints it: its fields and summary, not its changes
    (which are read only when used)."""
    shown = {f.name: getattr(entry, f.name) for f in fields(entry)}
    return {k: v for k, v in shown.items() if k not in ("changes", "counted")} | {
        "summary": entry.summary
    }


def _report(result: Verification, as_json: bool) -> None:
    if as_json:
        print_json(asdict(result))
    elif result.ok:
        out.print(f"ledger intact: {result.entries_checked} entries, head {result.head_hash}")
    elif result.first_bad_seq is None:
        err.print(f"[red]store differs from the ledger:[/red] {result.problem}")
    else:
        err.print(f"[red]ledger broken at entry {result.first_bad_seq}:[/red] {result.problem}")
    if not result.ok:
        raise typer.Exit(1)


@ledger_app.command("verify")
def ledger_verify(
    ctx: typer.Context,
    export_file: Path | None = typer.Option(
        None, "--export", help="Verify this export (JSON Lines) alone, without any store."
    ),
    deep: bool = typer.Option(
        False,
        "--deep",
        help="Also prove the graph: replay every entry and check the store "
        "holds exactly the assertions (and attributes) the ledger records.",
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        help="Also check the checkpoints this Ed25519 public key signed (in the export, or "
        "in the data directory): a deleted end or a rewritten chain then fails.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the hash chain; exit 1 naming the first altered, missing or moved entry
    (with --deep, or the first assertion the store holds differently from the ledger)."""
    key = _public_key(public_key)
    if export_file is not None:
        try:
            with export_file.open(encoding="utf-8") as lines:
                result = verify_export(lines, key)
        except (OSError, UnicodeDecodeError) as error:  # exit 1 would mean "tampered"
            err.print(f"[red]error:[/red] cannot read {export_file}: {error}")
            raise typer.Exit(2) from error
        _report(result, as_json)
        return
    with opened(ctx) as store:
        result = audit.verify_graph(store) if deep else audit.verify_ledger(store)
        if key is not None:
            log = CheckpointLog(settings_of(ctx).home)
            result = audit.verify_against_checkpoints(store, result, log, key)
    _report(result, as_json)


def _public_key(path: Path | None) -> Ed25519PublicKey | None:
    if path is None:
        return None
    try:
        return load_public_key(path)
    except BatonError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error


@ledger_app.command("keygen")
def ledger_keygen(
    private_key: Path = typer.Argument(
        ..., help="Where to write the private key (PEM); the public key goes beside it (.pub)."
    ),
) -> None:
    """Create the Ed25519 key pair that signs checkpoints. Keep the private key away from
    the store (another host or a secrets manager); give auditors the public key."""
    public_key = private_key.with_name(private_key.name + ".pub")
    if private_key.exists() or public_key.exists():
        err.print(f"[red]error:[/red] {private_key} or {public_key} exists; not overwritten")
        raise typer.Exit(2)
    private_pem, public_pem = new_key_pair()
    private_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(private_key, lambda sink: sink.write(private_pem.decode()), mode=0o600)
    write_atomically(public_key, lambda sink: sink.write(public_pem.decode()))
    out.print(f"private key {private_key} (keep it secret), public key {public_key}")


@ledger_app.command("checkpoint")
def ledger_checkpoint(
    ctx: typer.Context,
    key: Path = typer.Option(..., "--key", help="The Ed25519 private key (`ledger keygen`)."),
) -> None:
    """Sign the head of the (verified) ledger and append the checkpoint to the data
    directory's checkpoints.jsonl; the line is printed too, to publish elsewhere."""
    with opened(ctx) as store:
        signed = audit.checkpoint(
            store, load_private_key(key), CheckpointLog(settings_of(ctx).home)
        )
    sys.stdout.write(signed.line() + "\n")
    err.print(f"checkpoint of entry {signed.checkpoint.seq} signed")


@ledger_app.command("export")
def ledger_export(
    ctx: typer.Context,
    output: Path = typer.Argument(..., help="File to write (JSON Lines), or - for stdout."),
) -> None:
    """Export the whole ledger with its hash chain, for auditors: every line holds an
    entry's hashed content and hash, so `baton ledger verify --export` needs nothing else."""
    with opened(ctx) as store:
        log = CheckpointLog(settings_of(ctx).home)
        if str(output) == "-":
            count = audit.export(store, sys.stdout, log)
        else:
            count = write_atomically(output, lambda sink: audit.export(store, sink, log))
    err.print(f"exported {count} entries")


@ledger_app.command("log")
def ledger_log(
    ctx: typer.Context,
    entity: str | None = typer.Option(None, help="Only entries touching this dataset name."),
    namespace: str | None = typer.Option(None, help="Namespace of --entity, if ambiguous."),
    column: str | None = typer.Option(None, help="With --entity: only those touching a column."),
    owner: str | None = typer.Option(None, help="Only entries touching an owner (team:x)."),
    contract: str | None = typer.Option(None, help="Only entries touching ID@VERSION."),
    actor: str | None = typer.Option(None, help="Only entries by this actor."),
    source: str | None = typer.Option(None, help="Only entries written by this source."),
    since: datetime | None = typer.Option(None, help="Only entries at or after (ISO 8601)."),
    until: datetime | None = typer.Option(None, help="Only entries at or before (ISO 8601)."),
    first: int = typer.Option(50, help="How many entries."),
    before: int | None = typer.Option(None, help="Only entries before this sequence number."),
    oldest_first: bool = typer.Option(False, "--oldest-first", help="Oldest entries first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List ledger entries, newest first (`--before SEQ` pages back)."""
    with opened(ctx) as store:
        entity_key = audit.filter_entity(
            store, dataset=entity, namespace=namespace, column=column, owner=owner,
            contract=contract,
        )  # fmt: skip
        query = LedgerQuery(
            entity=entity_key, actor=actor, source=source, since=since, until=until,
            before_seq=before, newest_first=not oldest_first, limit=first,
        )  # fmt: skip
        entries, more = audit.ledger_page(store, query)
    if as_json:
        print_json([entry_json(e) for e in entries])
        return
    for entry in entries:  # two lines each: nothing cut at 80 columns
        changes = ", ".join(f"{n} {label}" for label, n in entry.summary.items())
        at = entry.at.strftime("%Y-%m-%d %H:%M:%S")
        out.print(f"{entry.seq}  {at}  {entry.actor}  {entry.reason}", highlight=False)
        out.print(f"    from {entry.source}: {changes}", highlight=False, soft_wrap=True)
    if more and not oldest_first:
        err.print(f"older entries follow: --before {entries[-1].seq}")
    elif more:
        err.print("newer entries follow: raise --first, or page with --since")


@ledger_app.command("show")
def ledger_show(
    ctx: typer.Context,
    seq: int = typer.Argument(..., help="The entry's sequence number."),
    first: int = typer.Option(1_000, help="At most this many changes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """What one entry changed: each assertion added, ended or changed, before and after."""
    with opened(ctx) as store:
        detail = audit.entry_detail(store, seq, first)
    if as_json:
        diffs = [
            {
                "op": d.op,
                "source": d.source,
                "kind": d.kind,
                "subject": str(d.subject),
                "object": str(d.object) if d.object else None,
                "changed_properties": d.changed_properties,
                "before": d.before,
                "after": d.after,
            }
            for d in detail.diffs
        ]
        print_json({**entry_json(detail.entry), "diffs": diffs, "truncated": detail.truncated})
        return
    entry = detail.entry
    out.print(f"#{entry.seq} {entry.at.isoformat()} {entry.actor}: {escape(entry.reason)}")
    for d in detail.diffs:
        target = f"{d.subject} -> {d.object}" if d.object else str(d.subject)
        out.print(escape(f"  {d.op:7} {d.kind:12} {target}  [{d.source}]"), highlight=False)
        for key in d.changed_properties:
            before, after = (d.before or {}).get(key), (d.after or {}).get(key)
            out.print(f"            {key}: {before!r} -> {after!r}", highlight=False)
    if detail.truncated:
        out.print(f"  ... more than {first} changes; use --first")
