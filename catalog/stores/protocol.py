"""The store port: the few primitives a backend implements. Everything else is built above.

Time is the ledger's sequence: an assertion is valid from the entry that added it until
the entry that ended it, so "as of" any instant is "as of" the last entry before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, TypeVar

from catalog.alerts.events import AlertEvent
from catalog.alerts.queue import AlertQueue
from catalog.domain import Assertion, JsonObject, NodeKind, NodeRef
from catalog.ledger import LedgerEntry

T = TypeVar("T")

Identity = tuple[str, str, str]
"""(kind, subject key, object key or "") of an assertion; see `Assertion.identity`."""

SourcedIdentity = tuple[str, Identity]
"""An assertion's identity within its source."""


class Direction(StrEnum):
    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"


@dataclass(frozen=True)
class LedgerHead:
    seq: int
    hash: str
    at: datetime


class NodeView(NamedTuple):
    """A node as of some instant: its identity and the attributes its sources assert."""

    ref: NodeRef
    attrs: JsonObject
    sources: tuple[str, ...]


class EdgeView(NamedTuple):
    """One source's assertion of an edge, with its validity interval.

    Named tuples rather than dataclasses: walks build thousands of these per request.
    """

    kind: str
    subject: NodeRef
    object: NodeRef
    source: str
    attrs: JsonObject
    valid_from: datetime
    valid_to: datetime | None


@dataclass
class Subgraph:
    """Nodes reached from the seeds (with their hop distance) and the edges between them."""

    depth_of: dict[str, int] = field(default_factory=dict)
    edges: list[EdgeView] = field(default_factory=list)
    truncated: bool = False


class AssertionChange(NamedTuple):
    """One assertion a ledger entry added or ended, with its attributes."""

    op: str  # "added" or "ended"
    source: str
    kind: str
    subject: NodeRef
    object: NodeRef | None
    attrs: JsonObject


@dataclass(frozen=True)
class LedgerQuery:
    entity: str | None = None
    """A node key: entries that asserted or ended anything about that node."""
    actor: str | None = None
    source: str | None = None
    """Entries written by this source: the write's own label or a snapshot's source."""
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    before_seq: int | None = None
    newest_first: bool = False
    """Descending sequence order (the newest entries first); ascending otherwise."""
    limit: int = 100


class WriteTx(Protocol):
    """The view of a store inside one write transaction."""

    def open_assertions(self, sources: Sequence[str]) -> dict[SourcedIdentity, str]:
        """Currently valid assertions of these sources, mapped to their attrs digests."""

    def open_sources(self, prefix: str) -> list[str]:
        """Sources starting with `prefix` that hold a currently valid assertion."""

    def ledger_head(self) -> LedgerHead | None: ...

    def commit(
        self,
        entry: LedgerEntry,
        added: Sequence[tuple[str, Assertion]],
        ended: Sequence[SourcedIdentity],
        events: Sequence[AlertEvent] = (),
    ) -> None:
        """Append `entry`, make its changes valid from (or ended at) `entry.seq`, and put
        the alert events they raise in the outbox."""


class Store(Protocol):
    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names of those applied."""

    def write(self, unit: Callable[[WriteTx], T]) -> T:
        """Run `unit` in one transaction: all of it is committed, or none (it may be retried)."""

    def nodes(self, refs: Sequence[NodeRef], as_of: int | None = None) -> list[NodeView]:
        """The nodes among `refs` that exist as of ledger sequence `as_of` (None: now)."""

    def find_nodes(
        self,
        kind: NodeKind,
        *,
        search: str | None = None,
        name: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int,
        as_of: int | None = None,
    ) -> list[NodeView]:
        """Nodes of a kind ordered by (namespace, name), after a cursor.

        `search` matches a substring of namespace or name, case-insensitively; `name` is exact.
        """

    def subgraph(
        self,
        seeds: Sequence[NodeRef],
        *,
        kinds: Sequence[str],
        direction: Direction,
        depth: int,
        limit: int,
        as_of: int | None = None,
    ) -> Subgraph:
        """Breadth-first expansion over edges of `kinds`, at most `depth` hops and `limit` nodes."""

    def edge_history(self, ref: NodeRef) -> list[EdgeView]:
        """Every edge touching `ref`, ended ones included, oldest first."""

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        """Entries matching `query`; a store may read each one's changes only when they
        are used (`ChangesOnDemand`), and give the summary it recorded (`counted`)."""

    def entry_changes(self, seq: int, limit: int) -> list[AssertionChange]:
        """What entry `seq` ended and added, with attributes, at most `limit` of them."""

    def ledger_entries(self) -> Iterator[LedgerEntry]:
        """The whole ledger in stored order, for verification."""

    def seq_at(self, at: datetime) -> int:
        """The last ledger sequence written at or before `at` (0 before the first)."""

    def search(
        self, text: str, *, kind: NodeKind | None, namespace: str | None, limit: int
    ) -> list[NodeRef]:
        """Nodes valid now whose name (any dotted or underscored part), description or tags
        hold every word of `text` as a prefix, case-insensitively: exact names first, then
        names ending in `text`, then by relevance."""

    def source_facts(self, prefix: str, attribute: str) -> list[tuple[str, Any]]:
        """(node key, value of `attribute`) of each currently valid fact whose source
        starts with `prefix` and holds it (`written:` sources' `last_written_at`): one
        indexed range read, not a scan of every node's attributes."""

    def assertion_counts(self) -> tuple[int, int]:
        """How many assertions the store holds (open and ended), and how many have ended:
        deep verification checks these against the ledger's totals."""

    def alert_queue(self) -> AlertQueue | None:
        """The alerting state this store keeps (None: this backend cannot deliver alerts
        yet; its writes still keep their events in the outbox)."""

    def unready(self) -> str | None:
        """Why the store cannot take writes now (its disk is full, say), or None; `/readyz`
        reports it. Whether it answers reads is checked by reading."""

    def close(self) -> None: ...
