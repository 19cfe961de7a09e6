"""The auditor's side of the ledger: browsing it and proving it intact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from catalog.checkpoints import CheckpointLog, SignedCheckpoint, sign
from catalog.contracts import contract_ref
from catalog.domain import JsonObject, NodeRef, attrs_as_stored, column_ref, owner_named
from catalog.errors import InvalidArgument, NotFound
from catalog.ledger import (
    ChangeOp,
    LedgerEntry,
    Verification,
    against_checkpoints,
    export_line,
    verify,
)
from catalog.services import catalog
from catalog.services.limits import DEFAULT_LIMITS, Limits, check_range
from catalog.stores.protocol import LedgerQuery, Store


def ledger_page(
    store: Store, query: LedgerQuery, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[LedgerEntry], bool]:
    """Entries matching `query`, and whether more follow."""
    check_range("first", query.limit, limits.max_page_size)
    found = store.ledger(replace(query, limit=query.limit + 1))
    return found[: query.limit], len(found) > query.limit


def filter_entity(
    store: Store,
    *,
    dataset: str | None = None,
    namespace: str | None = None,
    column: str | None = None,
    owner: str | None = None,
    contract: str | None = None,
) -> str | None:
    """The node key a ledger search is narrowed to, from whichever filter names one: a
    dataset (as a person names it) or one of its columns, an owner, or ID@VERSION."""
    if owner:
        return owner_named(owner).key
    if contract:
        contract_id, _, version = contract.rpartition("@")
        if not contract_id:
            raise InvalidArgument("a contract filter takes ID@VERSION")
        return contract_ref(contract_id, version).key
    if dataset:
        ref = catalog.resolve_dataset(store, dataset, namespace)
        return (column_ref(ref.namespace, ref.name, column) if column else ref).key
    if column:
        raise InvalidArgument("a column filter needs the dataset it belongs to")
    return None


def verify_ledger(store: Store) -> Verification:
    return verify(store.ledger_entries())


Row = tuple[str, str, str, str, str]
"""An assertion as the ledger names it: source, kind, subject key, object key ('' for a
fact), and its attributes' digest ('' where the ledger records none: an ending)."""


def verify_graph(store: Store) -> Verification:
    """Prove the graph by the ledger, not only the ledger by its chain: after checking the
    chain, replay each entry and check the store holds exactly the assertions it says
    began and ended there, each with the attributes it recorded (re-hashed from what is
    stored now), and no others. Names the first entry where the graph differs (a forged
    owner, an edited transformation, a deleted edge, a renamed node). Memory: one entry's
    changes at a time."""
    chain = verify_ledger(store)
    if not chain.ok:
        return chain
    added = ended = checked = 0
    for entry in store.ledger_entries():
        expected = Counter(_ledger_rows(entry))
        try:
            found = Counter(_stored_rows(store, entry.seq, limit=len(entry.changes) + 1))
        except ValueError as unreadable:  # a node key no identity parses from
            return replace(
                chain, ok=False, entries_checked=checked, first_bad_seq=entry.seq,
                problem=f"the store holds a node key that names nothing ({unreadable})",
            )  # fmt: skip
        if found != expected:
            return replace(
                chain, ok=False, entries_checked=checked, first_bad_seq=entry.seq,
                problem=_difference(expected, found),
            )  # fmt: skip
        added += sum(1 for c in entry.changes if c.op is ChangeOp.ADDED)
        ended += sum(1 for c in entry.changes if c.op is ChangeOp.ENDED)
        checked += 1
    rows, ended_rows = store.assertion_counts()
    if (rows, ended_rows) != (added, ended):
        return replace(
            chain, ok=False, entries_checked=checked, first_bad_seq=None,
            problem=f"the store holds {rows} assertions ({ended_rows} ended) where the ledger "
            f"records {added} ({ended} ended): some belong to no entry",
        )  # fmt: skip
    return replace(chain, entries_checked=checked)


def _ledger_rows(entry: LedgerEntry) -> Iterator[tuple[str, Row]]:
    for c in entry.changes:
        yield c.op.value, (c.source, c.kind, c.subject, c.object or "", c.attrs_digest)


def _stored_rows(store: Store, seq: int, limit: int) -> Iterator[tuple[str, Row]]:
    for c in store.entry_changes(seq, limit):
        obj = c.object.key if c.object else ""
        digest = "" if c.op == ChangeOp.ENDED else attrs_as_stored(c.attrs)[1]
        yield c.op, (c.source, c.kind, c.subject.key, obj, digest)


def _difference(expected: Counter[tuple[str, Row]], found: Counter[tuple[str, Row]]) -> str:
    """The first assertion the store and the ledger disagree on, in words."""
    missing, extra = sorted(expected - found), sorted(found - expected)
    if missing and extra and missing[0][1][:4] == extra[0][1][:4]:
        (op, (source, kind, subject, obj, _)) = missing[0]
        return (
            f"the {kind} {subject}{' -> ' + obj if obj else ''} from {source} that this entry "
            f"{op} has attributes other than those the ledger recorded (edited in the store)"
        )
    if missing:
        (op, (source, kind, subject, obj, _)) = missing[0]
        return (
            f"the store lacks {kind} {subject}{' -> ' + obj if obj else ''} from {source}, "
            f"which this entry {op} (deleted or renamed in the store)"
        )
    (op, (source, kind, subject, obj, _)) = extra[0]
    return (
        f"the store holds {kind} {subject}{' -> ' + obj if obj else ''} from {source}, "
        f"{op} by this entry, which the ledger does not record (inserted in the store)"
    )


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


def export_lines(store: Store, checkpoints: CheckpointLog | None = None) -> Iterator[str]:
    """The whole ledger as JSON Lines (`ledger.export_line`), streamed, newline-terminated,
    then the signed checkpoints of `checkpoints` that it reaches."""
    head = 0
    for entry in store.ledger_entries():
        head = entry.seq
        yield export_line(entry) + "\n"
    for signed in checkpoints.all() if checkpoints else ():
        if signed.checkpoint.seq <= head:  # one signed later than this read is not ours
            yield signed.line() + "\n"


def export(store: Store, sink: TextIO, checkpoints: CheckpointLog | None = None) -> int:
    """Write the whole ledger as JSON Lines to `sink`; returns the count of entries."""
    count = 0
    for line in export_lines(store, checkpoints):
        sink.write(line)
        count += not line.startswith('{"checkpoint":')
    return count


def checkpoint(store: Store, key: Ed25519PrivateKey, log: CheckpointLog) -> SignedCheckpoint:
    """Sign the head of an intact ledger and append it to `log`; a broken chain is never
    signed (`InvalidArgument` naming the break)."""
    chain = verify_ledger(store)
    if not chain.ok:
        raise InvalidArgument(
            f"the ledger is broken at entry {chain.first_bad_seq} ({chain.problem}); "
            "a checkpoint would vouch for it"
        )
    signed = sign(chain.entries_checked, chain.head_hash, datetime.now(UTC), key)
    log.append(signed)
    return signed


def verify_against_checkpoints(
    store: Store, checked: Verification, log: CheckpointLog, key: Ed25519PublicKey
) -> Verification:
    """`checked` (the store's intact chain) held against the checkpoints in `log`."""
    if not checked.ok:
        return checked
    hashes = {entry.seq: entry.hash for entry in store.ledger_entries()}
    return against_checkpoints(checked, log.all(), hashes, key)
