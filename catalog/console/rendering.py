"""Templates and the links between pages: one place decides each page's URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

import catalog
from catalog.domain import NodeKind, NodeRef, owner_key
from catalog.impact import markdown
from catalog.links import dataset_url, lineage_url, node_url
from catalog.security import Principal

STATIC = Path(__file__).parent / "static"


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
