"""Who hears about an event: the owners of what it affects, in the role that answers for
it, reached through the contacts their owner records give, plus subscriptions; a fallback
when nobody in that role can be reached. Also the context that makes a message actionable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from catalog.alerts.events import AlertEvent, EventType
from catalog.alerts.model import Alert
from catalog.alerts.settings import AlertSettings, Subscription
from catalog.domain import EdgeKind, JsonObject, NodeKind, NodeRef, owner_key, owner_named
from catalog.links import node_url
from catalog.services import catalog, contracts
from catalog.services.ownership import own_domain, owners_of
from catalog.stores.protocol import Direction, LedgerQuery, Store
from ingesters.ownership import Role

_DATA_BROKE = (Role.OPERATOR.value, Role.ENGINEER.value, Role.STEWARD.value)
_INTERFACE = (Role.STEWARD.value, Role.ENGINEER.value, Role.OPERATOR.value)
_DOWNSTREAM = (Role.ENGINEER.value, Role.STEWARD.value)
ROLES: dict[EventType, tuple[str, ...]] = {
    EventType.CHECK_FAILED: _DATA_BROKE,
    EventType.RUN_FAILED: _DATA_BROKE,
    EventType.FRESHNESS_BREACHED: _DATA_BROKE,
    EventType.DRIFT_APPEARED: _INTERFACE,
    EventType.CHANGE_BREAKING: _DOWNSTREAM,
    EventType.CONTRACT_BREAKING: _DOWNSTREAM,
    EventType.HANDOFF_COMPLETED: (*_INTERFACE, Role.APPROVER.value),
}
"""Who answers for each event, in order of preference: operators when data is not right
or not there (else engineers, else stewards); stewards when a dataset drifts from its
contract. Ownership notices go to the owner they name."""
EVERY_ROLE = frozenset({
    EventType.CHANGE_BREAKING, EventType.CONTRACT_BREAKING, EventType.HANDOFF_COMPLETED,
})  # fmt: skip
"""Events about assets downstream of a change: all their engineers and stewards hear,
each with the lineage path from the change to what they own."""
PAGED_SEVERITIES = frozenset({"critical", "error"})
"""Severities that page (the owner's `pager`); warnings and notices never wake anyone."""
NEIGHBOURS = 10
"""Upstream suspects and downstream assets named in a message."""


@dataclass(frozen=True)
class Recipient:
    owner: str
    """`team:analytics-engineering`, `person:maria@acme.example`."""
    role: str
    asset: str
    destinations: tuple[str, ...]
    runbook: str | None = None
    escalation: tuple[str, ...] = ()


@dataclass
class Routing:
    """What to tell, whom, and whom next if nobody acknowledges."""

    severity: str
    summary: str
    details: JsonObject
    destinations: list[str]
    escalation: list[str] = field(default_factory=list)


def destinations_of(contacts: JsonObject, settings: AlertSettings, severity: str) -> list[str]:
    """The configured channels an owner record's contacts reach."""
    candidates = []
    if isinstance(contacts.get("email"), str):
        candidates.append(f"email:{contacts['email']}")
    if isinstance(contacts.get("slack"), str):
        candidates.append(f"slack:{contacts['slack']}")
    if isinstance(contacts.get("pager"), str) and severity in PAGED_SEVERITIES:
        candidates.append(f"pagerduty:{contacts['pager']}")
    return [d for d in candidates if settings.configured(d)]


def route(
    store: Store,
    settings: AlertSettings,
    event: AlertEvent,
    firing: Sequence[Alert],
    subscriptions: Sequence[Subscription] | None = None,
) -> Routing:
    """The routing and context of an event that opens an alert or is a notice.
    `subscriptions`: the file's and the graph's (default: the file's alone)."""
    assets = affected(store, event)
    severity = str(event.attrs.get("severity") or _SEVERITY[event.type])
    asked = event.attrs.get("role")  # a sign-off: whoever holds its role
    roles = (asked,) if isinstance(asked, str) else ROLES.get(event.type, ())
    if event.subject.kind is NodeKind.OWNER:  # an ownership notice: to the owner it names
        recipients = _owner_itself(store, settings, event.subject, severity)
    else:
        every = event.type in EVERY_ROLE
        recipients = _recipients(store, settings, assets, roles, severity, every=every)
    names = [str(a) for a in assets]
    owners = sorted({r.owner for r in recipients})
    destinations = _unique(d for r in recipients for d in r.destinations)
    unowned = not recipients
    unreachable = not destinations  # nobody owns it, or no owner has a configured contact
    if unreachable:
        destinations = list(settings.file.fallback)
    everyone = settings.file.subscriptions if subscriptions is None else subscriptions
    domains = _domains(store, assets) if any(s.domain for s in everyone) else frozenset()
    matching = [s for s in everyone if s.matches(event.type, severity, names, owners, domains)]
    added = [d for s in matching if not s.mute for d in s.to]
    unroutable = sorted({d for d in added if not settings.configured(d)})
    destinations += [d for d in added if d not in destinations and d not in unroutable]
    muted = [glob for s in matching if s.mute for glob in s.to]
    destinations = [d for d in destinations if not any(fnmatchcase(d, g) for g in muted)]
    escalation = _unique(
        e for r in recipients for e in r.escalation if e not in owners
    )  # fmt: skip
    details = {
        "subject": _described(store, event.subject, settings),
        "assets": [_described(store, a, settings) for a in assets],
        "observed": event.attrs,
        "source": event.source,
        "roles": list(roles),
        "recipients": [r.__dict__ | {"destinations": list(r.destinations)} for r in recipients],
        "unowned": unowned,
        "unreachable": unreachable,
        "unroutable": unroutable,
        "runbook": next((r.runbook for r in recipients if r.runbook), None),
        "remediation": _remediation(event),
        "upstream_suspects": _suspects(store, assets, firing, settings.file.recent_hours),
        "downstream": _downstream(store, assets),
        "escalation": escalation,
    }
    return Routing(severity, summary(event, assets), details, destinations, escalation)


_SEVERITY = {
    EventType.CHECK_FAILED: "error",
    EventType.CHECK_PASSED: "info",
    EventType.RUN_FAILED: "error",
    EventType.RUN_SUCCEEDED: "info",
    EventType.OWNERSHIP_CHANGED: "info",
    EventType.FRESHNESS_BREACHED: "error",
    EventType.FRESHNESS_RECOVERED: "info",
    EventType.DRIFT_APPEARED: "warning",
    EventType.DRIFT_CLEARED: "info",
    EventType.CHANGE_BREAKING: "error",
    EventType.CONTRACT_BREAKING: "warning",
    EventType.SIGNOFF_NEEDED: "info",
    EventType.SIGNOFF_GIVEN: "info",
    EventType.HANDOFF_COMPLETED: "info",
}


def affected(store: Store, event: AlertEvent) -> list[NodeRef]:
    """The assets an event is about: a check's tested dataset or column; a job and the
    datasets it writes; the asset whose ownership changed."""
    subject = event.subject
    if subject.kind is NodeKind.CHECK:
        return _linked(store, subject, EdgeKind.CHECKS) or [subject]
    if subject.kind is NodeKind.JOB:
        return [subject, *_linked(store, subject, EdgeKind.WRITES)]
    if subject.kind is NodeKind.OWNER:
        return [NodeRef.from_key(key) for key in event.attrs.get("assets") or []]
    if subject.kind is NodeKind.HANDOFF:  # the product it moves
        return [NodeRef.from_key(key) for key in event.attrs.get("datasets") or []]
    if event.type in EVERY_ROLE:  # what is downstream of the change, and who pins it
        keys = [*event.attrs.get("downstream_keys", []), *event.attrs.get("pinned_keys", [])]
        return [NodeRef.from_key(key) for key in dict.fromkeys(keys)]
    return [subject]


def _linked(store: Store, subject: NodeRef, kind: EdgeKind) -> list[NodeRef]:
    """What one `kind` edge from `subject` reaches (a check's tested column, a job's
    outputs)."""
    return [view.ref for view in catalog.linked(store, [subject], kind, Direction.DOWNSTREAM)]


def _domains(store: Store, assets: Sequence[NodeRef]) -> frozenset[str]:
    """The domains of the datasets among the assets: their own (or dbt's `meta.domain`),
    and those of the contracts they publish (as ownership maps read domains)."""
    datasets = list({a.dataset for a in assets if a.kind in (NodeKind.DATASET, NodeKind.COLUMN)})
    found = {d for v in store.nodes(datasets) if (d := own_domain(v))}
    found |= {c.domain for ds in datasets for c in contracts.of_dataset(store, ds) if c.domain}
    return frozenset(found)


def _recipients(
    store: Store,
    settings: AlertSettings,
    assets: Iterable[NodeRef],
    roles: tuple[str, ...],
    severity: str,
    *,
    every: bool = False,
) -> list[Recipient]:
    """The owners of the assets in the first role of `roles` anyone holds (`every`: in
    each of them); with nobody in any, every owner the assets have (an owner is better
    than a fallback)."""
    held = [(asset, o) for asset in assets for o in owners_of(store, asset)]
    present = [r for r in roles if any(o.role == r for _, o in held)]
    chosen = set(present if every else present[:1])
    found: dict[tuple[str, str], Recipient] = {}
    for asset, ownership in held:
        key = owner_key(ownership.owner.ref)
        if (chosen and ownership.role not in chosen) or (key, ownership.role) in found:
            continue
        contacts = ownership.owner.attrs
        found[key, ownership.role] = Recipient(
            owner=key,
            role=ownership.role,
            asset=str(asset),
            destinations=tuple(destinations_of(contacts, settings, severity)),
            runbook=contacts.get("runbook"),
            escalation=tuple(contacts.get("escalation") or ()),
        )
    return list(found.values())


def _owner_itself(
    store: Store, settings: AlertSettings, owner: NodeRef, severity: str
) -> list[Recipient]:
    views = store.nodes([owner])
    contacts = views[0].attrs if views else {}
    reach = tuple(destinations_of(contacts, settings, severity))
    return [Recipient(owner_key(owner), "owner", str(owner), reach, contacts.get("runbook"))]


def escalation_destinations(
    store: Store, settings: AlertSettings, owner: str, severity: str
) -> list[str]:
    """Where the owner named at an escalation step is reached."""
    views = store.nodes([owner_named(owner)])
    return destinations_of(views[0].attrs, settings, severity) if views else []


def _described(store: Store, ref: NodeRef, settings: AlertSettings) -> JsonObject:
    views = store.nodes([ref])
    attrs = views[0].attrs if views else {}
    return {
        "ref": str(ref),
        "kind": ref.kind.value,
        "namespace": ref.namespace,
        "name": ref.name,
        "column": ref.column,
        "label": attrs.get("name") if ref.kind is NodeKind.CHECK else None,
        "path": node_url(ref),
        "url": settings.file.console_url.rstrip("/") + node_url(ref),
    }


def summary(event: AlertEvent, assets: Sequence[NodeRef]) -> str:
    on = ", ".join(str(a) for a in assets if a.kind is not NodeKind.JOB) or str(event.subject)
    observed = event.attrs
    if event.type is EventType.CHECK_FAILED:
        name = observed.get("name") or check_label(event.subject)
        failures = observed.get("failures")
        counted = f": {failures} failing rows" if isinstance(failures, int) and failures else ""
        return f"Check {name} {observed.get('status', 'fail')}ed on {on}{counted}"
    if event.type is EventType.RUN_FAILED:
        message = str(observed.get("message") or "").strip()
        return f"Run of {event.subject} failed" + (f": {message[:200]}" if message else "")
    if event.type is EventType.FRESHNESS_BREACHED:
        return f"{event.subject} is stale: {observed.get('detail')}"
    if event.type is EventType.SIGNOFF_NEEDED:
        name, role = observed.get("part"), observed.get("role")
        handoff = f"Handoff {event.subject.name}"
        if observed.get("state") == "stale":
            changed = ", ".join(observed.get("changed") or []) or "what was signed"
            return f"{handoff}: the {name} sign-off ({role}) is stale, {changed} changed"
        return f"{handoff} waits for the {name} sign-off ({role})"
    if event.type is EventType.HANDOFF_COMPLETED:
        return (
            f"Handoff {event.subject.name} completed: {observed.get('from')} -> "
            f"{observed.get('to')} by {observed.get('completed_by')}"
        )
    if event.type is EventType.DRIFT_APPEARED:
        drift = observed.get("drift") or []
        return (
            f"{event.subject} drifted from contract {observed.get('contract')} "
            f"{observed.get('version')}: "
            + "; ".join(drift[:3])
            + (f" and {len(drift) - 3} more" if len(drift) > 3 else "")
        )
    if event.type is EventType.CHANGE_BREAKING:
        columns = ", ".join(observed.get("columns") or [])
        return (
            f"Columns dropped from {event.subject} ({columns}) break "
            f"{observed.get('count')} downstream datasets, e.g. "
            + ", ".join((observed.get("downstream") or [])[:3])
        )
    if event.type is EventType.CONTRACT_BREAKING:
        breaking = observed.get("breaking") or []
        pinned = len(observed.get("pinned") or [])
        return (
            f"Contract {observed.get('contract')} {observed.get('version')} breaks "
            f"{observed.get('previous')}: "
            + "; ".join(breaking[:2])
            + (f" ({pinned} pinned dependents)" if pinned else "")
        )
    if event.type is EventType.OWNERSHIP_CHANGED:
        count = int(observed.get("count") or len(assets))
        named = ", ".join(str(a) for a in assets[:3]) + (
            f" and {count - 3} more" if count > 3 else ""
        )
        if observed.get("change") == "assigned":
            roles = ", ".join(observed.get("roles") or []) or "a role"
            return f"{owner_key(event.subject)} now holds {roles} on {named}"
        return f"{owner_key(event.subject)} no longer owns {named}"
    return f"{event.type} on {on}"


def check_label(check: NodeRef) -> str:
    """A check as people name it: a dbt test's name without package and hash."""
    parts = check.name.split(".")
    return parts[2] if len(parts) == 4 and parts[0] == "test" else check.name


def _remediation(event: AlertEvent) -> str | None:
    if event.type is EventType.CHECK_FAILED:
        return (
            "Look at the failing rows (`dbt test --select` the check, or the assertion's "
            "query), then at the upstream suspects below; the alert resolves when the check "
            "passes again."
        )
    if event.type is EventType.RUN_FAILED:
        return "Read the run's error, fix and re-run; the alert resolves on the job's next success."
    if event.type is EventType.DRIFT_APPEARED:
        return (
            "Either change the dataset back to what the contract declares, or publish a new "
            "contract version that declares it (a major version if it breaks consumers); "
            "the alert resolves when they agree again."
        )
    if event.type in EVERY_ROLE:
        return (
            "Check each path below: adapt what you own downstream, or ask the upstream "
            "owners to keep the column (or pin the previous contract version) until you have."
        )
    if event.type is EventType.FRESHNESS_BREACHED:
        return (
            "Find the job that writes it (its page lists the writers) and why it has not "
            "completed: a failed or stuck run upstream is the usual cause (see the upstream "
            "suspects). The alert resolves at the next successful write."
        )
    return None


def _suspects(
    store: Store, assets: Sequence[NodeRef], firing: Sequence[Alert], hours: int
) -> list[Any]:
    """What upstream of the affected datasets is the likeliest cause: firing alerts there
    (a failed run or check), then the jobs writing them that changed in the last `hours`
    (a new version of their SQL or model), nearest first."""
    datasets = [a.dataset for a in assets if a.kind in (NodeKind.DATASET, NodeKind.COLUMN)]
    if not datasets:
        return []
    upstream = store.subgraph(
        datasets, kinds=[EdgeKind.FEEDS.value], direction=Direction.UPSTREAM, depth=10,
        limit=5000,
    )  # fmt: skip
    nearest = sorted(upstream.depth_of, key=lambda k: (upstream.depth_of[k], k))
    written = store.subgraph(
        [NodeRef.from_key(k) for k in nearest], kinds=[EdgeKind.WRITES.value],
        direction=Direction.UPSTREAM, depth=1, limit=10_000,
    )  # fmt: skip
    writers = list(dict.fromkeys(e.subject for e in written.edges))
    above = {str(NodeRef.from_key(k)) for k in nearest if upstream.depth_of[k] > 0}
    found: list[Any] = [
        {"alert": a.id, "type": a.type, "summary": a.summary, "since": a.opened_at}
        for a in firing
        if {x["ref"] for x in a.details.get("assets", [])} & (above | {str(w) for w in writers})
    ]
    since = datetime.now(UTC) - timedelta(hours=hours)
    for job in writers[:NEIGHBOURS]:
        recent = LedgerQuery(entity=job.key, since=since, limit=1, newest_first=True)
        changed = store.ledger(recent)
        if (
            not changed
            or store.ledger(LedgerQuery(entity=job.key, limit=1))[0].seq == changed[0].seq
        ):
            continue  # unchanged lately, or only created then: a new job is not a change
        entry = changed[0]
        what = f"{job} changed in ledger entry {entry.seq} by {entry.actor}: {entry.reason}"
        since_at = entry.at.isoformat(timespec="seconds")
        found.append({"job": str(job), "type": "job.changed", "since": since_at, "summary": what})
    return found[:NEIGHBOURS]


def _downstream(store: Store, assets: Sequence[NodeRef]) -> JsonObject:
    datasets = [a.dataset for a in assets if a.kind in (NodeKind.DATASET, NodeKind.COLUMN)]
    if not datasets:
        return {"count": 0, "first": []}
    below = store.subgraph(
        datasets, kinds=[EdgeKind.FEEDS.value], direction=Direction.DOWNSTREAM, depth=10,
        limit=1000,
    )  # fmt: skip
    names = sorted(str(NodeRef.from_key(k)) for k, d in below.depth_of.items() if d > 0)
    return {"count": len(names), "first": names[:NEIGHBOURS], "truncated": below.truncated}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
