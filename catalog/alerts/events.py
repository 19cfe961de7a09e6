"""Alert events: what a write says that someone may need to hear, derived from its diff.

`derive` is pure and runs inside the write's transaction, so the events land in the outbox
with the ledger entry that caused them: a write that rolls back raises nothing, and a write
that commits cannot lose its events. Events are observations ("check X failed in this
write"); whether one opens, updates or resolves an alert is decided later, by the alert
lifecycle, from the alert's state (`catalog.alerts.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from catalog.domain import FACT, Assertion, EdgeKind, NodeKind, NodeRef

SourcedAssertion = tuple[str, Assertion]


class EventType(StrEnum):
    CHECK_FAILED = "check.failed"
    CHECK_PASSED = "check.passed"
    RUN_FAILED = "run.failed"
    RUN_SUCCEEDED = "run.succeeded"
    OWNERSHIP_CHANGED = "ownership.changed"
    FRESHNESS_BREACHED = "freshness.breached"
    FRESHNESS_RECOVERED = "freshness.recovered"
    SIGNOFF_NEEDED = "handoff.signoff_needed"
    SIGNOFF_GIVEN = "handoff.signoff_given"
    HANDOFF_COMPLETED = "handoff.completed"
    # Observations that mean something only against the graph: judged after the write
    # (catalog.alerts.judges) into the alert events below, or into nothing.
    SCHEMA_CHANGED = "schema.changed"
    COLUMNS_DROPPED = "columns.dropped"
    CONTRACT_PUBLISHED = "contract.published"
    DRIFT_APPEARED = "contract.drift"
    DRIFT_CLEARED = "contract.drift_cleared"
    CHANGE_BREAKING = "change.breaking"
    CONTRACT_BREAKING = "contract.breaking"


JUDGED = frozenset({EventType.SCHEMA_CHANGED, EventType.COLUMNS_DROPPED,
                    EventType.CONTRACT_PUBLISHED})  # fmt: skip
"""Raw observations the judges turn into alert events (never alerts themselves)."""


CHECK_FAILING = {"fail": "error", "error": "error", "warn": "warning"}
"""Check outcomes that raise an alert (dbt's test statuses, OpenLineage's assertion
outcome), with the alert's severity."""
CHECK_PASSING = frozenset({"pass", "success"})
"""Outcomes that resolve it; any other (`skipped`, say) says nothing."""
RUN_FAILING = frozenset({"error", "fail", "failed"})
RUN_PASSING = frozenset({"success", "pass"})


@dataclass(frozen=True)
class AlertEvent:
    """One observation a write made: its type, the node it is about, and what it saw."""

    type: EventType
    subject: NodeRef
    source: str
    """The snapshot source that asserted it (a dbt invocation, an OpenLineage event)."""
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def part(self) -> str | None:
        """What of the subject it is about, when one subject has several alerts (a
        handoff's sign-offs)."""
        part = self.attrs.get("part")
        return part if isinstance(part, str) else None


_EVENTFUL_EDGES = frozenset(
    kind.value
    for kind in (EdgeKind.HAS_RUN, EdgeKind.OWNS, EdgeKind.HAS_COLUMN, EdgeKind.HAS_CONTRACT)
)
_EVENTFUL_FACTS = frozenset(
    {NodeKind.CHECK, NodeKind.RUN, NodeKind.JOB, NodeKind.HANDOFF, NodeKind.COLUMN,
     NodeKind.CONTRACT}
)  # fmt: skip
"""What the event rules below look at; a large write is mostly other assertions, which
`derive` drops in one cheap pass."""


def derive(added: Sequence[SourcedAssertion], ended: Iterable[tuple[str, Any]]) -> list[AlertEvent]:
    """The events of one write, from the assertions it adds and the edges it ends."""
    added = [
        (source, a)
        for source, a in added
        if (a.subject.kind in _EVENTFUL_FACTS if a.kind == FACT else a.kind in _EVENTFUL_EDGES)
    ]
    ended = [change for change in ended if change[1][0] in _EVENTFUL_EDGES]
    runs_of = {
        a.object.key: a.subject
        for _, a in added
        if a.kind == EdgeKind.HAS_RUN and a.object is not None
    }
    events = []
    for source, a in added:
        if a.kind == FACT and (event := _from_fact(source, a, runs_of)) is not None:
            events.append(event)
    return events + _ownership_changes(added, ended) + _schema_changes(added, ended)


def _schema_changes(
    added: Sequence[SourcedAssertion], ended: Iterable[tuple[str, Any]]
) -> list[AlertEvent]:
    """Per dataset, one `schema.changed` when a write adds or ends a column or changes a
    column's facts (a type), or binds a contract; one `columns.dropped` listing the
    columns it ends; one `contract.published` per contract version it adds."""
    changed: dict[str, str] = {}
    dropped: dict[str, set[str]] = {}
    events = []
    for source, a in added:
        subject = a.subject
        if a.kind in (EdgeKind.HAS_COLUMN, EdgeKind.HAS_CONTRACT) or (
            a.kind == FACT and subject.kind is NodeKind.COLUMN
        ):
            changed.setdefault(subject.dataset_key, source)
        if a.kind == FACT and subject.kind is NodeKind.CONTRACT and "version" in a.attrs:
            events.append(AlertEvent(EventType.CONTRACT_PUBLISHED, subject, source))
    kept = {a.object.key for _, a in added if a.kind == EdgeKind.HAS_COLUMN and a.object}
    for source, (kind, subject, obj) in ended:
        if kind == EdgeKind.HAS_COLUMN and obj and obj not in kept:
            changed.setdefault(subject, source)
            column = NodeRef.from_key(obj).column
            dropped.setdefault(subject, set()).add(str(column))
    events += [
        AlertEvent(EventType.SCHEMA_CHANGED, NodeRef.from_key(key), source)
        for key, source in sorted(changed.items())
    ]
    events += [
        AlertEvent(
            EventType.COLUMNS_DROPPED,
            NodeRef.from_key(key),
            changed[key],
            {"columns": sorted(columns)},
        )
        for key, columns in sorted(dropped.items())
    ]
    return events


OWNERSHIP_ASSETS_LISTED = 50
"""Assets an ownership notice names; it counts them all."""


def _ownership_changes(
    added: Sequence[SourcedAssertion], ended: Iterable[tuple[str, Any]]
) -> list[AlertEvent]:
    """One notice per owner, source and direction (assigned or ended) in a write: an
    ownership map that hands forty datasets to a team tells the team once."""
    groups: dict[tuple[str, str, str], tuple[set[str], list[str]]] = {}
    for source, a in added:
        if a.kind == EdgeKind.OWNS and a.object is not None:
            roles, assets = groups.setdefault((source, a.subject.key, "assigned"), (set(), []))
            roles.update(a.attrs.get("roles") or {})
            assets.append(a.object.key)
    for source, (kind, subject, obj) in ended:
        if kind == EdgeKind.OWNS and obj:
            groups.setdefault((source, subject, "ended"), (set(), []))[1].append(obj)
    return [
        AlertEvent(
            EventType.OWNERSHIP_CHANGED,
            NodeRef.from_key(owner),
            source,
            {
                "change": change,
                "roles": sorted(roles),
                "count": len(assets),
                "assets": sorted(assets)[:OWNERSHIP_ASSETS_LISTED],
            },
        )
        for (source, owner, change), (roles, assets) in sorted(groups.items())
    ]


def _from_fact(source: str, fact: Assertion, runs_of: dict[str, NodeRef]) -> AlertEvent | None:
    attrs = fact.attrs
    kind = fact.subject.kind
    if kind is NodeKind.CHECK and isinstance(attrs.get("status"), str):
        return _check_event(source, fact.subject, attrs)
    if kind is NodeKind.RUN and fact.subject.key in runs_of:
        return _run_event(source, fact.subject, runs_of[fact.subject.key], attrs)
    if kind is NodeKind.JOB and isinstance(attrs.get("last_run_status"), str):
        return _job_run_event(source, fact.subject, attrs)
    if kind is NodeKind.HANDOFF and attrs.get("state") == "completed":
        observed = {k: attrs.get(k) for k in ("move", "from", "to", "completed_by", "datasets")}
        return AlertEvent(EventType.HANDOFF_COMPLETED, fact.subject, source, observed)
    return None


def _check_event(source: str, check: NodeRef, attrs: dict[str, Any]) -> AlertEvent | None:
    status = attrs["status"].lower()
    observed = {
        k: attrs[k]
        for k in ("status", "failures", "message", "checked_at", "name", "arguments")
        if attrs.get(k) is not None
    }
    if status in CHECK_FAILING:
        observed["severity"] = CHECK_FAILING[status]
        return AlertEvent(EventType.CHECK_FAILED, check, source, observed)
    if status in CHECK_PASSING:
        return AlertEvent(EventType.CHECK_PASSED, check, source, observed)
    return None


def _run_event(source: str, run: NodeRef, job: NodeRef, attrs: dict[str, Any]) -> AlertEvent | None:
    """An OpenLineage run reaching FAIL or COMPLETE: about its job (runs come and go)."""
    observed = {"run": run.name}
    if attrs.get("fail_at"):
        observed |= {"at": attrs["fail_at"], "message": attrs.get("error_message") or ""}
        return AlertEvent(EventType.RUN_FAILED, job, source, observed)
    if attrs.get("complete_at"):
        return AlertEvent(
            EventType.RUN_SUCCEEDED, job, source, observed | {"at": attrs["complete_at"]}
        )
    return None


def _job_run_event(source: str, job: NodeRef, attrs: dict[str, Any]) -> AlertEvent | None:
    """A dbt run result on a model, seed or snapshot."""
    status = attrs["last_run_status"].lower()
    observed = {
        "status": status,
        "at": attrs.get("last_run_at"),
        "message": attrs.get("last_run_message") or "",
        "run": attrs.get("invocation"),
    }
    if status in RUN_FAILING:
        return AlertEvent(EventType.RUN_FAILED, job, source, observed)
    if status in RUN_PASSING:
        return AlertEvent(EventType.RUN_SUCCEEDED, job, source, observed)
    return None
