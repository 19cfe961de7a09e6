"""Reading YAML documents the way every ingester reports problems: file, line or JSON
path, and reason (`IngestError`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from catalog.domain import IngestError
from catalog.files import read_bounded_text

MAX_YAML_FILE_BYTES = 16 * 2**20
"""Contracts, ownership maps and policies are kilobytes; more is refused unread."""


def read_yaml(path: Path) -> tuple[Any, list[IngestError]]:
    """The document in `path`, or None and why it cannot be read or parsed."""
    source = path.as_posix()
    try:
        text = read_bounded_text(path, MAX_YAML_FILE_BYTES)
    except (OSError, UnicodeDecodeError) as error:
        return None, [IngestError(source=source, message=f"cannot read: {error}")]
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> tuple[Any, list[IngestError]]:
    """The document in `text`, or None and the line where YAML parsing failed or the
    document passed a bound (checked before anything is built from it)."""
    try:
        problem = yaml_bounds_problem(text)
        if problem is not None:
            return None, [IngestError(source=source, line=problem[0], message=problem[1])]
        return yaml.safe_load(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = mark.line + 1 if mark is not None else None
        return None, [IngestError(source=source, line=at, message=f"invalid YAML: {error}")]


MAX_YAML_NODES = 200_000
"""Nodes in a document with every alias expanded: a contract of a thousand columns is
about 20,000; a "billion laughs" document, a few lines long, is billions."""
MAX_YAML_DEPTH = 64
"""Nested collections; real contracts, maps and policies nest fewer than ten."""


def yaml_bounds_problem(text: str) -> tuple[int, str] | None:
    """The line and reason a document exceeds a bound, or None; one pass over its parse
    events, in time linear in its text (each anchor's expanded size is noted once and
    reused at every alias to it, never expanded)."""
    expanded = 0
    anchored: dict[str, int] = {}
    open_collections: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            expanded += anchored.get(event.anchor or "", 0)
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            expanded += 1
            open_collections.append((event.anchor, expanded))
            if len(open_collections) > MAX_YAML_DEPTH:
                return line, f"YAML nested deeper than {MAX_YAML_DEPTH} levels"
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, started = open_collections.pop()
            if anchor:
                anchored[anchor] = expanded - started + 1
        if expanded > MAX_YAML_NODES:
            return line, (
                f"YAML expands to more than {MAX_YAML_NODES:,} nodes (aliases count each "
                "time they are used)"
            )
    return None


def validation_errors(source: str, invalid: ValidationError) -> list[IngestError]:
    """One error per pydantic problem, each naming its JSON path."""
    return [
        IngestError(source=source, field=json_path(e["loc"]), message=e["msg"])
        for e in invalid.errors(include_url=False)
    ]


def json_path(loc: Sequence[int | str]) -> str:
    path = "$"
    for part in loc:
        if part != "[key]":  # pydantic's marker for a bad dict key: the key itself names it
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
