"""`baton impact`: what a change breaks downstream, as text, Markdown (a PR comment) or JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from enum import StrEnum
from pathlib import Path

import typer

from catalog.cli.common import app, checked_dialect, err, opened
from catalog.domain import NodeKind, NodeRef
from catalog.impact import ChangeKind, ImpactReport, Severity, markdown, text
from catalog.services import change_sets, impact
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store
from ingesters import dbt
from ingesters.contracts import read_contracts
from ingesters.sql.names import Defaults


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


class FailOn(StrEnum):
    breaking = "breaking"
    risky = "risky"
    never = "never"


def _pair(spec: str, what: str) -> tuple[str, str]:
    target, sep, value = spec.partition("=")
    if not sep or not value:
        raise typer.BadParameter(f"expected TARGET=NEW_{what.upper()}, got {spec!r}")
    return target, value


def _requests(
    store: Store,
    namespace: str | None,
    drop_column: list[str],
    rename_column: list[str],
    retype_column: list[str],
    drop_dataset: list[str],
    rename_dataset: list[str],
    contract: Path | None,
    sql_versions: change_sets.SqlVersions | None,
    manifests: tuple[Path, Path] | None,
    *,
    resolve: bool = True,
) -> list[impact.ChangeRequest]:
    def target(spec: str, column: bool = False) -> NodeRef:
        if resolve:
            return impact.resolve_target(store, spec, namespace)
        if namespace is None:
            raise typer.BadParameter("--namespace is needed with --server")
        name, _, col = spec.rpartition(".") if column else (spec, "", "")
        if column:
            return NodeRef(kind=NodeKind.COLUMN, namespace=namespace, name=name, column=col)
        return NodeRef(kind=NodeKind.DATASET, namespace=namespace, name=name)

    requests = [impact.ChangeRequest(ChangeKind.DROP_COLUMN, target(s, True)) for s in drop_column]
    requests += [impact.ChangeRequest(ChangeKind.DROP_DATASET, target(s)) for s in drop_dataset]
    for spec in rename_column:
        name, new = _pair(spec, "name")
        requests.append(
            impact.ChangeRequest(ChangeKind.RENAME_COLUMN, target(name, True), new_name=new)
        )
    for spec in retype_column:
        name, new = _pair(spec, "type")
        requests.append(
            impact.ChangeRequest(ChangeKind.RETYPE_COLUMN, target(name, True), new_type=new)
        )
    for spec in rename_dataset:
        name, new = _pair(spec, "name")
        requests.append(impact.ChangeRequest(ChangeKind.RENAME_DATASET, target(name), new_name=new))
    if contract is not None and not resolve:
        raise typer.BadParameter("--contract needs the local catalog (not --server)")
    if contract is not None:
        versions, errors = read_contracts([contract])
        for error in errors:
            err.print(f"error: {error}", highlight=False, soft_wrap=True)
        if errors:
            raise typer.Exit(2)
        requests += change_sets.from_contract(store, versions[0])
    if sql_versions is not None:
        requests += change_sets.from_sql(store, sql_versions)
    if manifests is not None:
        options = dbt.DbtOptions(namespace=namespace)
        try:
            before, after = (dbt.read_artifacts(dbt.ArtifactPaths.find(m)) for m in manifests)
        except dbt.ArtifactError as error:
            err.print(f"error: {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from error
        requests += change_sets.from_manifests(store, before, after, options)
    return requests


@app.command("impact")
def show_impact(
    ctx: typer.Context,
    drop_column: list[str] = typer.Option([], help="DATASET.COLUMN to drop (repeatable)."),
    rename_column: list[str] = typer.Option([], help="DATASET.COLUMN=NEW_NAME."),
    retype_column: list[str] = typer.Option([], help="DATASET.COLUMN=NEW_TYPE."),
    drop_dataset: list[str] = typer.Option([], help="DATASET to drop."),
    rename_dataset: list[str] = typer.Option([], help="DATASET=NEW_NAME."),
    contract: Path | None = typer.Option(
        None, help="A proposed contract version (ODCS file): its shape changes vs the latest."
    ),
    old_sql: Path | None = typer.Option(None, help="The job's SQL before the change."),
    new_sql: Path | None = typer.Option(None, help="The job's SQL after the change."),
    target: str | None = typer.Option(
        None, help="The table a bare query writes (a dbt model's compiled SQL)."
    ),
    dialect: str = typer.Option(
        "postgres", help="sqlglot dialect of --old-sql/--new-sql.", callback=checked_dialect
    ),
    default_database: str | None = typer.Option(None, help="Database of unqualified tables."),
    default_schema: str | None = typer.Option(None, help="Schema of unqualified tables."),
    old_manifest: Path | None = typer.Option(
        None, help="dbt manifest (or target/) before the pull request."
    ),
    new_manifest: Path | None = typer.Option(
        None, help="dbt manifest (or target/) after the pull request."
    ),
    namespace: str | None = typer.Option(
        None, help="Warehouse namespace: for ambiguous names, SQL and manifests."
    ),
    depth: int = typer.Option(impact.DEFAULT_DEPTH, help=f"Hops (1 to {impact.MAX_DEPTH})."),
    limit: int = typer.Option(impact.DEFAULT_LIMIT, help=f"Most nodes (max {impact.MAX_LIMIT})."),
    output: Format = typer.Option(Format.text, "--format", help="text, markdown or json."),
    as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
    fail_on: FailOn = typer.Option(
        FailOn.never, help="Exit 1 when the severity is at least this (a CI gate)."
    ),
    server: str | None = typer.Option(
        None,
        help="A Baton server's URL: derive the change set here, analyse it there "
        "(explicit changes then need --namespace); the token in $BATON_TOKEN is sent.",
    ),
) -> None:
    """What a change breaks downstream, from explicit changes, a proposed contract version,
    old and new SQL of a job, or two dbt manifests (before and after a pull request):
    affected columns, datasets, jobs and consumers with the lineage path and evidence of
    each, owners to notify, contracts broken, sign-offs needed, and a severity (breaking,
    risky, safe)."""
    output = Format.json if as_json else output
    sql_versions = None
    if old_sql is not None and new_sql is not None:
        sql_versions = change_sets.SqlVersions(
            old_sql.read_text(encoding="utf-8"),
            new_sql.read_text(encoding="utf-8"),
            dialect,
            namespace or f"{dialect}://default",
            target=target,
            defaults=Defaults(default_database, default_schema),
        )
    manifests = (old_manifest, new_manifest) if old_manifest and new_manifest else None
    inputs = (drop_column, rename_column, retype_column, drop_dataset, rename_dataset, contract)
    if server is not None:
        with tempfile.TemporaryDirectory() as scratch:  # no catalog: derive changes only
            local = EmbeddedStore(Path(scratch) / "baton.db")
            local.migrate()
            requests = _requests(local, namespace, *inputs, sql_versions, manifests, resolve=False)
            local.close()
        _require(requests)
        severity = _remote(server, requests, depth, limit, output)
    else:
        with opened(ctx) as store:
            requests = _requests(store, namespace, *inputs, sql_versions, manifests)
            _require(requests)
            report = impact.analyse(store, requests, depth=depth, limit=limit)
        _print(report, output)
        severity = report.severity
    if _fails(severity, fail_on):
        raise typer.Exit(1)


def _require(requests: list[impact.ChangeRequest]) -> None:
    if not requests:
        err.print("nothing to analyse: name a change (see --help)")
        raise typer.Exit(2)


REMOTE_QUERY = """
query($changes: [ChangeInput!]!, $depth: Int!, $limit: Int!) {
  impact(changes: $changes, depth: $depth, limit: $limit) { severity text markdown report }
}
"""


def _remote(
    server: str, requests: list[impact.ChangeRequest], depth: int, limit: int, output: Format
) -> Severity:
    """Ask a Baton server's GraphQL `impact` and print its report."""
    changes = [
        {
            "kind": r.kind.value,
            "namespace": r.target.namespace,
            "name": r.target.name,
            "column": r.target.column,
            "newName": r.new_name,
            "newType": r.new_type,
        }
        for r in requests
    ]
    body = json.dumps(
        {"query": REMOTE_QUERY, "variables": {"changes": changes, "depth": depth, "limit": limit}}
    ).encode()
    url = server.rstrip("/") + "/graphql"
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("BATON_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, body, headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError) as error:
        err.print(f"error: {url}: {error}", highlight=False)
        raise typer.Exit(2) from error
    if answer.get("errors"):
        err.print(f"error: {answer['errors'][0].get('message')}", highlight=False)
        raise typer.Exit(2)
    found = answer["data"]["impact"]
    if output is Format.json:
        sys.stdout.write(json.dumps(found["report"], indent=2) + "\n")
    else:
        sys.stdout.write(found["markdown"] if output is Format.markdown else found["text"])
    return Severity(found["severity"])


def _print(report: ImpactReport, output: Format) -> None:
    if output is Format.json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2, default=str) + "\n")
    elif output is Format.markdown:
        sys.stdout.write(markdown(report))
    else:
        sys.stdout.write(text(report))


def _fails(severity: Severity, fail_on: FailOn) -> bool:
    if fail_on is FailOn.never:
        return False
    order = [Severity.SAFE, Severity.RISKY, Severity.BREAKING]
    return order.index(severity) >= order.index(Severity(fail_on.value))
