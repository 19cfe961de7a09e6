"""Near names for a name the catalog does not know, so that an unknown dataset, column,
job, owner or contract is an error that helps ("did you mean ...?"), never an empty or
SAFE answer. Only the error path pays for the search."""

from __future__ import annotations

import difflib
import re

from catalog.domain import NodeKind, NodeRef, owner_key
from catalog.errors import NotFound
from catalog.stores.protocol import Store

MAX_SUGGESTIONS = 5
_POOL = 500
"""Candidates fetched by substring before ranking by similarity."""


def near_nodes(store: Store, kind: NodeKind, name: str, namespace: str | None = None) -> list[str]:
    """Names of `kind` like `name`: the same name in other namespaces first, then those
    sharing its last part, then the most similar."""
    return [shown(ref) for ref in near_refs(store, kind, name, namespace)]


def near_refs(
    store: Store, kind: NodeKind, name: str, namespace: str | None = None
) -> list[NodeRef]:
    """The nodes `near_nodes` names, for pages that link to them."""
    exact = [
        v.ref
        for v in store.find_nodes(kind, name=name, limit=_POOL)
        if v.ref.namespace != namespace
    ]
    last = _last_part(name)
    by_tail: dict[str, list[NodeRef]] = {}
    for ref in _pool(store, kind, last):
        by_tail.setdefault(_tail(ref.name.lower(), like=name), []).append(ref)
    close = difflib.get_close_matches(name.lower(), list(by_tail), MAX_SUGGESTIONS, 0.5)
    ends_alike = [n for n in by_tail if n.rsplit(".", 1)[-1] == last.lower() and n not in close]
    ranked = exact + [r for n in close + ends_alike for r in by_tail[n]]
    return list(dict.fromkeys(ranked))[:MAX_SUGGESTIONS]


def _tail(candidate: str, like: str) -> str:
    """As many of the candidate's last dotted parts as `like` has: `customer` is compared
    with `customers`, not with `shop.main.customers` (a short name typed is a table's,
    and against a whole name it never looks similar)."""
    return ".".join(candidate.split(".")[-(like.count(".") + 1) :])


def shown(ref: NodeRef) -> str:
    """A name as the user would type it back (owners as `team:name`)."""
    return owner_key(ref) if ref.kind is NodeKind.OWNER else str(ref)


def near_columns(store: Store, dataset: NodeRef, column: str) -> list[str]:
    """Columns of `dataset` like `column` (the dataset exists)."""
    from catalog.services.catalog import columns  # catalog raises through this module

    names = [str(c.ref.column) for c in columns(store, dataset)]
    close = difflib.get_close_matches(column, names, MAX_SUGGESTIONS, 0.5)
    folded = [n for n in names if n.lower() == column.lower() and n not in close]
    return [f"{dataset}.{n}" for n in folded + close][:MAX_SUGGESTIONS]


def near(store: Store, ref: NodeRef) -> list[str]:
    """What the caller may have meant by `ref`, which the catalog does not hold."""
    if ref.kind is NodeKind.COLUMN and ref.column is not None:
        if store.nodes([ref.dataset]):
            return near_columns(store, ref.dataset, ref.column)
        ref = ref.dataset
    return near_nodes(store, ref.kind, ref.name, ref.namespace)


def unknown(store: Store, ref: NodeRef, what: str | None = None) -> NotFound:
    """The error for `ref` not being in the catalog, with the nearest names."""
    message = f"no {what or ref.kind.value.lower()} {shown(ref)} in the catalog"
    return not_found(message, near(store, ref))


def not_found(message: str, suggestions: list[str]) -> NotFound:
    if suggestions:
        message += "; did you mean " + ", ".join(suggestions) + "?"
    return NotFound(message)


def near_contracts(store: Store, contract_id: str) -> list[str]:
    """Contract ids like `contract_id` (a contract's id is its versions' namespace)."""
    ids = {ref.namespace for ref in _pool(store, NodeKind.CONTRACT, _last_part(contract_id))}
    return difflib.get_close_matches(contract_id, sorted(ids), MAX_SUGGESTIONS, 0.5)


def _last_part(name: str) -> str:
    return re.split(r"[./:]", name)[-1] or name


def _pool(store: Store, kind: NodeKind, text: str) -> list[NodeRef]:
    """Candidates holding `text`, or else its first four, or three, characters (a typo
    further on: `ordrs` keeps `ord` of `orders`)."""
    found = store.find_nodes(kind, search=text, limit=_POOL)
    for start in (text[:4], text[:3]):
        if found or len(start) == len(text):
            break
        found = store.find_nodes(kind, search=start, limit=_POOL)
    return [view.ref for view in found]
