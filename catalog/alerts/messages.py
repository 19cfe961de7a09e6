"""The channel-neutral message every delivery carries (the generic webhook's JSON body,
schema `baton.alert.v1`); Slack, PagerDuty and email render theirs from it."""

from __future__ import annotations

from catalog.alerts.model import Action, Alert
from catalog.domain import JsonObject

SCHEMA = "baton.alert.v1"
CONTEXT = (
    "subject", "assets", "observed", "source", "recipients", "unowned", "unreachable", "runbook",
    "remediation", "upstream_suspects", "downstream",
)  # fmt: skip
"""What of an alert's details a message carries (routing internals stay behind)."""


def compose(alert: Alert, action: Action, idempotency_key: str) -> JsonObject:
    return {
        "schema": SCHEMA,
        "idempotency_key": idempotency_key,
        "action": action.value,
        "alert": {
            "id": alert.id,
            "key": alert.key,
            "type": alert.type,
            "severity": alert.severity,
            "status": alert.status.value,
            "summary": alert.summary,
            "occurrences": alert.occurrences,
            "opened_at": alert.opened_at,
            "updated_at": alert.updated_at,
            "resolved_at": alert.resolved_at,
            "acknowledged_by": alert.acked_by,
            "escalation_level": alert.escalation_level,
            "ledger_seq": alert.last_seq,
        },
        **{k: alert.details.get(k) for k in CONTEXT},
    }


def headline(message: JsonObject) -> str:
    """One line for a chat message, a mail subject or a page."""
    alert = message["alert"]
    prefix = {
        "trigger": f"[{alert['severity'].upper()}]",
        "escalate": f"[ESCALATED {alert['severity'].upper()}]",
        "acknowledge": "[ACKNOWLEDGED]",
        "resolve": "[RESOLVED]",
    }[message["action"]]
    return f"{prefix} {alert['summary']}"


def link(message: JsonObject) -> str | None:
    """The console page to open: the first affected asset's, else the subject's."""
    assets = message.get("assets") or []
    first = assets[0] if assets else message.get("subject") or {}
    url = first.get("url")
    return url if isinstance(url, str) else None


def text(message: JsonObject) -> str:
    """The message as plain text (email body, Slack fallback text)."""
    alert = message["alert"]
    lines = [headline(message), ""]
    for asset in message.get("assets") or []:
        lines.append(f"Affected: {asset['ref']}  {asset['url']}")
    observed = message.get("observed") or {}
    if observed:
        lines.append("Observed: " + ", ".join(f"{k}={v}" for k, v in sorted(observed.items())))
    if message.get("source"):
        lines.append(f"Source: {message['source']} (ledger entry {alert['ledger_seq']})")
    for r in message.get("recipients") or []:
        lines.append(f"Owner: {r['owner']} ({r['role']} of {r['asset']})")
    if message.get("unowned"):
        lines.append("Owner: nobody owns it (sent to the fallback)")
    elif message.get("unreachable", message.get("unowned")):
        lines.append("Owner: nobody who owns it can be reached (sent to the fallback)")
    if message.get("runbook"):
        lines.append(f"Runbook: {message['runbook']}")
    if message.get("remediation"):
        lines.append(f"What to do: {message['remediation']}")
    for suspect in message.get("upstream_suspects") or []:
        lines.append(f"Upstream suspect: {suspect['summary']} (since {suspect['since']})")
    downstream = message.get("downstream") or {}
    if downstream.get("count"):
        lines.append(
            f"Downstream: {downstream['count']} datasets, e.g. " + ", ".join(downstream["first"])
        )
    lines += ["", f"Alert {alert['id']} ({alert['key']}), {alert['occurrences']} occurrence(s)"]
    if link(message):
        lines.append(f"Open in Baton: {link(message)}")
    return "\n".join(lines)
