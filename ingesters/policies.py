"""Handoff policies: YAML in, a validated `Policy` out, or every problem with its path."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from catalog.domain import IngestError
from catalog.handoffs import Policy
from ingesters.documents import parse_yaml, read_yaml, validation_errors


def read_policy(path: Path) -> tuple[Policy | None, list[IngestError]]:
    document, errors = read_yaml(path)
    return _validated(document, path.as_posix()) if not errors else (None, errors)


def parse_policy(text: str, source: str = "policy") -> tuple[Policy | None, list[IngestError]]:
    document, errors = parse_yaml(text, source)
    return _validated(document, source) if not errors else (None, errors)


def _validated(document: object, source: str) -> tuple[Policy | None, list[IngestError]]:
    try:
        return Policy.model_validate(document), []
    except ValidationError as invalid:
        return None, validation_errors(source, invalid)
