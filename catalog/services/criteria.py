"""The built-in exit criteria of handoffs, each a function from what Baton knows about a
product to a pass/fail with evidence. `facts_about` gathers that knowledge once per
evaluation, so criteria share lookups instead of repeating them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.contracts import ContractVersion, latest_versions
from catalog.domain import EdgeKind, NodeRef, owner_key
from catalog.handoffs import Criterion, CriterionResult, CriterionSpec
from catalog.impact import ImpactReport, Severity
from catalog.services import catalog, change_sets, contracts, impact, ownership
from catalog.services.ownership import Ownership
from catalog.stores.protocol import Direction, NodeView, Store

PASSING_CHECK_STATUSES = ("pass", "success", "warn")
"""dbt reports `pass`/`warn` (warn: severity warn, not failing); OpenLineage `success`."""


@dataclass(frozen=True)
class ProductFacts:
    """What the criteria read about a product's datasets, fetched once."""

    datasets: tuple[NodeRef, ...]
    owners: dict[str, list[Ownership]]
    contracts: dict[str, list[ContractVersion]]
    """Latest version of each contract a dataset publishes."""
    impact: ImpactReport


def facts_about(store: Store, datasets: tuple[NodeRef, ...]) -> ProductFacts:
    owners = ownership.owners_of_many(store, list(datasets))
    latest = {d.key: latest_versions(contracts.of_dataset(store, d)) for d in datasets}
    distinct = {(v.contract_id, v.version): v for vs in latest.values() for v in vs}
    requests = [r for v in distinct.values() for r in change_sets.since_previous(store, v)]
    return ProductFacts(datasets, owners, latest, impact.analyse(store, requests))


def evaluate(store: Store, spec: CriterionSpec, facts: ProductFacts) -> CriterionResult:
    findings = CRITERIA[spec.name](store, spec, facts)
    return CriterionResult(
        spec.name.value, all(ok for ok, _ in findings), tuple(e for _, e in findings)
    )


Finding = tuple[bool, str]
"""One line of evidence and whether it supports passing."""


def _owners(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings = []
    for dataset in facts.datasets:
        held = facts.owners.get(dataset.key, [])
        for role in spec.parameter("roles"):
            holders = sorted({owner_key(o.owner.ref) for o in held if o.role == role})
            if holders:
                findings.append((True, f"{dataset}: {role} {', '.join(holders)}"))
            else:
                findings.append((False, f"{dataset}: nobody holds {role}"))
    return findings


def _contract_published(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings = []
    for dataset in facts.datasets:
        published = facts.contracts[dataset.key]
        if published:
            versions = ", ".join(f"{v.contract_id}@{v.version}" for v in published)
            findings.append((True, f"{dataset}: {versions}"))
        else:
            findings.append((False, f"{dataset}: no published contract"))
    return findings


def _no_contract_drift(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings: list[Finding] = []
    checked = {(v.contract_id, v.version) for vs in facts.contracts.values() for v in vs}
    for contract_id, number in sorted(checked):
        drifts = contracts.drift(store, contract_id, number)
        findings += [(False, f"{contract_id}@{number}: {d}") for d in drifts]
        if not drifts:
            findings.append((True, f"{contract_id}@{number}: the catalog matches the contract"))
    if not checked:
        findings.append((False, "no contract to compare the catalog with"))
    return findings


def _no_breaking_impact(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    report = facts.impact
    summary = f"{len(report.changes)} shape change(s) since the previous contract versions"
    passed = report.severity is not Severity.BREAKING
    return [(passed, f"{summary}; {report.rule} (impact report {report.digest[:12]})")]


def _lineage_present(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings = []
    for dataset in facts.datasets:
        upstream = store.subgraph(
            [dataset],
            kinds=[EdgeKind.FEEDS.value, EdgeKind.WRITES.value],
            direction=Direction.UPSTREAM,
            depth=1,
            limit=1_000,
        )
        producers = sorted({str(e.subject) for e in upstream.edges})
        if producers:
            findings.append((True, f"{dataset}: produced from {', '.join(producers[:5])}"))
        else:
            findings.append((False, f"{dataset}: no job or upstream dataset is known"))
    return findings


def _checks_passing(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings: list[Finding] = []
    for dataset in facts.datasets:
        checks = catalog.checks(store, dataset)
        if not checks:
            findings.append((not spec.parameter("require_checks"), f"{dataset}: no checks"))
        failing = [c for c in checks if _status(c) not in PASSING_CHECK_STATUSES]
        findings += [(False, f"{dataset}: check {_label(c)} is {_status(c)}") for c in failing]
        if checks and not failing:
            findings.append((True, f"{dataset}: {len(checks)} check(s) pass on their latest run"))
    return findings


def _status(check: NodeView) -> str:
    return str(check.attrs.get("status") or "never run")


def _label(check: NodeView) -> str:
    return str(check.attrs.get("name") or check.ref.name)


def _runbook_and_escalation(
    store: Store, spec: CriterionSpec, facts: ProductFacts
) -> list[Finding]:
    findings = []
    for dataset in facts.datasets:
        owners = {o.owner.ref.key: o.owner for o in facts.owners.get(dataset.key, [])}.values()
        runbooks = sorted(owner_key(o.ref) for o in owners if o.attrs.get("runbook"))
        escalation = sorted(
            owner_key(o.ref) for o in owners if o.attrs.get("pager") or o.attrs.get("escalation")
        )
        findings.append(
            (True, f"{dataset}: runbook from {', '.join(runbooks)}")
            if runbooks
            else (False, f"{dataset}: no owner gives a runbook")
        )
        findings.append(
            (True, f"{dataset}: escalation via {', '.join(escalation)}")
            if escalation
            else (False, f"{dataset}: no owner gives a pager or an escalation list")
        )
    return findings


def _columns_classified(store: Store, spec: CriterionSpec, facts: ProductFacts) -> list[Finding]:
    findings: list[Finding] = []
    for dataset in facts.datasets:
        declared = [
            c
            for v in facts.contracts[dataset.key]
            for d in v.datasets
            if d.ref == dataset
            for c in d.columns
        ]
        unclassified = sorted({c.name for c in declared if not c.classification})
        if not declared:
            findings.append((False, f"{dataset}: no contract declares its columns"))
        elif unclassified:
            findings.append((False, f"{dataset}: unclassified {', '.join(unclassified)}"))
        else:
            findings.append((True, f"{dataset}: all {len(declared)} columns classified"))
    return findings


CRITERIA: dict[Criterion, Callable[[Store, CriterionSpec, ProductFacts], list[Finding]]] = {
    Criterion.OWNERS: _owners,
    Criterion.CONTRACT_PUBLISHED: _contract_published,
    Criterion.NO_CONTRACT_DRIFT: _no_contract_drift,
    Criterion.NO_BREAKING_IMPACT: _no_breaking_impact,
    Criterion.LINEAGE_PRESENT: _lineage_present,
    Criterion.CHECKS_PASSING: _checks_passing,
    Criterion.RUNBOOK_AND_ESCALATION: _runbook_and_escalation,
    Criterion.COLUMNS_CLASSIFIED: _columns_classified,
}
"""Every built-in criterion; docs/handoffs.md describes each and a test keeps them in step."""
