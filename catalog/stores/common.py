"""What every store backend shares: the meaning of "now" for validity, merging a node's
facts across sources, and the breadth-first walk (each backend supplies one hop)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from catalog.domain import NodeKind, NodeRef
from catalog.stores.protocol import NodeView

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

NOW = 2**62
"""`as_of` meaning "the present": later than any ledger sequence."""


SEARCHED = (
    NodeKind.DATASET, NodeKind.COLUMN, NodeKind.JOB, NodeKind.CONSUMER,
    NodeKind.OWNER, NodeKind.CONTRACT, NodeKind.HANDOFF,
)  # fmt: skip
"""What a search without a kind looks for, in the order equally good matches come."""


def searched_kinds(kind: NodeKind | None) -> list[str]:
    """The kinds a search looks for: the one asked, or all `SEARCHED`, in their order."""
    return [kind.value] if kind else [k.value for k in SEARCHED]


def search_words(text: str) -> list[str]:
    """The words a search matches, as the index splits names: runs of letters and digits
    (`fct_orders` is `fct` and `orders`; dots and quotes separate too)."""
    return re.findall(r"[^\W_]+", text.lower())


def as_of_seq(as_of: int | None) -> int:
    return NOW if as_of is None else as_of


def merged_views(keys: Sequence[str], facts: Iterable[tuple[str, str, str]]) -> list[NodeView]:
    """Node views for `keys` from (key, source, attrs JSON) facts in assertion order: later
    facts win attribute by attribute; nodes without facts are left out."""
    merged: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for key, source, attrs in facts:
        node_attrs, sources = merged.setdefault(key, ({}, []))
        node_attrs.update(json.loads(attrs))
        sources.append(source)
    return [
        NodeView(NodeRef.from_key(key), merged[key][0], tuple(merged[key][1]))
        for key in keys
        if key in merged
    ]


def breadth_first(
    seeds: Iterable[K],
    hop: Callable[[list[K]], Iterable[tuple[R, K]]],
    *,
    depth: int,
    limit: int,
) -> tuple[dict[K, int], list[R], bool]:
    """Expand the whole frontier one hop at a time (`hop` gives each edge and its far
    node, as pairs), visiting each node once, for at most `depth` hops and `limit` nodes:
    returns each node's hop distance, the edges walked, and whether the limit cut the walk."""
    depth_of = dict.fromkeys(seeds, 0)
    frontier, truncated = list(depth_of), False
    edges: list[R] = []
    room = limit - len(depth_of)  # nodes the limit still lets in
    keep = edges.append  # looked up once: this loop runs once per edge walked
    for distance in range(1, depth + 1):
        if not frontier:
            break
        found = hop(frontier)
        frontier = []
        reach = frontier.append
        for edge, far in found:
            if far not in depth_of:
                if room <= 0:
                    truncated = True
                    continue
                room -= 1
                depth_of[far] = distance
                reach(far)
            keep(edge)
    return depth_of, edges, truncated
