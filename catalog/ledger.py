"""The audit ledger: entries hash-chained so that any edit, deletion or reordering shows.

Sealing and verifying are pure functions over entries; stores only persist them. Each
entry's hash covers its content and the previous entry's hash, and sequence numbers are
contiguous from 1, so `verify` can name the first entry where the chain breaks.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, overload

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from catalog.checkpoints import SignedCheckpoint, checkpoint_problem, key_id
from catalog.domain import canonical_json
from catalog.errors import DataLoss

GENESIS_HASH = "0" * 64


class ChangeOp(StrEnum):
    ADDED = "added"
    ENDED = "ended"


_OPS = {op.value: op for op in ChangeOp}
"""Ops by name: a dictionary lookup, where `ChangeOp(name)` costs a call per change read."""


class Change(NamedTuple):
    """One assertion starting or ending its validity. A tuple, so a list of changes is
    already the compact JSON form stored and hashed ([op, source, kind, subject, object,
    digest]); a write of a million assertions builds and encodes a million of them."""

    op: ChangeOp
    source: str
    kind: str
    subject: str
    object: str | None
    attrs_digest: str  # empty for ENDED

    @classmethod
    def from_row(cls, row: list[str | None]) -> Change:
        op, source, kind, subject, obj, attrs_digest = row
        assert op and source and kind and subject is not None and attrs_digest is not None
        return cls(_OPS[op], source, kind, subject, obj, attrs_digest)  # KeyError: no such op


class ChangesOnDemand(Sequence[Change]):
    """An entry's changes in the form a store keeps them (packed, or JSON text in older
    stores), read and parsed when first used: a page of entries shows their summaries
    without reading what may be a million changes each, and verifying an entry hashes
    its JSON as stored (an untouched entry's is the canonical JSON `seal` hashed) and
    counts its summary from the parsed rows, never building a `Change` nor encoding
    again (GitLab's entry: 1.0-1.3 s instead of 2.2). The JSON read is held with the
    changes. A stored form that cannot be read raises `UnreadableEntry`."""

    def __init__(self, seq: int, read: Callable[[], str | bytes]) -> None:
        self.seq = seq
        self._read: Callable[[], str | bytes] | None = read
        self._json: bytes | None = None
        self._rows: list[Any] | None = None
        self._changes: list[Change] | None = None

    @classmethod
    def held(cls, seq: int, stored: str | bytes) -> ChangesOnDemand:
        """Changes whose stored form is already read."""
        return cls(seq, lambda: stored)

    def stored_json(self) -> bytes:
        """The changes' JSON, UTF-8, as the store holds it."""
        if self._json is None:
            assert self._read is not None, "read whole: ask the changes"
            stored, self._read = self._read(), None
            try:
                self._json = unpacked_changes(stored)
            except zlib.error as error:
                raise self._unreadable(error) from error
        return self._json

    def summary(self) -> dict[str, int]:
        """`summary_of` these changes, counted from the parsed rows."""
        try:
            counts = Counter(f"{row[0]}:{row[2]}" for row in self._parsed())
        except (TypeError, IndexError, KeyError) as error:
            raise self._unreadable(error) from error
        return dict(sorted(counts.items()))

    def _parsed(self) -> list[Any]:
        if self._rows is None:
            try:
                self._rows = json.loads(self.stored_json())
            except ValueError as error:
                raise self._unreadable(error) from error
            if not isinstance(self._rows, list):
                raise self._unreadable(TypeError("not a list of changes"))
        return self._rows

    def _all(self) -> list[Change]:
        if self._changes is None:
            try:
                self._changes = [Change.from_row(row) for row in self._parsed()]
            except (ValueError, TypeError, KeyError, AssertionError) as error:
                raise self._unreadable(error) from error
            self._rows = None  # the changes hold what the rows did
        return self._changes

    def _unreadable(self, error: Exception) -> UnreadableEntry:
        return UnreadableEntry(self.seq, f"its changes are not what a write stored ({error})")

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> Change: ...
    @overload
    def __getitem__(self, index: slice) -> list[Change]: ...
    def __getitem__(self, index: int | slice) -> Change | list[Change]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Change]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._all() == list(other)

    __hash__ = None  # type: ignore[assignment]


class UnreadableEntry(DataLoss, ValueError):
    """A stored entry that cannot be read back (its changes are not what a write stored):
    `verify` reports it as where the chain breaks; a read of it fails with `DATA_LOSS`."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"entry {seq} cannot be read: {problem}")
        self.seq = seq


@dataclass(frozen=True)
class LedgerDraft:
    """What the write path knows about a write before the store places it in the chain."""

    actor: str
    source: str
    reason: str
    changes: Sequence[Change]
    entities: list[str]
    """Keys of datasets and jobs the write touched."""

    @property
    def summary(self) -> dict[str, int]:
        return summary_of(self.changes)

    @property
    def change_count(self) -> int:
        """How many changes, from the summary (a listing need not read the changes)."""
        return sum(self.summary.values())


def summary_of(changes: Iterable[Change]) -> dict[str, int]:
    """How many changes of each operation and kind (`added:FACT`), in label order."""
    if isinstance(changes, ChangesOnDemand):
        return changes.summary()
    counts = Counter(f"{c.op.value}:{c.kind}" for c in changes)
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class LedgerEntry(LedgerDraft):
    seq: int
    at: datetime
    prev_hash: str
    hash: str
    counted: Mapping[str, int] | None = field(default=None, compare=False, repr=False)
    """The summary the store recorded beside the entry, if it did: a listing shows it
    without reading the changes. Not hashed; `verify` checks it against the changes."""
    packed: bytes | None = field(default=None, compare=False, repr=False)
    """The changes as `packed_changes` makes them, when `seal` made them in the pass that
    hashed them (GitLab's first write: 0.5 s of encoding saved); a store that keeps
    changes packed stores these bytes. Not hashed."""

    @property
    def summary(self) -> dict[str, int]:
        return dict(sorted(self.counted.items())) if self.counted is not None else super().summary

    def hashed_content(self) -> dict[str, Any]:
        return {
            **self.hashed_besides_changes(),
            "changes": list(self.changes),  # tuples, encoded as JSON arrays
        }

    def hashed_besides_changes(self) -> dict[str, Any]:
        """What the hash covers besides the changes."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "source": self.source,
            "reason": self.reason,
            "entities": self.entities,
            "prev_hash": self.prev_hash,
        }


def export_line(entry: LedgerEntry) -> str:
    """One JSON line holding everything the hash covers, and the hash: an export of these
    lines is verifiable on its own, offline, by `verify_export`. Changes a store gave as
    it holds them go as stored: an untouched entry's are the canonical JSON its hash was
    made from, written without parsing and encoding a million changes again."""
    return b"".join(piece for piece, _ in _content_json(entry, hash=entry.hash)).decode()


def _imported(line: str) -> LedgerEntry:
    record = json.loads(line)
    return LedgerEntry(
        seq=record["seq"],
        at=datetime.fromisoformat(record["at"]),
        actor=record["actor"],
        source=record["source"],
        reason=record["reason"],
        changes=[Change.from_row(row) for row in record["changes"]],
        entities=record["entities"],
        prev_hash=record["prev_hash"],
        hash=record["hash"],
    )


def verify_export(lines: Iterable[str], public_key: Ed25519PublicKey | None = None) -> Verification:
    """Verify an export (JSON Lines of `export_line`, then its checkpoint lines) without
    any store, streaming; with `public_key`, also against the checkpoints it signed."""
    unreadable: list[str] = []
    signed: list[SignedCheckpoint] = []
    hashes: dict[int, str] = {}

    def entries() -> Iterator[LedgerEntry]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                if line.startswith('{"checkpoint":'):
                    signed.append(SignedCheckpoint.from_line(line))
                    continue
                entry = _imported(line)
            except (ValueError, KeyError, TypeError, AssertionError) as error:
                unreadable.append(f"line {number} is not a ledger entry ({error})")
                return
            hashes[entry.seq] = entry.hash
            yield entry

    checked = verify(entries())
    if checked.ok and unreadable:
        return replace(
            checked, ok=False, first_bad_seq=checked.entries_checked + 1, problem=unreadable[0]
        )
    if checked.ok and public_key is not None:
        return against_checkpoints(checked, signed, hashes, public_key)
    return checked


def against_checkpoints(
    checked: Verification,
    signed: list[SignedCheckpoint],
    hashes: dict[int, str],
    public_key: Ed25519PublicKey,
) -> Verification:
    """`checked` (an intact chain of `hashes`) held against the checkpoints `public_key`
    signed: a deleted end or a rewritten chain fails, naming the checkpoint."""
    if not any(s.checkpoint.key_id == key_id(public_key) for s in signed):
        return replace(checked, ok=False, problem="no checkpoint signed by this key to check")
    problem = checkpoint_problem(signed, hashes, public_key)
    return replace(checked, ok=False, problem=problem) if problem else checked


CHANGES_PER_PIECE = 10_000


def changes_json(changes: Sequence[Change]) -> Iterator[str]:
    """`canonical_json(changes)` in pieces, a slice of changes at a time: a write of a
    million assertions never holds the JSON of its changes whole, nor the millions of
    fragments the encoder joins into it (170 MB for GitLab's 300,000 changes)."""
    yield "["
    for start in range(0, len(changes), CHANGES_PER_PIECE):
        piece = canonical_json(changes[start : start + CHANGES_PER_PIECE])
        yield ("," if start else "") + piece[1:-1]
    yield "]"


def packed_changes(changes: Sequence[Change]) -> bytes:
    """Changes as an embedded store keeps them: their canonical JSON, deflated a piece at
    a time. A large write's changes repeat the same sources, kinds and keys (GitLab's:
    86 MB of JSON, 6.8 MB packed), and binding them whole cost three copies of the text."""
    packer = _Packer()
    for piece in changes_json(changes):
        packer(piece.encode())
    return packer.packed()


class _Packer:
    """Deflates pieces as they come (`packed_changes`' format), for a pass that also
    hashes them."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(level=1)
        self._out: list[bytes] = []

    def __call__(self, piece: bytes) -> None:
        self._out.append(self._deflate.compress(piece))

    def packed(self) -> bytes:
        return b"".join([*self._out, self._deflate.flush()])


def unpacked_changes(stored: str | bytes) -> bytes:
    """The JSON (UTF-8) of an entry's changes from their stored form: packed, or text as
    stores written before packing hold it."""
    return zlib.decompress(stored) if isinstance(stored, bytes) else stored.encode()


def _content_json(entry: LedgerEntry, **extra: str) -> Iterator[tuple[bytes, bool]]:
    """`canonical_json({**entry.hashed_content(), **extra})`, UTF-8, in pieces, each with
    whether it is of the changes: members in key order, the changes a slice at a time, or
    as stored when the store gave them so."""
    members = {**entry.hashed_besides_changes(), **extra}
    for position, key in enumerate(sorted([*members, "changes"])):
        yield (("," if position else "{") + canonical_json(key) + ":").encode(), False
        if key != "changes":
            yield canonical_json(members[key]).encode(), False
        elif isinstance(entry.changes, ChangesOnDemand):
            yield entry.changes.stored_json(), True
        else:
            yield from ((piece.encode(), True) for piece in changes_json(entry.changes))
    yield b"}", False


def entry_hash(entry: LedgerEntry, changes_to: Callable[[bytes], object] | None = None) -> str:
    """SHA-256 of the entry's canonical JSON, fed to the hash a piece at a time; each
    encoded piece of the changes also goes to `changes_to`, if given."""
    digest = hashlib.sha256()
    for piece, of_changes in _content_json(entry):
        digest.update(piece)
        if of_changes and changes_to is not None:
            changes_to(piece)
    return digest.hexdigest()


def seal(draft: LedgerDraft, *, seq: int, at: datetime, prev_hash: str) -> LedgerEntry:
    """Place a draft in the chain after the entry whose hash is `prev_hash`, its changes
    packed (`packed_changes`) from the JSON that is hashed, encoded once for both."""
    entry = LedgerEntry(
        **vars(draft), seq=seq, at=at, prev_hash=prev_hash, hash="", counted=draft.summary
    )  # counted once: the store records it, the writer reports it
    packer = _Packer()
    hashed = entry_hash(entry, packer)
    return replace(entry, hash=hashed, packed=packer.packed())


@dataclass(frozen=True)
class Verification:
    """The outcome of recomputing the chain."""

    ok: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(entries: Iterable[LedgerEntry], after: Verification | None = None) -> Verification:
    """Walk entries in stored order; report the first that breaks the chain. With `after`
    (an intact chain verified earlier), `entries` are those that follow it."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    if after is not None:
        if not after.ok:
            raise ValueError("only an intact chain can be continued")
        prev_hash, checked = after.head_hash, after.entries_checked
        expected_seq = checked + 1
    try:
        for entry in entries:
            problem = _link_problem(entry, expected_seq, prev_hash)
            if problem:
                return Verification(False, checked, prev_hash, entry.seq, problem)
            prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    except UnreadableEntry as unreadable:
        return Verification(False, checked, prev_hash, unreadable.seq, str(unreadable))
    return Verification(ok=True, entries_checked=checked, head_hash=prev_hash)


def _hashes_once_canonical(entry: LedgerEntry) -> bool:
    """Whether an entry whose changes' JSON as stored did not hash to its hash does once
    they are encoded canonically: stores before packing wrote that JSON spaced."""
    if not isinstance(entry.changes, ChangesOnDemand):
        return False
    return entry_hash(replace(entry, changes=list(entry.changes))) == entry.hash


def _link_problem(entry: LedgerEntry, expected_seq: int, prev_hash: str) -> str | None:
    """Why `entry` does not continue a chain at `expected_seq` after `prev_hash`, if so."""
    if entry.seq != expected_seq:
        return f"expected sequence {expected_seq}, found {entry.seq} (entry missing or moved)"
    if entry.prev_hash != prev_hash:
        return "previous-hash link does not match the entry before it"
    if entry_hash(entry) != entry.hash and not _hashes_once_canonical(entry):
        return "content does not match its hash (entry was altered)"
    if entry.counted is not None and dict(entry.counted) != summary_of(entry.changes):
        return "the summary recorded beside it does not match its changes (summary altered)"
    return None
