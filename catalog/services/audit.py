"""The auditor's side of the ledger: browsing it and proving it intact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TextIO

from catalog.domain import JsonObject, NodeRef
from catalog.errors import NotFound
from catalog.ledger import LedgerEntry, Verification, export_line, verify
from catalog.services.limits import DEFAULT_LIMITS, Limits, check_range
from catalog.stores.protocol import LedgerQuery, Store


def ledger_page(
    store: Store, query: LedgerQuery, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[LedgerEntry], bool]:
    """Entries matching `query`, and whether more follow."""
    check_range("first", query.limit, limits.max_page_size)
    found = store.ledger(replace(query, limit=query.limit + 1))
    return found[: query.limit], len(found) > query.limit


def verify_ledger(store: Store) -> Verification:
    return verify(store.ledger_entries())


@dataclass(frozen=True)
class AssertionDiff:
    """One assertion as a ledger entry left it: added, ended, or changed (ended and added
    again by the same source with other attributes), with its attributes before and after."""

    source: str
    kind: str
    subject: NodeRef
    object: NodeRef | None
    before: JsonObject | None
    after: JsonObject | None

    @property
    def op(self) -> str:
        if self.before is None:
            return "added"
        return "ended" if self.after is None else "changed"

    @property
    def changed_properties(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True)
class EntryDetail:
    entry: LedgerEntry
    diffs: list[AssertionDiff]
    truncated: bool


def entry_detail(
    store: Store, seq: int, first: int = 1_000, limits: Limits = DEFAULT_LIMITS
) -> EntryDetail:
    """What entry `seq` changed, each assertion with its attributes before and after."""
    check_range("first", first, limits.max_detail_changes)
    found = store.ledger(LedgerQuery(after_seq=seq - 1, limit=1))
    if not found or found[0].seq != seq:
        raise NotFound(f"no ledger entry {seq}")
    changes = store.entry_changes(seq, 2 * first + 1)  # a change is an end and an add
    pairs: dict[tuple[str, str, str, str], AssertionDiff] = {}
    for c in changes:
        key = (c.source, c.kind, c.subject.key, c.object.key if c.object else "")
        known = pairs.get(key) or AssertionDiff(c.source, c.kind, c.subject, c.object, None, None)
        ended = c.op == "ended"
        pairs[key] = replace(known, before=c.attrs) if ended else replace(known, after=c.attrs)
    diffs = list(pairs.values())
    return EntryDetail(found[0], diffs[:first], len(diffs) > first or len(changes) > 2 * first)


def export_lines(store: Store) -> Iterator[str]:
    """The whole ledger as JSON Lines (`ledger.export_line`), streamed, newline-terminated."""
    for entry in store.ledger_entries():
        yield export_line(entry) + "\n"


def export(store: Store, sink: TextIO) -> int:
    """Write the whole ledger as JSON Lines to `sink`; returns the count."""
    count = 0
    for line in export_lines(store):
        sink.write(line)
        count += 1
    return count
