"""The audit ledger: entries hash-chained so that any edit, deletion or reordering shows.

Sealing and verifying are pure functions over entries; stores only persist them. Each
entry's hash covers its content and the previous entry's hash, and sequence numbers are
contiguous from 1, so `verify` can name the first entry where the chain breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.domain import canonical_json

GENESIS_HASH = "0" * 64


class ChangeOp(StrEnum):
    ADDED = "added"
    ENDED = "ended"


class Change(BaseModel):
    """One assertion starting or ending its validity."""

    model_config = ConfigDict(frozen=True)

    op: ChangeOp
    source: str
    kind: str
    subject: str
    object: str | None = None
    attrs_digest: str


class LedgerDraft(BaseModel):
    """What the write path knows about a write before the store places it in the chain."""

    actor: str
    source: str
    reason: str
    changes: list[Change]
    entities: list[str] = Field(description="Keys of datasets and jobs the write touched")

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            label = f"{change.op.value}:{change.kind}"
            counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items()))


class LedgerEntry(LedgerDraft):
    seq: int
    at: datetime
    prev_hash: str
    hash: str

    def hashed_content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "source": self.source,
            "reason": self.reason,
            "changes": [c.model_dump(mode="json") for c in self.changes],
            "entities": self.entities,
            "prev_hash": self.prev_hash,
        }


def entry_hash(entry: LedgerEntry) -> str:
    return hashlib.sha256(canonical_json(entry.hashed_content()).encode()).hexdigest()


def seal(draft: LedgerDraft, *, seq: int, at: datetime, prev_hash: str) -> LedgerEntry:
    """Place a draft in the chain after the entry whose hash is `prev_hash`."""
    entry = LedgerEntry(**draft.model_dump(), seq=seq, at=at, prev_hash=prev_hash, hash="")
    return entry.model_copy(update={"hash": entry_hash(entry)})


class Verification(BaseModel):
    """The outcome of recomputing the chain."""

    ok: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(entries: Iterable[LedgerEntry]) -> Verification:
    """Walk entries in stored order; report the first that breaks the chain."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in entries:
        problem = None
        if entry.seq != expected_seq:
            problem = (
                f"expected sequence {expected_seq}, found {entry.seq} (entry missing or moved)"
            )
        elif entry.prev_hash != prev_hash:
            problem = "previous-hash link does not match the entry before it"
        elif entry_hash(entry) != entry.hash:
            problem = "content does not match its hash (entry was altered)"
        if problem:
            return Verification(
                ok=False,
                entries_checked=checked,
                head_hash=prev_hash,
                first_bad_seq=entry.seq,
                problem=problem,
            )
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return Verification(ok=True, entries_checked=checked, head_hash=prev_hash)
