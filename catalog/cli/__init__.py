"""The `baton` command line: thin over the services, `--json` for scripts, rich for people."""

from __future__ import annotations

import json
import logging
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import Progress

from catalog import __version__ as VERSION
from catalog.checkpoints import CheckpointLog
from catalog.cli import alerts as _alert_commands  # noqa: F401  (registers them)
from catalog.cli import contracts as _contract_commands  # noqa: F401  (registers them)
from catalog.cli import freshness as _freshness_commands  # noqa: F401  (registers them)
from catalog.cli import handoffs as _handoff_commands  # noqa: F401  (registers them)
from catalog.cli import impact as _impact_commands  # noqa: F401  (registers them)
from catalog.cli import ledger as _ledger_commands  # noqa: F401  (registers them)
from catalog.cli import ownership as _ownership_commands  # noqa: F401  (registers them)
from catalog.cli.common import (
    JSON_OPTION,
    actor,
    app,
    checked_dialect,
    err,
    ingest_app,
    opened,
    out,
    print_json,
    print_written,
    schema_app,
    settings_of,
    sql_app,
    token_app,
    written,
)
from catalog.cli.ledger import entry_json
from catalog.config import Settings
from catalog.domain import NodeKind, NodeRef, column_ref, owner_key, owner_named
from catalog.errors import BatonError
from catalog.oidc import OidcVerifier
from catalog.security import Principal, Role, TokenStore
from catalog.services import alerting, catalog, ingestion, lineage, source_identity, suggestions
from catalog.stores import open_store
from catalog.stores.migrations import MigrationError
from catalog.stores.protocol import EdgeView, LedgerQuery, NodeView
from ingesters import dbt, sql
from ingesters.sql.names import Defaults, normalize_schema
from ingesters.sql.script import analyse_script


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"baton {VERSION}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None, "--home", help="Data directory (default: $BATON_HOME or ./.baton)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    try:
        ctx.obj = Settings.from_env(home)
    except BatonError as error:
        err.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from error
    # sqlglot warns on stderr about syntax it falls back on; Baton reports those itself.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)


@app.command()
def info(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Which store this command line uses (from --home, BATON_HOME, BATON_STORE), whether it
    exists, and its ledger head: the first thing to check when answers look empty."""
    settings = settings_of(ctx)
    where = settings.neo4j.uri if settings.store == "neo4j" and settings.neo4j else None
    facts: dict[str, object] = {
        "version": VERSION,
        "store": settings.store,
        "location": where or str(settings.database.resolve()),
        "exists": True if where else settings.database.exists(),
    }
    if facts["exists"]:
        with opened(ctx) as store:
            newest = store.ledger(LedgerQuery(newest_first=True, limit=1))
            head = newest[0] if newest else None
            facts |= {
                "ledger_entries": head.seq if head else 0,
                "ledger_head": head.hash if head else None,
                "last_write": head.at.isoformat() if head else None,
            }
    if as_json:
        print_json(facts)
        return
    for key, value in facts.items():
        out.print(f"{key}: {value}", highlight=False)


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the store's schema (also done at every start)."""
    try:
        store = open_store(settings_of(ctx), migrate=False)
        applied = store.migrate()
        moved = source_identity.migrate(store, actor=actor())
    except (MigrationError, BatonError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    store.close()
    out.print(f"applied {', '.join(applied)}" if applied else "schema is up to date")
    if moved is not None and moved.entry is not None:
        out.print(f"SQL sources renamed to project identities: ledger entry {moved.entry.seq}")


@ingest_app.command("sql")
def ingest_sql(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help=".sql files or folders (read recursively)."),
    dialect: str = typer.Option(
        "postgres", help="sqlglot dialect of the SQL.", callback=checked_dialect
    ),
    namespace: str | None = typer.Option(
        None, help="OpenLineage namespace of the warehouse (default: DIALECT://default)."
    ),
    job_namespace: str = typer.Option("baton.sql", help="Namespace of the SQL jobs."),
    default_database: str | None = typer.Option(None, help="Database of unqualified tables."),
    default_schema: str | None = typer.Option(None, help="Schema of unqualified tables."),
    reason: str = typer.Option("sql ingestion", help="Why: recorded in the ledger."),
    project: str | None = typer.Option(
        None,
        help="The project the files belong to (default: the folder's name). Files are "
        "known by project and path inside it, so any checkout is the same source.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Extract table- and column-level lineage from SQL files and write it. A folder is
    ingested whole: lineage of a file no longer in it is retired.

    Exits 1 when some statements had errors (the rest is still written), 0 otherwise.
    """
    options = sql.SqlOptions(
        dialect=dialect,
        namespace=namespace or sql.default_namespace(dialect),
        job_namespace=job_namespace,
        defaults=Defaults(database=default_database, schema=default_schema),
    )
    with (
        opened(ctx, write=True) as store,
        Progress(console=err, transient=True, disable=as_json) as bar,
    ):
        task = bar.add_task("analysing statements", total=None)
        result = ingestion.ingest_sql(
            store,
            paths,
            options,
            actor=actor(),
            reason=reason,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            project=project,
        )
    errors = [str(e) for e in result.errors]
    if as_json:
        print_json({**written(result), "statements": result.counts, "errors": errors})
    else:
        for message in errors:
            err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        seen = result.counts
        out.print(
            f"{seen.get('understood', 0)} of {seen.get('statements', 0)} statements understood"
        )
        print_written(result)
    if errors:
        raise typer.Exit(1)


@ingest_app.command("dbt")
def ingest_dbt(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ..., help="A dbt target/ folder, or a manifest.json (plain or gzipped)."
    ),
    catalog_file: Path | None = typer.Option(
        None, "--catalog", help="catalog.json (default: the one beside the manifest)."
    ),
    run_results: Path | None = typer.Option(
        None, help="run_results.json (default: the one beside the manifest)."
    ),
    semantic_manifest: Path | None = typer.Option(
        None, help="semantic_manifest.json (default: the one beside the manifest)."
    ),
    namespace: str | None = typer.Option(
        None, help="OpenLineage namespace of the warehouse (default: ADAPTER://default)."
    ),
    job_namespace: str = typer.Option("dbt", help="Namespace of dbt jobs, checks, consumers."),
    owner_role: str = typer.Option("steward", help="Role of dbt group and meta owners."),
    column_lineage: bool = typer.Option(
        True, help="Analyse compiled SQL for column lineage (--no-column-lineage: tables only)."
    ),
    reason: str = typer.Option("dbt ingestion", help="Why: recorded in the ledger."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Analyse the project even if the catalog holds it as ingested from the same "
        "artifacts, options and Baton version (by default that is skipped: it would "
        "change nothing).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ingest a dbt project's artifacts: models, sources, seeds, snapshots, lineage (table
    level from depends_on, column level from compiled SQL), owners, exposures, contracts,
    tests and their latest results.

    A bad artifact exits 2 and writes nothing. Models whose compiled SQL cannot be
    analysed keep their table lineage and are listed; they do not fail the command.
    """
    try:
        paths = _dbt_paths(path, catalog_file, run_results, semantic_manifest)
        options = dbt.DbtOptions(namespace, job_namespace, owner_role, column_lineage)
        with (
            opened(ctx, write=True) as store,
            Progress(console=err, transient=True, disable=as_json) as bar,
        ):
            task = bar.add_task("analysing models", total=None)
            result = ingestion.ingest_dbt(
                store,
                paths,
                options,
                actor=actor(),
                reason=reason,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                full=full,
            )
    except dbt.ArtifactError as error:
        err.print(
            f"[red]error:[/red] {escape(str(error))}; nothing was written",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from error
    skipped = [str(e) for e in result.errors]
    if as_json:
        print_json({**written(result), "counts": result.counts, "without_column_lineage": skipped})
        return
    for message in skipped:
        err.print(f"[yellow]table lineage only:[/yellow] {escape(message)}", highlight=False)
    seen = {**result.counts}
    if seen.pop("unchanged_project", 0):
        out.print(
            "project unchanged since it was last ingested (same artifacts, options and "
            "Baton version): not analysed again (--full to analyse it anyway); as read then:"
        )
    out.print(", ".join(f"{n} {label.replace('_', ' ')}" for label, n in sorted(seen.items())))
    print_written(result)


def _dbt_paths(
    path: Path, catalog_file: Path | None, run_results: Path | None, semantic: Path | None
) -> dbt.ArtifactPaths:
    """Artifacts named on the command line, else the ones beside the manifest."""
    found = dbt.ArtifactPaths.find(path)
    return dbt.ArtifactPaths(
        found.manifest,
        catalog_file or found.catalog,
        run_results or found.run_results,
        semantic or found.semantic_manifest,
    )


@ingest_app.command("openlineage")
def ingest_openlineage(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., help="Files of OpenLineage events: ndjson (file transport) or JSON."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ingest OpenLineage events from files, through the same path as the HTTP endpoint.

    Exits 1 when some events were invalid (each error names file, line and JSON path).
    """
    with opened(ctx, write=True) as store:
        read, results, errors = ingestion.ingest_openlineage_files(store, paths, actor=actor())
    changed = sum(1 for r in results if r.changed)
    messages = [str(e) for e in errors]
    if as_json:
        print_json(
            {"events": read, "written": len(results), "changed": changed, "errors": messages}
        )
    else:
        for message in messages:
            err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        out.print(f"{read} events read, {len(results)} valid, {changed} changed the catalog")
    if errors:
        raise typer.Exit(1)


@sql_app.command("lineage")
def sql_lineage(
    source: str = typer.Argument("-", help="A .sql file, or - for standard input."),
    dialect: str = typer.Option(
        "", help="sqlglot dialect (empty: generic SQL).", callback=checked_dialect
    ),
    schema: Path | None = typer.Option(
        None, help='JSON file mapping table name to {column: type}, e.g. {"db.t": {"id": "int"}}.'
    ),
    default_database: str | None = typer.Option(None, help="Database of unqualified tables."),
    default_schema: str | None = typer.Option(None, help="Schema of unqualified tables."),
) -> None:
    """Print the table and column lineage of SQL as JSON (in_tables, out_tables,
    column_lineage with kind and subtype, errors). Exits 1 when it understood none of
    the statements, as `ingest sql` does when some were not understood."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        tables = json.loads(schema.read_text(encoding="utf-8")) if schema else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    defaults = Defaults(database=default_database, schema=default_schema)
    result = analyse_script(text, dialect, normalize_schema(tables, dialect, defaults), defaults)
    answer = result.as_json()
    print_json(answer)
    if answer["statements"] and not answer["understood"]:
        raise typer.Exit(1)


@app.command("lineage")
def show_lineage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset name, e.g. analytics.marts.fct_orders."),
    namespace: str | None = typer.Option(None, help="Needed only when the name is ambiguous."),
    column: str | None = typer.Option(None, help="Follow one column instead of the dataset."),
    direction: lineage.LineageDirection = typer.Option(lineage.LineageDirection.BOTH),
    depth: int = typer.Option(3, help="Hops to follow each way."),
    as_of: datetime | None = typer.Option(None, help="Show the graph as it was then (ISO 8601)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what a dataset (or column) derives from and what derives from it."""
    with opened(ctx) as store:
        dataset = catalog.resolve_dataset(store, name, namespace)
        root: NodeRef = column_ref(dataset.namespace, dataset.name, column) if column else dataset
        result = lineage.lineage(store, root, direction=direction, depth=depth, as_of=as_of)
    if as_json:
        print_json(
            {
                "root": str(result.root),
                "truncated": result.truncated,
                "nodes": [{"node": str(n.node.ref), "depth": n.depth} for n in result.nodes],
                "edges": [
                    {
                        "from": str(e.subject),
                        "to": str(e.object),
                        "kind": e.kind,
                        "source": e.source,
                        **_readable(e.attrs),
                    }
                    for e in result.edges
                ],
            }
        )
        return
    out.print(lineage_text(result), highlight=False, soft_wrap=True)
    if result.truncated:
        err.print("[yellow]truncated:[/yellow] the node limit was reached")


def _readable(attrs: dict[str, Any]) -> dict[str, Any]:
    """Edge attributes for people and scripts: the job as its name, not its JSON key."""
    job = attrs.get("job")
    return {**attrs, "job": str(NodeRef.from_key(job))} if isinstance(job, str) else attrs


def _short(ref: NodeRef, namespace: str) -> str:
    """A node's name without `namespace`, said once elsewhere; others in full."""
    name = ref.name + (f".{ref.column}" if ref.column else "")
    return name if ref.namespace == namespace else str(ref)


def lineage_text(result: lineage.LineageResult) -> str:
    """Which node feeds which, nearest first, names without the root's namespace (said
    once in the header) so none is cut at 80 columns."""
    namespace = result.root.namespace
    depth_of = {n.node.ref.key: n.depth for n in result.nodes}

    def short(ref: NodeRef) -> str:
        return _short(ref, namespace)

    def line(edge: EdgeView) -> str:
        how = edge.attrs.get("transformation") or edge.attrs.get("subtype")
        kind = edge.kind.lower() + (f", {str(how).lower()}" if how else "")
        return f"  {short(edge.subject)} -> {short(edge.object)}  ({kind})"

    lines = [f"lineage of {short(result.root)}  in {namespace}"]
    sides = [
        ("upstream (what it derives from)",
         [e for e in result.edges if depth_of.get(e.object.key, 0) <= 0]),
        ("downstream (what derives from it)",
         [e for e in result.edges if depth_of.get(e.subject.key, 0) >= 0]),
    ]  # fmt: skip
    for title, edges in sides:
        if edges:
            edges.sort(key=lambda e: (abs(depth_of.get(e.subject.key, 0)), short(e.subject)))
            lines += [title + ":", *(line(e) for e in edges)]
    if len(lines) == 1:
        lines.append("  nothing feeds it and it feeds nothing (within the depth asked)")
    return "\n".join(lines)


@app.command("search")
def search(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Words of a name, description or tag."),
    kind: NodeKind | None = typer.Option(None, help="Only this kind (DATASET, COLUMN, ...)."),
    namespace: str | None = typer.Option(None, help="Only this namespace."),
    owner: str | None = typer.Option(None, help="Only what this owner (team:x) holds."),
    limit: int = typer.Option(20, help="Most results (up to 100)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find anything in the catalog by any part of its name (`fct_orders` finds
    analytics.marts.fct_orders), its description or tags; exact names first."""
    with opened(ctx) as store:
        found = catalog.search(
            store, text, kind=kind, namespace=namespace, owner=owner, limit=limit
        )
        near = [] if found else suggestions.near_nodes(store, kind or NodeKind.DATASET, text)
    if as_json:
        print_json([{"kind": v.ref.kind.value, "id": str(v.ref), **_described(v)} for v in found])
        return
    for view in found:
        described = _described(view).get("description")
        line = f"{view.ref.kind.value.lower():<9} {view.ref}"
        out.print(line + (f"  ({described})" if described else ""), highlight=False, soft_wrap=True)
    if not found:
        err.print(str(suggestions.not_found(f"nothing in the catalog matches {text!r}", near)))
        raise typer.Exit(1)


def _described(view: NodeView) -> dict[str, Any]:
    return {k: view.attrs[k] for k in ("description", "tags") if view.attrs.get(k)}


@app.command("history")
def show_history(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset name."),
    namespace: str | None = typer.Option(None, help="Needed only when the name is ambiguous."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every edge that ever touched a dataset, with when it began and ended, and who wrote it."""
    with opened(ctx) as store:
        dataset = catalog.resolve_dataset(store, name, namespace)
        found = catalog.history(store, dataset)
    if as_json:
        print_json(
            {
                "entries": [entry_json(e) for e in found.entries],
                "edges": [
                    {
                        "kind": e.kind,
                        "from": str(e.subject),
                        "to": str(e.object),
                        "source": e.source,
                        "valid_from": e.valid_from,
                        "valid_to": e.valid_to,
                    }
                    for e in found.edges
                ],
            }
        )
        return
    lines = [f"history of {_short(dataset, dataset.namespace)}  in {dataset.namespace}"]
    for edge in found.edges:  # two lines each: nothing cut at 80 columns
        began = edge.valid_from.strftime("%Y-%m-%d %H:%M:%S")
        ended = edge.valid_to.strftime("%Y-%m-%d %H:%M:%S") if edge.valid_to else "now"
        subject, obj = (
            _short(edge.subject, dataset.namespace),
            _short(edge.object, dataset.namespace),
        )
        lines += [
            f"  {edge.kind} {subject} -> {obj}",
            f"      {began} to {ended}, from {edge.source}",
        ]
    out.print("\n".join(lines), highlight=False, soft_wrap=True)


@schema_app.command("export")
def schema_export(
    output: Path = typer.Option(Path("graphql/schema.graphql"), help="Where to write the SDL."),
    check: bool = typer.Option(False, help="Fail if the file differs instead of writing it."),
) -> None:
    """Write the GraphQL schema (SDL) to a file, or check that the file is current."""
    from catalog.api.sdl import schema_sdl

    sdl = schema_sdl()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != sdl:
            err.print(f"[red]{output} is out of date:[/red] run `baton schema export`")
            raise typer.Exit(1)
        out.print(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl, encoding="utf-8")
    out.print(f"wrote {output}")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    anonymous_read: bool = typer.Option(
        False, help="Let callers without a token read (always so on loopback)."
    ),
    introspection: bool | None = typer.Option(
        None, help="Serve GraphQL introspection (default: on loopback only)."
    ),
    alerts: bool = typer.Option(
        True,
        help="Raise and deliver alerts here (off: another process runs `baton alerts "
        "deliver`; writes still record their alert events).",
    ),
) -> None:
    """Serve the console (/), the GraphQL API (GraphiQL at /graphql), the REST API
    (described at /docs) and health probes.

    On loopback, callers without a token may read everything; bound elsewhere they may do
    nothing unless --anonymous-read (read-only, no ledger), and people sign in to the
    console with a token or the OIDC provider. Writes always need a token.
    """
    import uvicorn  # the server's stack is imported by the command that serves

    from catalog.api import auth
    from catalog.api.app import create_app
    from catalog.api.edge import JsonLines
    from catalog.services.chain_watch import ChainWatch, HashedInChild

    settings = settings_of(ctx)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logging.getLogger("baton").addHandler(handler)
    logging.getLogger("baton").setLevel(logging.INFO)
    with opened(
        ctx, write=True, serving=True
    ) as store:  # (a configuration error here is reported like any other)
        gate = auth.Gate(
            static_token=settings.api_token,
            tokens=TokenStore(settings.home),
            anonymous=_anonymous(host, anonymous_read),
            oidc=OidcVerifier(settings.oidc) if settings.oidc else None,
        )
        listener = _listening(host, port)  # a busy port fails here, before any claim
        out.print(f"Baton serving GraphQL at http://{host}:{port}/graphql ({settings.database})")
        loopback = gate.anonymous is auth.LOCAL_ANONYMOUS
        hashing = HashedInChild(settings)
        app = create_app(
            store,
            gate=gate,
            introspection=loopback if introspection is None else introspection,
            checkpoints=CheckpointLog(settings.home),
            chain=ChainWatch(store, verify_whole=hashing),
        )
        # Baton logs each request itself (structured, with a request id, without tokens).
        # Operations run in worker threads; a short GIL switch interval lets the event loop
        # take its turn promptly while they compute (bench/openlineage_ingest.py: p99 of a
        # GraphQL read during event ingestion 90 -> 24 ms, events/s +15%).
        sys.setswitchinterval(0.0005)
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        alert_worker = alerting.worker(store, settings) if alerts and store.alert_queue() else None
        if alert_worker is not None:
            alert_worker.start()
            routed = settings.alerts or "nothing (no BATON_ALERTS: alerts are kept, not sent)"
            out.print(f"Baton raising alerts; delivering them as {routed} says")
        try:
            uvicorn.Server(config).run(sockets=[listener])
        finally:
            if alert_worker is not None:
                alert_worker.stop()
            hashing.close()


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`; `OSError` naming both when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror}") from None
    return listener


def _anonymous(host: str, allow_read: bool) -> Principal:
    from catalog.api import auth

    if host in ("127.0.0.1", "::1", "localhost"):
        return auth.LOCAL_ANONYMOUS
    return auth.READ_ONLY_ANONYMOUS if allow_read else auth.NOBODY


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who or what the token is for."),
    role: list[Role] = typer.Option(..., help="Role(s): reader, editor, approver, admin, auditor."),
    owner: str | None = typer.Option(
        None, help="The person or team the token acts as when signing off, e.g. person:ana@x.io."
    ),
) -> None:
    """Create an API token; its secret is printed once and never stored."""
    bound = owner_key(owner_named(owner)) if owner else None
    try:
        record, secret = TokenStore(settings_of(ctx).home).create(name, role, owner=bound)
    except BatonError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    err.print(f"token {record.id} for {name} ({', '.join(r.value for r in record.roles)}):")
    sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Tokens with their roles and state (never their secrets)."""
    records = TokenStore(settings_of(ctx).home).list()
    rows = [
        {"id": r.id, "name": r.name, "roles": [x.value for x in r.roles], "owner": r.owner,
         "created_at": r.created_at, "revoked_at": r.revoked_at}
        for r in records
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        out.print(f"{row['id']}  {row['name']}  {', '.join(row['roles'])}  {state}")  # type: ignore[arg-type]


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str = typer.Argument(..., help="Token id.")) -> None:
    """Revoke a token: it stops working at once."""
    try:
        record = TokenStore(settings_of(ctx).home).revoke(token_id)
    except BatonError as error:
        err.print(f"error: {error}")
        raise typer.Exit(2) from error
    out.print(f"revoked {record.id} ({record.name})")


def main() -> None:
    """`baton`: a file that cannot be read or written is the user's to fix, so it is one
    line and exit 2, not a traceback (Baton's own failures still show theirs)."""
    try:
        app()
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        reason = f"{error.strerror}{where}" if error.strerror else str(error)
        err.print(f"[red]error:[/red] {escape(reason)}")
        raise SystemExit(2) from None


__all__ = ["app", "main"]
