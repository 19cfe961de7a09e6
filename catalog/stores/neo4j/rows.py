"""Turning the write path's changes into the parameter rows the Cypher statements take,
and records back into domain objects. Pure: unit-tested without a server."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from catalog.alerts.events import AlertEvent
from catalog.domain import FACT, Assertion, NodeRef, canonical_json
from catalog.ledger import Change, LedgerEntry
from catalog.stores.protocol import SourcedIdentity

T = TypeVar("T")
Row = dict[str, Any]


def node_rows(added: Sequence[tuple[str, Assertion]]) -> list[Row]:
    """Every node an added assertion touches, once."""
    refs: dict[str, NodeRef] = {}
    for _, assertion in added:
        for ref in (assertion.subject, assertion.object):
            if ref is not None:
                refs.setdefault(ref.key, ref)
    return [
        {"key": r.key, "kind": r.kind.value, "namespace": r.namespace, "name": r.name,
         "column": r.column}
        for r in refs.values()
    ]  # fmt: skip


def added_rows(added: Sequence[tuple[str, Assertion]]) -> tuple[list[Row], list[Row]]:
    """(facts, edges) to create; `ord` keeps the order the write path gave them, which is
    the order reads merge a node's attributes in."""
    facts: list[Row] = []
    edges: list[Row] = []
    for ord_, (source, a) in enumerate(added):
        row = {"source": source, "subject": a.subject.key, "attrs": a.attrs_json,
               "digest": a.attrs_digest, "ord": ord_}  # fmt: skip
        if a.kind == FACT:
            facts.append(row)
        else:
            assert a.object is not None
            edges.append({**row, "kind": a.kind, "object": a.object.key})
    return facts, edges


def event_rows(events: Sequence[AlertEvent]) -> list[Row]:
    """Alert events as outbox node properties (attributes as JSON, like assertions')."""
    return [
        {
            "type": e.type.value,
            "subject": e.subject.key,
            "source": e.source,
            "attrs": canonical_json(e.attrs),
        }
        for e in events
    ]


def ended_rows(ended: Sequence[SourcedIdentity]) -> tuple[list[Row], list[Row]]:
    """(facts, edges) to end, by identity within their source."""
    facts = [{"source": s, "subject": subj} for s, (kind, subj, _) in ended if kind == FACT]
    edges = [
        {"source": s, "kind": kind, "subject": subj, "object": obj}
        for s, (kind, subj, obj) in ended
        if kind != FACT
    ]
    return facts, edges


def open_identities(facts: Iterable[Row], edges: Iterable[Row]) -> dict[SourcedIdentity, str]:
    """Open assertions as the write path compares them: identity -> attrs digest."""
    found = {(r["source"], (FACT, r["subject"], "")): r["digest"] for r in facts}
    found |= {(r["source"], (r["kind"], r["subject"], r["object"])): r["digest"] for r in edges}
    return found


def ledger_properties(entry: LedgerEntry) -> Row:
    """A ledger entry as node properties (lists of strings and scalars only)."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "source": entry.source,
        "reason": entry.reason,
        "changes": json.dumps(list(entry.changes)),
        "entities": list(entry.entities),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def ledger_entry(properties: Row) -> LedgerEntry:
    return LedgerEntry(
        seq=properties["seq"],
        at=datetime.fromisoformat(properties["at"]),
        actor=properties["actor"],
        source=properties["source"],
        reason=properties["reason"],
        changes=[Change.from_row(row) for row in json.loads(properties["changes"])],
        entities=list(properties["entities"]),
        prev_hash=properties["prev_hash"],
        hash=properties["hash"],
    )


def json_object(text: str) -> dict[str, Any]:
    """Attributes are stored as canonical JSON text (Neo4j properties cannot nest)."""
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def batches(rows: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`rows` in slices of at most `size`: each is one UNWIND statement."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
