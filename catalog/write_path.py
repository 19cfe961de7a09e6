"""The one write path: every change to the graph goes through `write_batch`.

Inside a single store transaction it compares each source's snapshot with what that source
asserts now, ends what the source no longer says, adds what is new, and appends one
ledger entry describing exactly that. Identical input yields no changes and no entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from catalog.alerts.events import derive as derive_events
from catalog.collector import collector_paused
from catalog.domain import (
    Assertion,
    Batch,
    IngestError,
    NodeKind,
    NodeRef,
    SourceSnapshot,
)
from catalog.ledger import GENESIS_HASH, Change, ChangeOp, LedgerDraft, LedgerEntry, seal
from catalog.stores.protocol import SourcedIdentity, Store, WriteTx

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WriteRequest:
    """Who writes, from where, and why: recorded in the ledger entry."""

    actor: str
    source: str
    reason: str


@dataclass
class WriteResult:
    entry: LedgerEntry | None
    errors: list[IngestError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.entry is not None

    @property
    def summary(self) -> dict[str, int]:
        return self.entry.summary if self.entry else {}

    @property
    def ledger_seq(self) -> int | None:
        """The ledger entry written; None when nothing changed."""
        return self.entry.seq if self.entry else None


@dataclass(frozen=True)
class Diff:
    added: list[tuple[str, Assertion]]
    ended: list[SourcedIdentity]

    def __bool__(self) -> bool:
        return bool(self.added or self.ended)


def diff_snapshots(
    snapshots: Iterable[SourceSnapshot], current: dict[SourcedIdentity, str]
) -> Diff:
    """What must start and end so the store holds exactly what each snapshot asserts.

    An assertion whose attributes changed is ended and added again, so history keeps both.
    An incomplete snapshot only adds: it ends nothing it omits and changes nothing already
    asserted (a late provisional event never overwrites what a complete one said).
    """
    added: list[tuple[str, Assertion]] = []
    ended: list[SourcedIdentity] = []
    held: dict[str, dict[tuple[str, str, str], str]] = {}
    for (source, identity), digest in current.items():
        held.setdefault(source, {})[identity] = digest
    for snapshot in snapshots:
        source, known = snapshot.source, held.get(snapshot.source, {})
        asserted = {a.identity: a for a in snapshot.assertions}
        for identity, assertion in asserted.items():
            known_digest = known.get(identity)
            if known_digest is None:
                added.append((source, assertion))
            elif snapshot.complete and known_digest != assertion.attrs_digest:
                ended.append((source, identity))
                added.append((source, assertion))
        if snapshot.complete:
            ended.extend((source, identity) for identity in known if identity not in asserted)
    return Diff(added=added, ended=ended)


def _changes(diff: Diff) -> list[Change]:
    ended_op, added_op = ChangeOp.ENDED, ChangeOp.ADDED  # enum lookups, once not per row
    ended = [
        Change(ended_op, source, kind, subject, obj or None, "")
        for source, (kind, subject, obj) in diff.ended
    ]
    added = [
        Change(
            added_op,
            source,
            a.kind,
            a.subject.key,
            a.object.key if a.object else None,
            a.attrs_digest,
        )
        for source, a in diff.added
    ]
    return ended + added


ENTITY_KINDS = frozenset({NodeKind.DATASET, NodeKind.JOB, NodeKind.CONSUMER})


def _touched_entities(diff: Diff) -> list[str]:
    """Datasets, jobs and consumers a diff touches (a column change touches its dataset).
    Added assertions carry their refs; only ended ones are known by key alone."""
    refs: dict[str, NodeRef] = {}  # each node once: a large write names each many times
    for _, a in diff.added:
        refs[a.subject.key] = a.subject
        if a.object is not None:
            refs[a.object.key] = a.object
    for _, (_, subject, obj) in diff.ended:
        for key in (subject, obj):
            if key and key not in refs:
                refs[key] = NodeRef.from_key(key)
    touched = {
        ref.dataset_key
        for ref in refs.values()
        if ref.kind in ENTITY_KINDS or ref.kind is NodeKind.COLUMN
    }
    return sorted(touched)


def _retired(tx: WriteTx, batch: Batch) -> list[SourceSnapshot]:
    """An empty, complete snapshot for each source of the batch's scopes that is gone: what
    it said ends, with history."""
    gone = {
        source
        for scope in batch.scopes
        for source in tx.open_sources(scope.prefix)
        if source not in scope.present
    }
    return [SourceSnapshot(source=s, assertions=[], complete=True) for s in sorted(gone)]


def write_batch(
    store: Store, batch: Batch, request: WriteRequest, *, clock: Clock = utc_now
) -> WriteResult:
    """Apply a batch atomically; report its errors and the ledger entry (None: no changes)."""
    with collector_paused():
        entry = store.write(lambda tx: apply_batch(tx, batch, request, clock=clock))
    return WriteResult(entry=entry, errors=list(batch.errors), counts=batch.counts)


def apply_batch(
    tx: WriteTx, batch: Batch, request: WriteRequest, *, clock: Clock = utc_now
) -> LedgerEntry | None:
    """The unit of work of `write_batch`, inside a transaction the caller holds (the alert
    queue records alert state changes in the same transaction as the queue's own)."""
    snapshots = batch.snapshots + _retired(tx, batch)
    current = tx.open_assertions([s.source for s in snapshots])
    diff = diff_snapshots(snapshots, current)
    if not diff:
        return None
    changes = _changes(diff)
    head = tx.ledger_head()
    # Ledger time strictly increases, so every instant names at most one `seq`.
    at = max(clock(), head.at + timedelta(microseconds=1)) if head else clock()
    entry = seal(
        LedgerDraft(
            actor=request.actor,
            source=request.source,
            reason=request.reason,
            changes=changes,
            entities=_touched_entities(diff),
        ),
        seq=head.seq + 1 if head else 1,
        at=at,
        prev_hash=head.hash if head else GENESIS_HASH,
    )
    tx.commit(entry, diff.added, diff.ended, derive_events(diff.added, diff.ended))
    return entry
