"""Ownership maps: who owns which data, in which role, from when to when.

A map (YAML, documented in docs/ownership.md) declares owners (people and teams, with
contact and escalation) and rules that assign them roles on datasets matched by a
`namespace/name` glob or by domain, in the spirit of CODEOWNERS. For each dataset and role
the most specific matching rule wins: an exact name over any glob, a glob with more
literal characters over one with fewer, any name pattern over a domain. Two different
assignments at the same specificity are a conflict: it is reported, and the later rule in
the file wins (as in CODEOWNERS).

`read_map` validates (every problem with its path); `resolve` is pure over the datasets
the catalog knows; `snapshot` turns the result into the map's source snapshot.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog import durations
from catalog.domain import (
    EdgeKind,
    IngestError,
    NodeRef,
    SnapshotBuilder,
    SourceSnapshot,
    column_ref,
    owner_named,
)
from ingesters.documents import read_yaml, validation_errors

SOURCE_PREFIX = "ownership-map:"


class Role(StrEnum):
    STEWARD = "steward"  # accuracy and timeliness of the data
    ENGINEER = "engineer"  # ingestion and transformation
    OPERATOR = "operator"  # availability and performance
    APPROVER = "approver"  # signs off handoffs
    CONSUMER = "consumer"  # consumer-side owner of a consumer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OwnerSpec(_Strict):
    """A person or team, and how to reach them when something breaks."""

    name: str | None = None
    email: str | None = None
    slack: str | None = None
    pager: str | None = Field(default=None, description="Who to page, e.g. an on-call rotation.")
    runbook: str | None = None
    escalation: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    """People (`person:<email>`) who act for a team, e.g. when signing off a handoff."""


class Rule(_Strict):
    match: str | None = None
    """`namespace/name` glob (`*`, `?`, `[...]`); `namespace/name` exactly when no wildcard."""
    domain: str | None = None
    columns: list[str] = Field(default_factory=list)
    """Assign on these columns of the matched datasets instead of the datasets."""
    owners: dict[Role, str | list[str]] = Field(default_factory=dict)
    effective_from: date | None = Field(default=None, alias="from")
    effective_to: date | None = Field(default=None, alias="to")
    freshness: str | None = None
    """How long the matched datasets may go without a successful write (`4h`, `1d`);
    the most specific rule with one wins. Freshness alerts and `baton freshness check`."""

    @model_validator(mode="after")
    def _one_selector(self) -> Rule:
        if (self.match is None) == (self.domain is None):
            raise ValueError("a rule needs exactly one of `match` and `domain`")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("`to` is before `from`")
        if not self.owners and self.freshness is None:
            raise ValueError("a rule needs `owners`, `freshness` or both")
        if self.freshness is not None:
            durations.seconds(self.freshness)
        return self

    def owner_names(self, role: Role) -> list[str]:
        names = self.owners[role]
        return [names] if isinstance(names, str) else list(names)

    @property
    def specificity(self) -> tuple[int, int]:
        """(tier, literal characters): exact name 3, glob 2, domain 1."""
        if self.match is None:
            return (1, 0)
        wildcards = sum(self.match.count(c) for c in "*?[")
        literal = len(self.match) - wildcards
        return (2 if wildcards else 3, literal)


class OwnershipMap(_Strict):
    version: Literal[1]
    name: str = "default"
    """The map's source is `ownership-map:<name>`: applying a new version of a map with
    the same name replaces what the old one assigned."""
    owners: dict[str, OwnerSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """A dataset the catalog knows, as rules see it."""

    ref: NodeRef
    domain: str | None = None


@dataclass(frozen=True)
class Assignment:
    owner: str
    role: Role
    target: NodeRef
    rule: int  # index in the map's rules
    effective_from: date | None
    effective_to: date | None


@dataclass(frozen=True)
class Conflict:
    target: NodeRef
    role: Role
    rules: tuple[int, int]
    owners: tuple[tuple[str, ...], tuple[str, ...]]

    def __str__(self) -> str:
        first, second = self.rules
        return (
            f"{self.target}: rules {first} and {second} are equally specific and give "
            f"{self.role.value} to {', '.join(self.owners[0])} and {', '.join(self.owners[1])}; "
            f"rule {second} (the later) wins"
        )


def read_map(path: Path) -> tuple[OwnershipMap | None, list[IngestError]]:
    """The map, or None and every problem (file, path, reason)."""
    source = path.as_posix()
    document, errors = read_yaml(path)
    if errors:
        return None, errors
    try:
        parsed = OwnershipMap.model_validate(document)
    except ValidationError as invalid:
        return None, validation_errors(source, invalid)
    errors = [
        IngestError(
            source=source,
            field=f"$.rules[{i}].owners.{role.value}",
            message=f"owner {name!r} is not declared under `owners`",
        )
        for i, rule in enumerate(parsed.rules)
        for role in rule.owners
        for name in rule.owner_names(role)
        if name not in parsed.owners
    ]
    errors += [
        IngestError(
            source=source,
            field=f"$.owners.{key}",
            message=f"{key!r} is not `person:<email or name>` or `team:<name>`",
        )
        for key in parsed.owners
        if not key.startswith(("person:", "team:"))
    ]
    return (None if errors else parsed), errors


def resolve(
    ownership: OwnershipMap, targets: Iterable[Target]
) -> tuple[list[Assignment], list[Conflict]]:
    """For each target and role, the owners of the most specific matching rules (several
    when their effective periods do not overlap, as in a dated handoff)."""
    assignments: list[Assignment] = []
    conflicts: list[Conflict] = []
    for target in targets:
        candidates: dict[tuple[Role, tuple[str, ...]], list[int]] = {}
        for index, rule in enumerate(ownership.rules):
            if _matches(rule, target):
                for role in rule.owners:
                    candidates.setdefault((role, tuple(rule.columns)), []).append(index)
        for (role, columns), found in sorted(
            candidates.items(), key=lambda i: (i[0][0].value, i[0][1])
        ):
            top = max(ownership.rules[i].specificity for i in found)
            chosen: list[int] = []
            for index in (i for i in found if ownership.rules[i].specificity == top):
                rule = ownership.rules[index]
                for other in [c for c in chosen if _clash(ownership.rules[c], rule, role)]:
                    owners = (
                        tuple(ownership.rules[other].owner_names(role)),
                        tuple(rule.owner_names(role)),
                    )
                    conflicts.append(Conflict(target.ref, role, (other, index), owners))
                    chosen.remove(other)
                chosen.append(index)
            places = [column_ref(target.ref.namespace, target.ref.name, c) for c in columns]
            for index in chosen:
                rule = ownership.rules[index]
                assignments += [
                    Assignment(name, role, place, index, rule.effective_from, rule.effective_to)
                    for place in places or [target.ref]
                    for name in rule.owner_names(role)
                ]
    return assignments, conflicts


@dataclass(frozen=True)
class FreshnessRule:
    """The freshness promise a map makes for one dataset."""

    within: str
    seconds: float
    rule: int


def freshness(ownership: OwnershipMap, targets: Iterable[Target]) -> dict[NodeRef, FreshnessRule]:
    """For each target, the freshness of the most specific matching rule that sets one
    (the later of equally specific rules)."""
    found: dict[NodeRef, FreshnessRule] = {}
    for target in targets:
        matching = [
            (rule.specificity, index, rule.freshness)
            for index, rule in enumerate(ownership.rules)
            if rule.freshness is not None and _matches(rule, target)
        ]
        if matching:
            _, index, within = max(matching)
            assert within is not None
            found[target.ref] = FreshnessRule(within, durations.seconds(within), index)
    return found


def _clash(first: Rule, second: Rule, role: Role) -> bool:
    """Two rules give a role to different owners over overlapping periods."""
    if first.owner_names(role) == second.owner_names(role):
        return False
    starts_after = (
        first.effective_to is not None
        and second.effective_from is not None
        and second.effective_from > first.effective_to
    )
    ends_before = (
        second.effective_to is not None
        and first.effective_from is not None
        and second.effective_to < first.effective_from
    )
    return not (starts_after or ends_before)


def _matches(rule: Rule, target: Target) -> bool:
    if rule.domain is not None:
        return target.domain == rule.domain
    assert rule.match is not None
    return fnmatch.fnmatchcase(f"{target.ref.namespace}/{target.ref.name}", rule.match)


def snapshot(
    name: str,
    ownership: OwnershipMap,
    assignments: Iterable[Assignment],
    promises: Mapping[NodeRef, FreshnessRule] | None = None,
) -> SourceSnapshot:
    """The map's owners (with contact and escalation), the OWNS edges it assigns and the
    freshness it promises for datasets."""
    builder = SnapshotBuilder(SOURCE_PREFIX + name)
    for target, promise in (promises or {}).items():
        builder.node(
            target,
            freshness_sla={"within": promise.within, "seconds": promise.seconds,
                           "source": f"{SOURCE_PREFIX}{name} rule {promise.rule}"},
        )  # fmt: skip
    for key, spec in ownership.owners.items():
        builder.node(owner_named(key), **spec.model_dump(exclude_none=True, exclude_defaults=True))
    for a in assignments:
        dates = {
            k: v.isoformat()
            for k, v in (("effective_from", a.effective_from), ("effective_to", a.effective_to))
            if v is not None
        }
        target = builder.node(a.target)
        if a.target.column is not None:
            builder.edge(EdgeKind.HAS_COLUMN, builder.node(a.target.dataset), target)
        builder.owns(
            owner_named(a.owner), target, a.role.value, via="ownership map", rule=a.rule, **dates
        )
    return builder.build()
