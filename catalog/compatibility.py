"""Which changes between two contract versions break consumers: one table of rules.

`diff(old, new)` lists every change, each classified by `RULES` (breaking or not, and
why). The viewpoint is the consumer's: a change is breaking when something a consumer
could rely on under the old version no longer holds, or when writers that conformed to the
old version would violate the new one. docs/contracts.md prints the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.contracts import ContractColumn, ContractDataset, ContractVersion, QualityRule


class ChangeKind(StrEnum):
    DATASET_REMOVED = "DATASET_REMOVED"
    DATASET_ADDED = "DATASET_ADDED"
    COLUMN_REMOVED = "COLUMN_REMOVED"
    COLUMN_RENAMED = "COLUMN_RENAMED"
    COLUMN_ADDED = "COLUMN_ADDED"
    TYPE_WIDENED = "TYPE_WIDENED"
    TYPE_NARROWED = "TYPE_NARROWED"
    TYPE_CHANGED = "TYPE_CHANGED"
    NULLABLE_TO_REQUIRED = "NULLABLE_TO_REQUIRED"
    REQUIRED_TO_NULLABLE = "REQUIRED_TO_NULLABLE"
    PRIMARY_KEY_CHANGED = "PRIMARY_KEY_CHANGED"
    UNIQUE_DROPPED = "UNIQUE_DROPPED"
    UNIQUE_ADDED = "UNIQUE_ADDED"
    QUALITY_RULE_REMOVED = "QUALITY_RULE_REMOVED"
    QUALITY_RULE_CHANGED = "QUALITY_RULE_CHANGED"
    QUALITY_RULE_ADDED = "QUALITY_RULE_ADDED"
    SLA_WEAKENED = "SLA_WEAKENED"
    SLA_STRENGTHENED = "SLA_STRENGTHENED"
    SLA_REMOVED = "SLA_REMOVED"
    SLA_ADDED = "SLA_ADDED"
    CLASSIFICATION_CHANGED = "CLASSIFICATION_CHANGED"
    DESCRIPTION_CHANGED = "DESCRIPTION_CHANGED"


@dataclass(frozen=True)
class Rule:
    breaking: bool
    reason: str


RULES: dict[ChangeKind, Rule] = {
    ChangeKind.DATASET_REMOVED: Rule(True, "consumers of the table lose it"),
    ChangeKind.DATASET_ADDED: Rule(False, "a new table changes nothing that exists"),
    ChangeKind.COLUMN_REMOVED: Rule(True, "queries selecting the column fail"),
    ChangeKind.COLUMN_RENAMED: Rule(True, "queries using the old name fail"),
    ChangeKind.COLUMN_ADDED: Rule(False, "existing queries do not see it"),
    ChangeKind.TYPE_WIDENED: Rule(False, "every old value still fits"),
    ChangeKind.TYPE_NARROWED: Rule(True, "values writers could send no longer fit"),
    ChangeKind.TYPE_CHANGED: Rule(True, "consumers parse or compare the values differently"),
    ChangeKind.NULLABLE_TO_REQUIRED: Rule(True, "writers that send nulls now break the contract"),
    ChangeKind.REQUIRED_TO_NULLABLE: Rule(True, "consumers relying on a value may get nulls"),
    ChangeKind.PRIMARY_KEY_CHANGED: Rule(True, "joins and deduplication on the key change"),
    ChangeKind.UNIQUE_DROPPED: Rule(True, "consumers relying on uniqueness may get duplicates"),
    ChangeKind.UNIQUE_ADDED: Rule(False, "a stronger guarantee for consumers"),
    ChangeKind.QUALITY_RULE_REMOVED: Rule(True, "a guarantee consumers had is withdrawn"),
    ChangeKind.QUALITY_RULE_CHANGED: Rule(True, "the guarantee differs; it may be weaker"),
    ChangeKind.QUALITY_RULE_ADDED: Rule(False, "a stronger guarantee for consumers"),
    ChangeKind.SLA_WEAKENED: Rule(True, "consumers get less than they were promised"),
    ChangeKind.SLA_STRENGTHENED: Rule(False, "consumers get more than they were promised"),
    ChangeKind.SLA_REMOVED: Rule(True, "a service level consumers had is withdrawn"),
    ChangeKind.SLA_ADDED: Rule(False, "a new promise changes nothing that exists"),
    ChangeKind.CLASSIFICATION_CHANGED: Rule(True, "who may read the data changes"),
    ChangeKind.DESCRIPTION_CHANGED: Rule(False, "documentation only"),
}


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    subject: str
    """What changed: `table`, `table.column`, `table.column quality <rule>`, `sla <property>`."""
    before: str | None = None
    after: str | None = None

    @property
    def breaking(self) -> bool:
        return RULES[self.kind].breaking

    @property
    def reason(self) -> str:
        return RULES[self.kind].reason

    def __str__(self) -> str:
        values = f" ({self.before} -> {self.after})" if self.before or self.after else ""
        return f"{self.kind.value} {self.subject}{values}: {self.reason}"


def diff(old: ContractVersion, new: ContractVersion) -> list[Change]:
    """Every change from `old` to `new`, in a stable order."""
    changes: list[Change] = []
    before = {d.object_name: d for d in old.datasets}
    after = {d.object_name: d for d in new.datasets}
    for name in sorted(before.keys() - after.keys()):
        changes.append(Change(ChangeKind.DATASET_REMOVED, name))
    for name in sorted(after.keys() - before.keys()):
        changes.append(Change(ChangeKind.DATASET_ADDED, name))
    for name in sorted(before.keys() & after.keys()):
        changes += _dataset_changes(before[name], after[name])
    changes += _sla_changes(old, new)
    return changes


def _dataset_changes(old: ContractDataset, new: ContractDataset) -> Iterator[Change]:
    table = old.object_name
    renamed = _renames(old, new)
    gone = {c.name for c in old.columns} - {c.name for c in new.columns} - renamed.keys()
    added = {c.name for c in new.columns} - {c.name for c in old.columns} - set(renamed.values())
    for name in sorted(gone):
        yield Change(ChangeKind.COLUMN_REMOVED, f"{table}.{name}")
    for old_name, new_name in sorted(renamed.items()):
        yield Change(ChangeKind.COLUMN_RENAMED, f"{table}.{old_name}", old_name, new_name)
    for name in sorted(added):
        yield Change(ChangeKind.COLUMN_ADDED, f"{table}.{name}")
    for column in old.columns:
        counterpart = new.column(renamed.get(column.name, column.name))
        if counterpart is not None:
            yield from _column_changes(f"{table}.{column.name}", column, counterpart)
    old_key = [c.name for c in sorted(_key(old), key=lambda c: c.primary_key_position or 0)]
    new_key = [c.name for c in sorted(_key(new), key=lambda c: c.primary_key_position or 0)]
    if [renamed.get(n, n) for n in old_key] != new_key:
        yield Change(ChangeKind.PRIMARY_KEY_CHANGED, table, ", ".join(old_key), ", ".join(new_key))
    yield from _quality_changes(table, old.quality, new.quality)


def _key(dataset: ContractDataset) -> list[ContractColumn]:
    return [c for c in dataset.columns if c.primary_key_position is not None]


def _renames(old: ContractDataset, new: ContractDataset) -> dict[str, str]:
    """Columns whose stable id stayed while the name changed."""
    by_id = {c.property_id: c.name for c in new.columns if c.property_id}
    return {
        c.name: by_id[c.property_id]
        for c in old.columns
        if c.property_id in by_id and by_id[c.property_id] != c.name
    }


def _column_changes(subject: str, old: ContractColumn, new: ContractColumn) -> Iterator[Change]:
    type_change = _type_change(old, new)
    if type_change is not None:
        yield Change(type_change, subject, _type_label(old), _type_label(new))
    if not old.required and new.required:
        yield Change(ChangeKind.NULLABLE_TO_REQUIRED, subject)
    if old.required and not new.required:
        yield Change(ChangeKind.REQUIRED_TO_NULLABLE, subject)
    if old.unique and not new.unique:
        yield Change(ChangeKind.UNIQUE_DROPPED, subject)
    if new.unique and not old.unique:
        yield Change(ChangeKind.UNIQUE_ADDED, subject)
    if (old.classification or "") != (new.classification or ""):
        yield Change(
            ChangeKind.CLASSIFICATION_CHANGED, subject, old.classification, new.classification
        )
    if (old.description or "") != (new.description or ""):
        yield Change(ChangeKind.DESCRIPTION_CHANGED, subject)
    yield from _quality_changes(subject, old.quality, new.quality)


def _quality_changes(
    subject: str, old: tuple[QualityRule, ...], new: tuple[QualityRule, ...]
) -> Iterator[Change]:
    before = {q.name: q for q in old}
    after = {q.name: q for q in new}
    for name in sorted(before.keys() - after.keys()):
        yield Change(ChangeKind.QUALITY_RULE_REMOVED, f"{subject} quality {name}")
    for name in sorted(after.keys() - before.keys()):
        yield Change(ChangeKind.QUALITY_RULE_ADDED, f"{subject} quality {name}")
    for name in sorted(before.keys() & after.keys()):
        if before[name].definition != after[name].definition:
            yield Change(ChangeKind.QUALITY_RULE_CHANGED, f"{subject} quality {name}")


# Types, compared by what values they admit.

_INTEGER_WIDTH = {
    exp.DataType.Type.TINYINT: 1,
    exp.DataType.Type.SMALLINT: 2,
    exp.DataType.Type.INT: 4,
    exp.DataType.Type.BIGINT: 8,
    exp.DataType.Type.INT128: 16,
}
_FLOAT_WIDTH = {exp.DataType.Type.FLOAT: 4, exp.DataType.Type.DOUBLE: 8}
_TEXT = {
    exp.DataType.Type.TEXT,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NCHAR,
}
_UNBOUNDED = 1 << 62
_LOGICAL_WIDER = {("integer", "number")}
"""ODCS logical types where the second admits every value of the first."""


def _type_label(column: ContractColumn) -> str:
    return column.physical_type or column.logical_type or "unspecified"


def _type_change(old: ContractColumn, new: ContractColumn) -> ChangeKind | None:
    if old.physical_type and new.physical_type:
        return _physical_change(old.physical_type, new.physical_type)
    before, after = (old.logical_type or "").lower(), (new.logical_type or "").lower()
    if before == after or not before or not after:
        return None
    return ChangeKind.TYPE_WIDENED if (before, after) in _LOGICAL_WIDER else ChangeKind.TYPE_CHANGED


def same_type(declared: str, actual: str) -> bool:
    """Whether two type declarations admit the same values (`text` and `varchar`,
    `numeric(12,2)` and `DECIMAL(12, 2)`); an unknown actual type never differs."""
    return actual.upper() == "UNKNOWN" or _physical_change(declared, actual) is None


def widens(old: str, new: str) -> bool:
    """Whether a column retyped from `old` to `new` still holds every old value."""
    return _physical_change(old, new) in (None, ChangeKind.TYPE_WIDENED)


def _physical_change(old: str, new: str) -> ChangeKind | None:
    try:
        before, after = exp.DataType.build(old), exp.DataType.build(new)
    except (SqlglotError, ValueError):
        same = _squash(old) == _squash(new)
        return None if same else ChangeKind.TYPE_CHANGED
    if before == after:
        return None
    verdict = _compare(before, after)
    if verdict is None:
        return ChangeKind.TYPE_CHANGED
    return {0: None, 1: ChangeKind.TYPE_WIDENED, -1: ChangeKind.TYPE_NARROWED}[verdict]


def _squash(type_text: str) -> str:
    return re.sub(r"\s+", "", type_text).upper()


def _compare(old: exp.DataType, new: exp.DataType) -> int | None:
    """1 if `new` admits every value of `old` and more, 0 if the same, -1 if fewer, None
    when they are not comparable."""
    a, b = old.this, new.this
    if a in _TEXT and b in _TEXT:
        return _order(_length(old), _length(new))
    if a in _INTEGER_WIDTH and b in _INTEGER_WIDTH:
        return _order(_INTEGER_WIDTH[a], _INTEGER_WIDTH[b])
    if a in _FLOAT_WIDTH and b in _FLOAT_WIDTH:
        return _order(_FLOAT_WIDTH[a], _FLOAT_WIDTH[b])
    if a in _INTEGER_WIDTH and b in (*_FLOAT_WIDTH, exp.DataType.Type.DECIMAL):
        return 1 if b is not exp.DataType.Type.DECIMAL or _decimal(new)[0] >= 19 else None
    if a is exp.DataType.Type.DECIMAL and b is exp.DataType.Type.DECIMAL:
        (p1, s1), (p2, s2) = _decimal(old), _decimal(new)
        if (p1, s1) == (p2, s2):
            return 0
        if s2 >= s1 and p2 - s2 >= p1 - s1:
            return 1
        if s2 <= s1 and p2 - s2 <= p1 - s1:
            return -1
        return None
    return None


def _order(before: int, after: int) -> int:
    return (after > before) - (after < before)


def _length(data_type: exp.DataType) -> int:
    """Declared length of a text type; unbounded when none is declared."""
    sizes = [e for e in data_type.expressions if isinstance(e, exp.DataTypeParam)]
    if not sizes or not sizes[0].this.is_int:
        return _UNBOUNDED
    return int(sizes[0].this.name)


def _decimal(data_type: exp.DataType) -> tuple[int, int]:
    params = [int(e.this.name) for e in data_type.expressions if isinstance(e, exp.DataTypeParam)]
    precision = params[0] if params else 38
    scale = params[1] if len(params) > 1 else 0
    return precision, scale


# SLA properties, by which direction is better for consumers.

_LOWER_IS_BETTER = {"latency", "frequency", "timetodetect", "timetonotify", "timetorepair"}
_HIGHER_IS_BETTER = {"retention", "availability", "generalavailability", "endofsupport"}
_SECONDS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
    "y": 31536000, "yr": 31536000, "year": 31536000, "years": 31536000,
}  # fmt: skip


def _sla_changes(old: ContractVersion, new: ContractVersion) -> Iterator[Change]:
    before = {(s.property, s.element): s for s in old.sla}
    after = {(s.property, s.element): s for s in new.sla}
    for key in sorted(before.keys() - after.keys(), key=str):
        yield Change(ChangeKind.SLA_REMOVED, _sla_subject(key))
    for key in sorted(after.keys() - before.keys(), key=str):
        yield Change(ChangeKind.SLA_ADDED, _sla_subject(key))
    for key in sorted(before.keys() & after.keys(), key=str):
        was, now = before[key], after[key]
        if (was.value, was.unit) == (now.value, now.unit):
            continue
        kind = _sla_direction(key[0], _amount(was.value, was.unit), _amount(now.value, now.unit))
        yield Change(
            kind,
            _sla_subject(key),
            _sla_label(was.value, was.unit),
            _sla_label(now.value, now.unit),
        )


def _sla_subject(key: tuple[str, str | None]) -> str:
    prop, element = key
    return f"sla {prop}" + (f" of {element}" if element else "")


def _sla_label(value: object, unit: str | None) -> str:
    return f"{value}{' ' + unit if unit else ''}"


def _amount(value: object, unit: str | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number * _SECONDS.get((unit or "").lower(), 1)


def _sla_direction(prop: str, before: float | None, after: float | None) -> ChangeKind:
    """Weakened or strengthened for consumers; a change that cannot be ordered counts as
    weakened, so it needs a major version and a conversation."""
    name = prop.replace("_", "").lower()
    if before is None or after is None or before == after:
        return ChangeKind.SLA_WEAKENED
    if name in _LOWER_IS_BETTER:
        return ChangeKind.SLA_STRENGTHENED if after < before else ChangeKind.SLA_WEAKENED
    if name in _HIGHER_IS_BETTER:
        return ChangeKind.SLA_STRENGTHENED if after > before else ChangeKind.SLA_WEAKENED
    return ChangeKind.SLA_WEAKENED
