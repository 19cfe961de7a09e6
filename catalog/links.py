"""Where each catalog thing lives in the console: one place decides each page's URL (the
console's links and alert messages share it)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from catalog.domain import NodeKind, NodeRef, owner_key


def dataset_url(ref: NodeRef) -> str:
    """A dataset's (or a column's dataset's) page; the namespace rides in the query."""
    dataset = ref.dataset
    return "/datasets/" + _quoted(dataset.name) + "?" + urlencode({"namespace": dataset.namespace})


def node_url(ref: NodeRef) -> str:
    """The page that shows `ref`: its own, or its dataset's for a column."""
    if ref.kind in (NodeKind.DATASET, NodeKind.COLUMN):
        url = dataset_url(ref)
        return url + (f"#column-{ref.column}" if ref.column else "")
    if ref.kind is NodeKind.OWNER:
        return "/owners/" + _quoted(owner_key(ref))
    if ref.kind is NodeKind.JOB:
        return "/jobs/" + _quoted(ref.name) + "?" + urlencode({"namespace": ref.namespace})
    if ref.kind is NodeKind.CONTRACT:  # the contract id is the namespace, the version the name
        return "/contracts/" + _quoted(ref.namespace) + "?" + urlencode({"version": ref.name})
    if ref.kind is NodeKind.HANDOFF:
        return "/handoffs/" + _quoted(ref.name)
    return "/search?" + urlencode({"q": ref.name})


def lineage_url(ref: NodeRef, **options: str) -> str:
    query = {"namespace": ref.namespace, "name": ref.name}
    if ref.column:
        query["column"] = ref.column
    return "/lineage?" + urlencode(query | {k: v for k, v in options.items() if v})


def _quoted(text: str) -> str:
    return quote(text, safe="")
