"""The current graph's edges in memory, for walks at the speed of an in-memory graph.

A walk over SQLite costs a query per hop; over this index a hop is a few lookups in
arrays. The index holds topology only (which assertion joins which two nodes, by kind);
a walk still reads the edges it reached from the store, once, for their attributes.

Exact, never stale: it is keyed to the ledger entry it reflects. Before each walk it reads
the ledger head in the same read transaction as the changes since its own entry (the
assertions started or ended after it), and applies them, so a walk sees every write
committed before it began. A store replaced under it (a restored backup: the head went
back) is read again whole. `asOf` walks do not use it.

Layout, per edge kind and walking direction: the nodes with edges, sorted, each with the
start of its run in two arrays of far node ids and assertion ids (sorted by the near node:
a compressed sparse row). A node whose edges changed since the arrays were built has its
whole run in an overlay dictionary instead; when the overlay holds more than a fifth of
the nodes, the next walk reads the index again whole.

Memory: per edge, a far node id and an assertion id in each direction (16 bytes with ids
under 2^31, else 32), plus 8 (or 16) bytes per node and kind with edges; a changed node's
overlay entry about 200 bytes; the runs of nodes walks reached, kept as (assertion, far
node) pairs, up to `MAX_PAIRED` edges per kind and way (about 100 bytes a node and 130 an
edge, so at most about 25 MB each: a hop over them is a dictionary lookup per node, as
fast as networkx's); and up to `MAX_VIEWS` edge views the store built for walks (the
attributes and times of an edge, reused while it is open).
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from catalog.stores.common import breadth_first
from catalog.stores.protocol import Direction

_RUNS = {
    Direction.DOWNSTREAM: """
SELECT kind, subject_id, object_id, id FROM assertions
WHERE kind <> 'FACT' AND to_seq IS NULL AND object_id IS NOT NULL
ORDER BY subject_id, kind, id
""",
    Direction.UPSTREAM: """
SELECT kind, object_id, subject_id, id FROM assertions
WHERE kind <> 'FACT' AND to_seq IS NULL AND object_id IS NOT NULL
ORDER BY object_id, kind, id
""",
}
"""Every open edge as (kind, near node, far node, assertion), by near node: one pass over
an index per direction, in its order. (A pass per kind read the whole index each time,
and asking which kinds exist was a table scan: 146 s on 20M edges, 97 s so.)"""
_LARGEST_ID = "SELECT max((SELECT coalesce(max(id), 0) FROM assertions),"
_LARGEST_ID += " (SELECT coalesce(max(id), 0) FROM nodes))"
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

MAX_PAIRED = 100_000
"""Edges (a node without any counting as one) one kind's index keeps as pairs for walks,
each way: about 25 MB at most."""

OVERLAY_MIN = 10_000
"""Changed nodes an index keeps in its overlay however small it is, before reading again."""

Run = tuple[Sequence[int], Sequence[int]]
"""One node's edges of one kind, one way: far node ids and assertion ids, in step."""


@dataclass
class _Runs:
    """One kind's edges, one way: sorted arrays, and an overlay of changed nodes."""

    typecode: str
    near: array[int] = field(init=False)
    start: array[int] = field(init=False)
    far: array[int] = field(init=False)
    assertions: array[int] = field(init=False)
    changed: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)
    paired: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    """Runs of nodes walks reached, as (assertion id, far node id) pairs: a hop then
    costs a dictionary lookup per node instead of a binary search and two slices. Emptied
    when it would pass `MAX_PAIRED` edges; a changed node's entry is dropped."""
    paired_size: int = 0
    """Edges in `paired`, a node without any counting as one."""

    def __post_init__(self) -> None:
        self.near, self.start = array(self.typecode), array(self.typecode, [0])
        self.far, self.assertions = array(self.typecode), array(self.typecode)

    def edges_of(self, nodes: Iterable[int], found: list[tuple[int, int]]) -> None:
        """Append the (assertion id, far node id) of each edge of `nodes` to `found`."""
        paired = self.paired
        for node in nodes:  # the walk's inner loop: a dictionary lookup when it can
            pairs = paired.get(node)
            found += self._pair(node) if pairs is None else pairs

    def _pair(self, node: int) -> tuple[tuple[int, int], ...]:
        run = self.of(node)
        pairs = tuple(zip(run[1], run[0])) if run else ()  # noqa: B905 -- in step
        size = len(pairs) or 1
        if self.paired_size + size > MAX_PAIRED:
            self.paired, self.paired_size = {}, 0
        self.paired[node] = pairs
        self.paired_size += size
        return pairs

    def of(self, node: int) -> Run | None:
        run = self.changed.get(node)
        if run is not None:
            return run
        at = bisect_left(self.near, node)
        if at == len(self.near) or self.near[at] != node:
            return None
        begin, end = self.start[at], self.start[at + 1]
        return self.far[begin:end], self.assertions[begin:end]

    def add(self, node: int, far: int, assertion: int) -> None:
        far_nodes, assertions = self._changing(node)
        far_nodes.append(far)
        assertions.append(assertion)

    def remove(self, node: int, assertion: int) -> None:
        far_nodes, assertions = self._changing(node)
        if assertion in assertions:
            at = assertions.index(assertion)
            del far_nodes[at], assertions[at]

    def _changing(self, node: int) -> tuple[list[int], list[int]]:
        dropped = self.paired.pop(node, None)
        if dropped is not None:
            self.paired_size -= len(dropped) or 1
        run = self.changed.get(node)
        if run is None:
            base = self.of(node)
            run = self.changed[node] = (list(base[0]), list(base[1])) if base else ([], [])
        return run

    def worn(self) -> bool:
        """Whether the overlay has grown past a fifth of the nodes (time to rebuild)."""
        return len(self.changed) > max(OVERLAY_MIN, len(self.near) // 5)


@dataclass
class _Kind:
    """One edge kind's adjacency, both ways."""

    out: _Runs
    into: _Runs

    def way(self, direction: Direction) -> _Runs:
        return self.out if direction is Direction.DOWNSTREAM else self.into

    def add(self, assertion: int, subject: int, obj: int) -> None:
        self.out.add(subject, obj, assertion)
        self.into.add(obj, subject, assertion)

    def remove(self, assertion: int, subject: int, obj: int) -> None:
        self.out.remove(subject, assertion)
        self.into.remove(obj, assertion)


class Adjacency:
    """Open edges by kind and direction, as of the ledger entry `seq` (None: not read
    yet, or being read again: walks then go to the store's SQL walk)."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], max_views: int = MAX_VIEWS
    ) -> None:
        self.seq: int | None = None
        self.edges = 0
        self.views: dict[int, Any] = {}
        """The store's views of walked edges by assertion id: an open edge's row does not
        change until it ends, and an ended one is never walked. Emptied when the index
        is read whole (ids may then name other rows) and when it holds `max_views`."""
        self.keys: dict[int, str] = {}
        """Keys of nodes walks reached, by id (a node's key never changes); emptied
        with `views`."""
        self._connect = connect
        self._max_views = max_views
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()
        self._reading: threading.Thread | None = None

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
    ) -> tuple[dict[int, int], list[int], bool] | None:
        """Catch up with the store, then `breadth_first` from `seeds` over edges of
        `kinds`: each node's hop distance, the assertion ids of the edges walked, in
        assertion order within a hop (as the store's own walk gives them), and
        whether the limit cut the walk. One snapshot of the index for the whole walk.
        None when the index must first be read whole: that starts in the background
        (a large catalog takes minutes), and the caller walks in SQL meanwhile."""
        with self._lock:
            if self.seq is None or not self._caught_up(conn):
                self._read_in_background()
                return None
            chosen = [self._kinds[k] for k in kinds if k in self._kinds]
            ways = [k.way(direction) for k in chosen]

            def hop(frontier: list[int]) -> list[tuple[int, int]]:
                found: list[tuple[int, int]] = []
                for runs in ways:
                    runs.edges_of(frontier, found)
                found.sort(key=_ASSERTION)  # as the store's own walk; faster keyed
                return found

            return breadth_first(seeds, hop, depth=depth, limit=limit)

    def read(self) -> None:
        """Read every open edge, in a connection and snapshot of its own, then use them
        (walks go to SQL meanwhile). Walks catch up from the entry it read."""
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            (head,) = conn.execute(_HEAD).fetchone()
            kinds, edges = _read_whole(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        with self._lock:
            self._kinds, self.edges, self.views, self.keys = kinds, edges, {}, {}
            self.seq = head  # walks catch up from here

    def wait(self) -> None:
        """Until a read in the background (if any) is done."""
        reading = self._reading
        if reading is not None:
            reading.join()

    def _read_in_background(self) -> None:
        if self._reading is None or not self._reading.is_alive():
            self._reading = threading.Thread(target=self.read, name="walk-index", daemon=True)
            self._reading.start()

    def _caught_up(self, conn: sqlite3.Connection) -> bool:
        """Apply what was written since `seq`; False (and `seq` None) when the index must
        be read whole: the head went back (a restored backup) or the overlay is worn."""
        # One snapshot: the head and the changes up to it. Never inside a write: the
        # index must hold committed entries only (a rolled-back one's seq is reused).
        assert self.seq is not None
        conn.execute("BEGIN")
        try:
            (head,) = conn.execute(_HEAD).fetchone()
            worn = any(k.out.worn() or k.into.worn() for k in self._kinds.values())
            if head < self.seq or worn:
                self.seq = None
                return False
            if head > self.seq:
                _apply_changes(self, conn.execute(_CHANGED_EDGES, {"seq": self.seq}))
            self.seq = head
            return True
        except BaseException:
            self.seq = None  # half applied: read whole
            raise
        finally:
            conn.execute("COMMIT")

    def kind(self, kind: str) -> _Kind:
        """The runs of `kind`, made empty when it has none yet."""
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = _Kind(_Runs("q"), _Runs("q"))
        return found


def _read_whole(conn: sqlite3.Connection) -> tuple[dict[str, _Kind], int]:
    (largest,) = conn.execute(_LARGEST_ID).fetchone()
    typecode = "i" if largest < 2**31 - 1 else "q"
    kinds: dict[str, _Kind] = {}
    for direction in Direction:
        runs, last_kind = None, None
        for kind, node, far_node, assertion in conn.execute(_RUNS[direction]):
            if kind != last_kind:  # rows come by near node, then kind: runs change often
                index = kinds.get(kind)
                if index is None:
                    index = kinds[kind] = _Kind(_Runs(typecode), _Runs(typecode))
                runs, last_kind = index.way(direction), kind
            assert runs is not None
            near = runs.near
            if not near or near[-1] != node:
                if near:
                    runs.start.append(len(runs.far))
                near.append(node)
            runs.far.append(far_node)
            runs.assertions.append(assertion)
        for index in kinds.values():  # the end of each last run
            runs = index.way(direction)
            if runs.near:
                runs.start.append(len(runs.far))
    return kinds, sum(len(k.out.far) for k in kinds.values())


def _apply_changes(
    index: Adjacency, rows: Iterable[tuple[int, str, int, int, int, int | None]]
) -> None:
    assert index.seq is not None
    for assertion, kind, subject, obj, from_seq, to_seq in rows:
        if from_seq <= index.seq:  # open at `seq`, ended since
            index.kind(kind).remove(assertion, subject, obj)
            index.edges -= 1
        elif to_seq is None:  # started since, open now
            index.kind(kind).add(assertion, subject, obj)
            index.edges += 1


_ASSERTION = itemgetter(0)
"""The assertion id of a hop's (assertion id, far node id) pair."""
