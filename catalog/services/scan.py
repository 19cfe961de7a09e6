"""Every node of a kind, page by page: for the few jobs that must look at all of them
(resolving an ownership map, evaluating freshness)."""

from __future__ import annotations

from collections.abc import Iterator

from catalog.domain import NodeKind
from catalog.stores.protocol import NodeView, Store


def every(store: Store, kind: NodeKind, page: int = 1000) -> Iterator[NodeView]:
    """Nodes of `kind` valid now, ordered by (namespace, name), read `page` at a time."""
    after: tuple[str, str] | None = None
    while True:
        found = store.find_nodes(kind, after=after, limit=page)
        yield from found
        if len(found) < page:
            return
        after = (found[-1].ref.namespace, found[-1].ref.name)
