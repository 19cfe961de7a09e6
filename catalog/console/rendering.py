"""Templates and the links between pages: one place decides each page's URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

import catalog
from catalog.domain import NodeKind, NodeRef, owner_key
from catalog.impact import markdown
from catalog.security import Principal

STATIC = Path(__file__).parent / "static"


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


def label(ref: NodeRef) -> str:
    """How a person reads a node: owners by key, columns as `dataset.column`."""
    if ref.kind is NodeKind.OWNER:
        return owner_key(ref)
    if ref.kind is NodeKind.COLUMN:
        return f"{ref.name}.{ref.column}"
    if ref.kind is NodeKind.CONTRACT:
        return f"{ref.namespace}@{ref.name}"
    return ref.name


templates = Environment(
    loader=PackageLoader("catalog.console"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["pretty_json"] = lambda value: json.dumps(
    value, indent=1, ensure_ascii=False, sort_keys=True
)  # escaped by the template like any text
templates.globals |= {
    "version": catalog.__version__,
    "dataset_url": dataset_url,
    "node_url": node_url,
    "lineage_url": lineage_url,
    "label": label,
    "markdown": markdown,
}


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    principal: Principal = request.state.principal
    page = templates.get_template(template).render(
        request=request,
        principal=principal,
        session=request.state.session,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status)
