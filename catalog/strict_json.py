"""JSON as RFC 8259 defines it, on the way in and on the way out.

In (request bodies, event files), read before anything else looks at it: numbers only
(no NaN or Infinity, which are not JSON), nesting bounded, and text that is valid Unicode
(a lone UTF-16 surrogate, legal in a JSON escape, cannot be stored or sent as UTF-8).
Out: a value that is not a JSON number is written as null, never as a bare NaN."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_JSON_DEPTH = 64
"""Nested arrays and objects; real events and GraphQL variables nest fewer than 15."""


class JsonRejected(ValueError):
    """Why a JSON text is refused; `path` names where, as a JSON path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _no_constants(name: str) -> Any:
    raise JsonRejected("$", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise JsonRejected("$", f"{text[:40]} is too large for a JSON number")
    return number


def load_json(text: str | bytes) -> Any:
    """The value of `text` (UTF-8 when bytes, never guessed), or `JsonRejected`; another
    ValueError (`json.JSONDecodeError`, `UnicodeDecodeError`) for text that is not JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # json.loads would take UTF-16 and UTF-32 as well
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError as error:
        raise JsonRejected("$", f"nested deeper than {MAX_JSON_DEPTH} levels") from error
    check_json_value(value)
    return value


def check_json_value(value: Any) -> None:
    """`JsonRejected` at the first place `value` nests too deep or holds text that is not
    valid Unicode; iterative, so no input can exhaust the stack."""
    pending: list[tuple[str, Any, int]] = [("$", value, 0)]
    while pending:
        path, item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(path, item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise JsonRejected(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(f"{path} (a key)", key)
                    pending.append((f"{path}.{key}", child, depth + 1))
            else:
                pending.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item))


def _check_text(path: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise JsonRejected(
            path, f"holds a lone UTF-16 surrogate (\\u{ord(text[error.start]):04x})"
        ) from error


def dump_json(value: Any) -> str:
    """Compact JSON of `value`; NaN and infinities (from an older store, say) become null."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite_only(value), separators=(",", ":"), allow_nan=False)


def _finite_only(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_only(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_only(child) for child in value]
    return value
