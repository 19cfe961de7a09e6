"""Impact reports: what a change set breaks downstream, who must know, and how sure Baton is.

The report is plain data (built by `catalog.services.impact`), with a stable digest so a
sign-off can bind to exactly the report an approver saw, and renderings as JSON,
Markdown (for a pull-request comment) and text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from catalog.domain import canonical_json, sha256_hex


class ChangeKind(StrEnum):
    DROP_COLUMN = "DROP_COLUMN"
    RENAME_COLUMN = "RENAME_COLUMN"
    RETYPE_COLUMN = "RETYPE_COLUMN"
    CHANGE_COLUMN = "CHANGE_COLUMN"  # same name and type, computed from different sources
    DROP_DATASET = "DROP_DATASET"
    RENAME_DATASET = "RENAME_DATASET"
    CHANGE_JOB = "CHANGE_JOB"


@dataclass(frozen=True)
class Change:
    """One proposed change. `target` is a node key (`NodeRef.key`)."""

    kind: ChangeKind
    target: str
    label: str
    """The target as people write it: `namespace/name[.column]`."""
    new_name: str | None = None
    new_type: str | None = None
    compatible: bool = False
    """A change that cannot break readers (a widened type): impact is at most risky."""


class Confidence(StrEnum):
    CERTAIN = "certain"  # reached through column lineage (or a dropped dataset's readers)
    INFERRED = "inferred"  # through column lineage inferred over a `*` with no schema
    POSSIBLE = "possible"  # reached through table lineage only


CONFIDENCE_RANK = {Confidence.CERTAIN: 2, Confidence.INFERRED: 1, Confidence.POSSIBLE: 0}
"""Which of two ways of reaching a node says more: a stronger one replaces a weaker."""


class Severity(StrEnum):
    BREAKING = "breaking"
    RISKY = "risky"
    SAFE = "safe"


@dataclass(frozen=True)
class Hop:
    """One edge of a path, with the evidence that creates it."""

    kind: str  # DERIVES, INFLUENCES, FEEDS, ALIAS_OF
    source_node: str
    target_node: str
    lineage: str  # DIRECT (data flows) or INDIRECT (it decides which rows)
    detail: str | None  # transformation or indirect subtype
    job: str | None
    where: str | None  # file:line, dbt model, or the asserting source


@dataclass(frozen=True)
class Affected:
    node: str  # node key
    label: str
    kind: str  # COLUMN, DATASET, JOB, CONSUMER
    confidence: Confidence
    lineage: str  # DIRECT or INDIRECT
    depth: int
    path: tuple[Hop, ...] = ()
    owners: tuple[str, ...] = ()
    """Owner labels (`team/x`), any role; the owner groups say which role."""


@dataclass(frozen=True)
class OwnerToNotify:
    owner: str
    role: str
    contact: str | None
    escalation: tuple[str, ...]
    assets: tuple[str, ...]


@dataclass(frozen=True)
class ContractViolation:
    contract_id: str
    version: str
    reason: str
    dependents: tuple[str, ...]


@dataclass(frozen=True)
class ImpactReport:
    changes: tuple[Change, ...]
    affected: tuple[Affected, ...]
    owners: tuple[OwnerToNotify, ...]
    unowned: tuple[str, ...]
    """Affected datasets and consumers nobody owns."""
    contracts: tuple[ContractViolation, ...]
    sign_offs: tuple[str, ...]
    """Roles and people whose sign-off a handoff of this change needs."""
    severity: Severity
    rule: str
    """The rule that decided the severity."""
    depth: int
    limit: int
    truncated: bool
    truncated_at: tuple[str, ...] = field(default=())
    """Nodes whose further downstream was not explored because a limit was reached."""

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["digest"] = self.digest
        return body

    @property
    def digest(self) -> str:
        """SHA-256 of the report's content: equal reports, equal digests."""
        return sha256_hex(canonical_json(asdict(self)))

    def count(self, kind: str, confidence: Confidence | None = None) -> int:
        return sum(
            1
            for a in self.affected
            if a.kind == kind and (confidence is None or a.confidence is confidence)
        )


def markdown(report: ImpactReport) -> str:
    """For a pull-request comment: summary, then owners, then evidence collapsed."""
    icon = {"breaking": "🔴", "risky": "🟠", "safe": "🟢"}[report.severity.value]
    lines = [
        f"## {icon} Baton impact: **{report.severity.value}**",
        "",
        f"_{report.rule}_",
        "",
        "| changes | columns | datasets | jobs | consumers |",
        "|---|---|---|---|---|",
        "| {} | {} | {} | {} | {} |".format(
            len(report.changes),
            _counts(report, "COLUMN"),
            _counts(report, "DATASET"),
            _counts(report, "JOB"),
            _counts(report, "CONSUMER"),
        ),
        "",
    ]
    lines += [f"- `{c.kind.value}` {c.label}" + _change_detail(c) for c in report.changes]
    if report.truncated:
        lines += ["", f"> ⚠️ Truncated (depth {report.depth}, limit {report.limit}) at: "
                  + ", ".join(f"`{n}`" for n in report.truncated_at[:10])]  # fmt: skip
    if report.contracts:
        lines += ["", "### Contracts broken", ""]
        lines += [
            f"- `{v.contract_id}` {v.version}: {v.reason}"
            + (f" (relied on by {', '.join(v.dependents)})" if v.dependents else "")
            for v in report.contracts
        ]
    lines += ["", "### Who must know", ""]
    if report.owners:
        lines += ["| owner | role | contact | escalation | assets |", "|---|---|---|---|---|"]
        lines += [
            f"| {o.owner} | {o.role} | {o.contact or ''} | {', '.join(o.escalation)} | "
            f"{len(o.assets)} |"
            for o in report.owners
        ]
    else:
        lines.append("Nobody: no affected asset has an owner.")
    if report.unowned:
        lines += ["", "Affected with no owner: " + ", ".join(f"`{u}`" for u in report.unowned[:20])]
    if report.sign_offs:
        lines += ["", "### Sign-offs needed", ""] + [f"- {s}" for s in report.sign_offs]
    lines += ["", "<details><summary>Evidence</summary>", ""]
    for item in report.affected:
        lines.append(f"- **{item.label}** ({item.kind.lower()}, {item.confidence.value}, "
                     f"{item.lineage.lower()}, {item.depth} hops)")  # fmt: skip
        for hop in item.path:
            why = ", ".join(p for p in (hop.detail, hop.where) if p)
            lines.append(
                f"  - {hop.kind} {hop.source_node} → {hop.target_node}"
                + (f" ({why})" if why else "")
            )
    lines += ["", "</details>", "", f"Report digest `{report.digest}`"]
    return "\n".join(lines) + "\n"


def _counts(report: ImpactReport, kind: str) -> str:
    certain = report.count(kind, Confidence.CERTAIN)
    weaker = [
        f"+{n} {c.value}"
        for c in (Confidence.INFERRED, Confidence.POSSIBLE)
        if (n := report.count(kind, c))
    ]
    return f"{certain}" + (f" ({', '.join(weaker)})" if weaker else "")


def _change_detail(change: Change) -> str:
    if change.new_name:
        return f" → `{change.new_name}`"
    if change.new_type:
        return f" → `{change.new_type}`" + (" (compatible)" if change.compatible else "")
    return ""


def text(report: ImpactReport) -> str:
    lines = [f"{report.severity.value.upper()}: {report.rule}"]
    lines += [f"  change {c.kind.value} {c.label}{_change_detail(c)}" for c in report.changes]
    for item in report.affected:
        lines.append(f"  {item.confidence.value:8} {item.kind.lower():8} {item.label}")
    for owner in report.owners:
        lines.append(f"  notify {owner.owner} ({owner.role}) {owner.contact or ''}".rstrip())
    lines += [f"  unowned {u}" for u in report.unowned]
    lines += [f"  contract {v.contract_id} {v.version}: {v.reason}" for v in report.contracts]
    if report.truncated:
        lines.append(f"  truncated at {', '.join(report.truncated_at[:10])}")
    lines.append(f"  digest {report.digest}")
    return "\n".join(lines) + "\n"
