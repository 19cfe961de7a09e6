"""`baton handoff ...`: create, show (evaluate), list, sign, complete.

Signing needs an API token (`--token` or `BATON_TOKEN`) created with `--owner`: the
sign-off is recorded for that token and the owner it acts as, never for the local user.
Creating and completing are local writes attributed to the operating-system user, like
every other CLI write.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from catalog.cli.common import (
    JSON_OPTION,
    actor,
    err,
    handoff_app,
    opened,
    out,
    print_json,
    settings_of,
)
from catalog.handoffs import Decision, Evaluation, Handoff, HandoffState, Move
from catalog.oidc import OidcVerifier
from catalog.security import Principal, Role, TokenStore
from catalog.services import catalog, handoffs
from ingesters.policies import read_policy

LOCAL_EDITOR = frozenset({Role.EDITOR})


def _local() -> Principal:
    return Principal(actor(), LOCAL_EDITOR)


def _print_evaluation(evaluation: Evaluation) -> None:
    handoff = evaluation.handoff
    gate = "[green]open[/green]" if evaluation.gate_open else "[red]closed[/red]"
    out.print(
        f"handoff {handoff.id} ({handoff.policy.name} v{handoff.policy.version}): "
        f"{handoff.move.value} {escape(handoff.from_)} -> {escape(handoff.to)}, "
        f"{handoff.state.value}; gate {gate}"
    )
    for criterion in evaluation.criteria:
        mark = "[green]pass[/green]" if criterion.passed else "[red]FAIL[/red]"
        out.print(f"  {mark} {criterion.name}")
        for line in criterion.evidence:
            out.print(f"       {escape(line)}", highlight=False, soft_wrap=True)
    for status in evaluation.signoffs:
        who = ""
        if status.latest:
            who = f" by {status.latest.signer} as {status.latest.acting_as}"
        changed = f" ({', '.join(status.changed)} changed)" if status.changed else ""
        line = f"  sign-off {status.spec.name} ({status.spec.role}): {status.state.value}"
        out.print(escape(line + who + changed), highlight=False, soft_wrap=True)
    out.print(f"  impact: {evaluation.impact.rule}")


def _summary(handoff: Handoff) -> str:
    product = ", ".join(str(d) for d in handoff.datasets)
    return (
        f"{handoff.id}  {handoff.state.value}  {handoff.move.value} {handoff.from_} -> "
        f"{handoff.to}  {handoff.policy.name} v{handoff.policy.version}  {product}"
    )


@handoff_app.command("create")
def create(
    ctx: typer.Context,
    policy_file: Path = typer.Option(..., "--policy", help="The policy YAML file."),
    datasets: list[str] = typer.Argument(..., help="The product's datasets, by name."),
    namespace: str | None = typer.Option(None, help="Namespace of the datasets."),
    from_stage: str | None = typer.Option(None, help="Stage move: the stage it leaves."),
    to_stage: str | None = typer.Option(None, help="Stage move: the stage it reaches."),
    from_owner: str | None = typer.Option(None, help="Owner move: e.g. team:analytics."),
    to_owner: str | None = typer.Option(None, help="Owner move: e.g. team:finance-data."),
    role: list[str] = typer.Option([], help="Owner move: roles to hand over (default all)."),
    handoff_id: str | None = typer.Option(None, "--id", help="An id (default generated)."),
    reason: str = typer.Option("handoff", help="Why: recorded in the ledger."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a handoff of a product (datasets) under a policy."""
    policy, errors = read_policy(policy_file)
    for error in errors:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    if policy is None:
        raise typer.Exit(2)
    if from_stage and to_stage and not (from_owner or to_owner):
        move, origin, target = Move.STAGE, from_stage, to_stage
    elif from_owner and to_owner and not (from_stage or to_stage):
        move, origin, target = Move.OWNER, from_owner, to_owner
    else:
        raise typer.BadParameter("give --from-stage and --to-stage, or --from-owner and --to-owner")
    with opened(ctx, write=True) as store:
        product = [catalog.resolve_dataset(store, name, namespace) for name in datasets]
        handoff = handoffs.create(
            store, policy, product, move=move, from_=origin, to=target, roles=tuple(role),
            principal=_local(), reason=reason, handoff_id=handoff_id,
        )  # fmt: skip
        evaluation = handoffs.evaluate(store, handoff)
    if as_json:
        print_json(evaluation.as_json())
    else:
        _print_evaluation(evaluation)


@handoff_app.command("show")
def show(
    ctx: typer.Context,
    handoff_id: str = typer.Argument(..., help="The handoff's id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Evaluate a handoff now: each criterion with evidence, each sign-off, the gate.
    Exits 1 while the gate is closed (usable as a CI check)."""
    with opened(ctx) as store:
        evaluation = handoffs.evaluate(store, handoffs.get(store, handoff_id))
    if as_json:
        print_json(evaluation.as_json())
    else:
        _print_evaluation(evaluation)
    if not evaluation.gate_open and evaluation.handoff.state is HandoffState.OPEN:
        raise typer.Exit(1)


@handoff_app.command("list")
def list_handoffs(
    ctx: typer.Context,
    state: HandoffState | None = typer.Option(None, help="Only in this state."),
    dataset: str | None = typer.Option(None, help="Only those covering this dataset."),
    namespace: str | None = typer.Option(None, help="Namespace of --dataset."),
    owner: str | None = typer.Option(None, help="Only those moving from/to or over its data."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Handoffs, newest first."""
    with opened(ctx) as store:
        covering = catalog.resolve_dataset(store, dataset, namespace) if dataset else None
        found = handoffs.find(store, state=state, dataset=covering, owner=owner)
    if as_json:
        print_json([{"id": h.id, **h.as_attrs()} for h in found])
        return
    for handoff in found:
        out.print(escape(_summary(handoff)), highlight=False, soft_wrap=True)


@handoff_app.command("sign")
def sign(
    ctx: typer.Context,
    handoff_id: str = typer.Argument(..., help="The handoff's id."),
    signoff: str = typer.Argument(..., help="Which required sign-off, e.g. engineering."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    comment: str = typer.Option("", help="What you say (required to reject)."),
    token: str = typer.Option(
        ..., envvar="BATON_TOKEN", help="Your API token (created with --owner).", show_default=False
    ),
) -> None:
    """Sign off a handoff as the owner your token (an issued token, or a JWT from your
    identity provider when OIDC is configured) is bound to."""
    from catalog.api import auth  # (the server's stack, for this one command)

    settings = settings_of(ctx)
    gate = auth.Gate(
        tokens=TokenStore(settings.home),
        anonymous=auth.NOBODY,
        oidc=OidcVerifier(settings.oidc) if settings.oidc else None,
    )
    principal = gate.principal_of({"authorization": f"Bearer {token}"})
    if not principal.authenticated:
        err.print("[red]error:[/red] the token is unknown, malformed, expired or revoked")
        raise typer.Exit(2)
    decision = Decision.REJECT if reject else Decision.APPROVE
    with opened(ctx, write=True) as store:
        record = handoffs.sign(
            store, handoff_id, signoff, decision=decision, comment=comment, principal=principal
        )
    out.print(
        f"{record.decision.value}d {record.signoff} on {handoff_id} as {record.acting_as} "
        f"({record.signer}); signed contract {record.digests.contract[:12]}, "
        f"impact {record.digests.impact[:12]}",
        highlight=False,
        soft_wrap=True,
    )


@handoff_app.command("complete")
def complete(
    ctx: typer.Context,
    handoff_id: str = typer.Argument(..., help="The handoff's id."),
    reason: str = typer.Option("handoff", help="Why: recorded in the ledger."),
) -> None:
    """Complete a handoff whose gate is open: records the new stage or owners."""
    with opened(ctx, write=True) as store:
        evaluation = handoffs.complete(store, handoff_id, principal=_local(), reason=reason)
    handoff = evaluation.handoff
    out.print(f"completed {handoff.id}: {handoff.move.value} is now {escape(handoff.to)}")
