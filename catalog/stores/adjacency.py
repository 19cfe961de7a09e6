"""The current graph's edges in memory, for walks at the speed of an in-memory graph.

A walk over SQLite costs a query per hop; over this index a hop is a few dictionary
lookups. The index holds topology only (which assertion joins which two nodes, by kind);
a walk still reads the edges it reached from the store, once, for their attributes.

Exact, never stale: it is keyed to the ledger entry it reflects. Before each walk it reads
the ledger head in the same read transaction as the changes since its own entry (the
assertions started or ended after it), and applies them, so a walk sees every write
committed before it began. A store replaced under it (a restored backup: the head went
back) is read again whole. `asOf` walks do not use it.

Memory: per edge, two (far node, assertion) pairs of 8-byte integers, one per walking
direction (32 bytes), plus per node and kind with edges, two dictionary entries, two
small tuples and four arrays (about 500 bytes); and up to `MAX_VIEWS` edge views the
store built for walks (the attributes and times of an edge, reused while it is open).
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from catalog.stores.common import breadth_first
from catalog.stores.protocol import Direction

_OPEN_EDGES = """
SELECT id, kind, subject_id, object_id FROM assertions
WHERE to_seq IS NULL AND object_id IS NOT NULL
"""
_CHANGED_EDGES = """
SELECT id, kind, subject_id, object_id, from_seq, to_seq FROM assertions
WHERE object_id IS NOT NULL AND from_seq > :seq
UNION ALL
SELECT id, kind, subject_id, object_id, from_seq, to_seq FROM assertions
WHERE object_id IS NOT NULL AND to_seq > :seq AND from_seq <= :seq
"""
"""Edges a write since `seq` started (open now or not) or ended (open at `seq`)."""
_HEAD = "SELECT coalesce(max(seq), 0) FROM ledger"

MAX_VIEWS = 100_000
"""Edge views kept between walks (a few hundred bytes each), with the keys of the nodes
they reach."""


class Ends(NamedTuple):
    """One node's edges of one kind, one way: far node ids and assertion ids, in step."""

    far: array[int]
    assertions: array[int]


Pairs = dict[int, Ends]


@dataclass
class _Kind:
    """One edge kind's adjacency, both ways."""

    out: Pairs = field(default_factory=dict)
    into: Pairs = field(default_factory=dict)

    def add(self, assertion: int, subject: int, obj: int) -> None:
        _keep(self.out, subject, obj, assertion)
        _keep(self.into, obj, subject, assertion)

    def remove(self, assertion: int, subject: int, obj: int) -> None:
        _drop(self.out, subject, assertion)
        _drop(self.into, obj, assertion)


def _keep(pairs: Pairs, node: int, far: int, assertion: int) -> None:
    ends = pairs.get(node)
    if ends is None:
        ends = pairs[node] = Ends(array("q"), array("q"))
    ends.far.append(far)
    ends.assertions.append(assertion)


def _drop(pairs: Pairs, node: int, assertion: int) -> None:
    ends = pairs.get(node)
    if ends is None or assertion not in ends.assertions:
        return
    at = ends.assertions.index(assertion)
    del ends.far[at], ends.assertions[at]
    if not ends.far:
        del pairs[node]


class Adjacency:
    """Open edges by kind and direction, as of the ledger entry `seq`."""

    def __init__(self, max_views: int = MAX_VIEWS) -> None:
        self.seq: int | None = None
        self.edges = 0
        self.views: dict[int, Any] = {}
        """The store's views of walked edges by assertion id: an open edge's row does not
        change until it ends, and an ended one is never walked. Emptied when the index
        is read whole (ids may then name other rows) and when it holds `max_views`."""
        self.keys: dict[int, str] = {}
        """Keys of nodes walks reached, by id (a node's key never changes); emptied
        with `views`."""
        self._max_views = max_views
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()

    def keep(self, views: dict[int, Any], keys: dict[int, str]) -> None:
        """Keep edge views and node keys for later walks. The dictionaries are replaced,
        never emptied in place, so a walk holding the old ones still finds what it
        looked up."""
        if len(self.views) + len(views) > self._max_views:
            self.views, self.keys = {}, {}
        self.views.update(views)
        self.keys.update(keys)

    def walk(
        self,
        conn: sqlite3.Connection,
        seeds: Sequence[int],
        *,
        kinds: Sequence[str],
        direction: Direction,
        depth: int,
        limit: int,
    ) -> tuple[dict[int, int], list[tuple[int, int]], bool]:
        """Catch up with the store, then `breadth_first` from `seeds` over edges of
        `kinds`: each node's hop distance, the edges walked as (assertion id, far node
        id) in assertion order within a hop (as the store's own walk gives them), and
        whether the limit cut the walk. One snapshot of the index for the whole walk."""
        with self._lock:
            self._catch_up(conn)
            chosen = [self._kinds[k] for k in kinds if k in self._kinds]
            ways = [k.out if direction is Direction.DOWNSTREAM else k.into for k in chosen]

            def hop(frontier: list[int]) -> list[tuple[int, tuple[int, int]]]:
                found: list[tuple[int, tuple[int, int]]] = []
                for pairs in ways:
                    for node in frontier:
                        ends = pairs.get(node)
                        if ends is not None:  # (far, (assertion, far)), zipped in C
                            far = ends.far
                            found += zip(far, zip(ends.assertions, far))  # noqa: B905 -- in step
                found.sort(key=_EDGE)  # by assertion id, as the store's own walk
                return found

            return breadth_first(seeds, hop, depth=depth, limit=limit)

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        # One snapshot: the head and the changes up to it. Never inside a write: the
        # index must hold committed entries only (a rolled-back one's seq is reused).
        conn.execute("BEGIN")
        try:
            (head,) = conn.execute(_HEAD).fetchone()
            if self.seq is None or head < self.seq:
                self._kinds, self.edges, self.views, self.keys = {}, 0, {}, {}
                self._apply_open(conn.execute(_OPEN_EDGES))
            elif head > self.seq:
                self._apply_changes(conn.execute(_CHANGED_EDGES, {"seq": self.seq}))
            self.seq = head
        except BaseException:
            self.seq = None  # half applied: read whole next time
            raise
        finally:
            conn.execute("COMMIT")

    def _apply_open(self, rows: Iterable[tuple[int, str, int, int]]) -> None:
        for assertion, kind, subject, obj in rows:
            self._kind(kind).add(assertion, subject, obj)
            self.edges += 1

    def _apply_changes(self, rows: Iterable[tuple[int, str, int, int, int, int | None]]) -> None:
        assert self.seq is not None
        for assertion, kind, subject, obj, from_seq, to_seq in rows:
            if from_seq <= self.seq:  # open at `seq`, ended since
                self._kind(kind).remove(assertion, subject, obj)
                self.edges -= 1
            elif to_seq is None:  # started since, open now
                self._kind(kind).add(assertion, subject, obj)
                self.edges += 1

    def _kind(self, kind: str) -> _Kind:
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = _Kind()
        return found


_EDGE = itemgetter(1)
"""The (assertion id, far node id) of a hop's (far node id, edge) item."""
