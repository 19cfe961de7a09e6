"""Reading YAML documents the way every ingester reports problems: file, line or JSON
path, and reason (`IngestError`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from catalog.domain import IngestError


def read_yaml(path: Path) -> tuple[Any, list[IngestError]]:
    """The document in `path`, or None and why it cannot be read or parsed."""
    source = path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [IngestError(source=source, message=f"cannot read: {error}")]
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> tuple[Any, list[IngestError]]:
    """The document in `text`, or None and the line where YAML parsing failed."""
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [IngestError(source=source, line=line, message=f"invalid YAML: {error}")]


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
