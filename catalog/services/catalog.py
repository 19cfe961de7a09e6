"""Looking things up: datasets, their columns, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog.domain import EdgeKind, NodeKind, NodeRef, column_ref, dataset_ref, owner_named
from catalog.errors import InvalidArgument
from catalog.ledger import LedgerEntry
from catalog.services import ownership, suggestions
from catalog.services.limits import DEFAULT_LIMITS, Limits, check_range
from catalog.stores.common import search_words
from catalog.stores.protocol import Direction, EdgeView, LedgerQuery, NodeView, Store


@dataclass(frozen=True)
class Page:
    items: list[NodeView]
    has_next: bool


def get_node(store: Store, ref: NodeRef, as_of: datetime | None = None) -> NodeView:
    found = store.nodes([ref], store.seq_at(as_of) if as_of else None)
    if not found:
        raise suggestions.unknown(store, ref)
    return found[0]


def resolve_ref(
    store: Store,
    namespace: str,
    name: str,
    column: str | None = None,
    as_of: datetime | None = None,
) -> NodeRef:
    """A dataset (or one of its columns) as a person names it: the exact name, or a unique
    dotted suffix in any case. Reads of the past take names as given (what existed then
    may not exist now)."""
    if as_of is None:
        dataset = resolve_dataset(store, name, namespace)
        namespace, name = dataset.namespace, dataset.name
    return column_ref(namespace, name, column) if column else dataset_ref(namespace, name)


def _by_suffix(store: Store, suffix: str, namespace: str | None) -> list[NodeRef]:
    """Datasets whose name ends in `.suffix`, compared case-insensitively."""
    wanted = "." + suffix.lower()
    return [
        v.ref
        for v in store.find_nodes(NodeKind.DATASET, search=suffix, limit=1_000)
        if ("." + v.ref.name.lower()).endswith(wanted)
        and (namespace is None or v.ref.namespace == namespace)
    ]


MAX_SEARCH_RESULTS = 100


OWNER_FILTER_WINDOW = 1_000
"""Matches an owner filter looks through: an owner's assets are a slice of the catalog."""


def search(
    store: Store,
    text: str,
    *,
    kind: NodeKind | None = None,
    namespace: str | None = None,
    owner: str | None = None,
    limit: int = 20,
    limits: Limits = DEFAULT_LIMITS,
) -> list[NodeView]:
    """Datasets, columns, jobs, consumers, owners, contracts and handoffs whose name (any
    part of it, as you type), description or tags hold the words of `text`; exact names
    first. `owner` keeps what that owner holds a role on (a dataset's columns included).
    A text with no word in it, or an owner nobody knows, is an error, not an empty answer."""
    check_range("search length", len(text), limits.max_search_length)
    check_range("limit", limit, MAX_SEARCH_RESULTS)
    if not search_words(text):
        raise InvalidArgument(f"nothing to search for in {text!r}: give a word of a name")
    if owner is None:
        found = store.search(text, kind=kind, namespace=namespace, limit=limit)
    else:
        held = {o.target.dataset.key for o in ownership.owned_by(store, owner_named(owner))}
        window = store.search(text, kind=kind, namespace=namespace, limit=OWNER_FILTER_WINDOW)
        found = [ref for ref in window if ref.dataset.key in held][:limit]
    views = {view.ref.key: view for view in store.nodes(found)}
    return [views[ref.key] for ref in found if ref.key in views]


def find_datasets(
    store: Store,
    *,
    search: str | None = None,
    first: int = 50,
    after: tuple[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Page:
    check_range("first", first, limits.max_page_size)
    if search is not None:
        check_range("search length", len(search), limits.max_search_length, minimum=0)
    found = store.find_nodes(NodeKind.DATASET, search=search, after=after, limit=first + 1)
    return Page(items=found[:first], has_next=len(found) > first)


def resolve_dataset(store: Store, name: str, namespace: str | None = None) -> NodeRef:
    """A dataset by exact name, or else by a unique dotted suffix of its name in any case
    (`fct_orders` for `analytics.marts.fct_orders`); the namespace may be omitted when
    the name is unique. Several candidates are an error listing them."""
    if namespace is not None:
        found = store.nodes([dataset_ref(namespace, name)])
        if found:
            return found[0].ref
    candidates = [
        v.ref
        for v in store.find_nodes(NodeKind.DATASET, name=name, limit=100)
        if namespace is None or v.ref.namespace == namespace
    ]
    if not candidates:
        candidates = _by_suffix(store, name, namespace)
    if not candidates and namespace is not None:
        raise suggestions.unknown(store, dataset_ref(namespace, name))
    if not candidates:
        near = suggestions.near_nodes(store, NodeKind.DATASET, name)
        raise suggestions.not_found(f"no dataset named {name!r} in the catalog", near)
    if len(candidates) > 1:
        listed = ", ".join(sorted(str(c) for c in candidates)[:10])
        raise InvalidArgument(f"{name!r} names several datasets ({listed}); name one")
    return candidates[0]


def columns(store: Store, dataset: NodeRef, as_of: datetime | None = None) -> list[NodeView]:
    """Columns of a dataset, by ordinal where a source declared one."""
    as_of_seq = store.seq_at(as_of) if as_of else None
    sub = store.subgraph(
        [dataset],
        kinds=[EdgeKind.HAS_COLUMN.value],
        direction=Direction.DOWNSTREAM,
        depth=1,
        limit=10_000,
        as_of=as_of_seq,
    )
    refs = [NodeRef.from_key(k) for k, hops in sub.depth_of.items() if hops == 1]
    views = store.nodes(refs, as_of_seq)
    return sorted(views, key=lambda v: (v.attrs.get("ordinal", 1_000_000), v.ref.column or ""))


@dataclass(frozen=True)
class History:
    entries: list[LedgerEntry]
    edges: list[EdgeView]
    """Every edge that touched the node, with validity: ended ones show when and by whom."""


def history(
    store: Store, ref: NodeRef, *, first: int = 100, limits: Limits = DEFAULT_LIMITS
) -> History:
    check_range("first", first, limits.max_page_size)
    entity = ref.dataset.key
    return History(
        entries=store.ledger(LedgerQuery(entity=entity, limit=first)),
        edges=store.edge_history(ref),
    )


def linked(
    store: Store, refs: list[NodeRef], kind: EdgeKind, direction: Direction
) -> list[NodeView]:
    """Nodes one `kind` edge away from any of `refs` (UPSTREAM: their subjects, the jobs
    that write a dataset; DOWNSTREAM: their objects, the datasets a job reads), by name."""
    found = store.subgraph(
        refs, kinds=[kind.value], direction=direction, depth=1, limit=len(refs) + 10_000
    )
    seeds = {ref.key for ref in refs}
    others = {
        e.subject if e.object.key in seeds else e.object
        for e in found.edges
    }  # fmt: skip
    ordered = sorted(others, key=lambda r: r.key)
    return sorted(store.nodes(ordered), key=lambda v: (v.ref.name, v.ref.namespace))


def _pointing_at(store: Store, dataset: NodeRef, kind: EdgeKind) -> list[NodeView]:
    """Nodes with a `kind` edge to the dataset or one of its columns, by name."""
    targets = [dataset, *(c.ref for c in columns(store, dataset))]
    return linked(store, targets, kind, Direction.UPSTREAM)


def checks(store: Store, dataset: NodeRef) -> list[NodeView]:
    """The checks (dbt tests, quality assertions) on a dataset or any of its columns; each
    carries its latest outcome in `status`."""
    return _pointing_at(store, dataset, EdgeKind.CHECKS)


def consumers(store: Store, dataset: NodeRef) -> list[NodeView]:
    """Dashboards, reports and other consumers that use the dataset or its columns."""
    return _pointing_at(store, dataset, EdgeKind.USES)
