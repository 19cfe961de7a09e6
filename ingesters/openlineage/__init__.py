"""OpenLineage ingester: validated events in, normalized batches out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from catalog.domain import Batch, IngestError
from catalog.files import read_bounded_text
from catalog.strict_json import JsonRejected, load_json
from ingesters.openlineage.events import to_batch
from ingesters.openlineage.validate import problems


class InvalidEvent(ValueError):
    """An event that breaks the OpenLineage spec; `problems` name JSON paths and reasons."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_event(event: Any) -> Batch:
    """The batch one event asserts, after validating it against the spec."""
    found = problems(event)
    if found:
        raise InvalidEvent(found)
    return to_batch(event)


MAX_EVENTS_FILE_BYTES = 2**30
"""An events file read at once must fit in memory: larger ones are split first."""


def read_events(path: Path) -> Iterator[tuple[int, Any | IngestError]]:
    """Events of a file transport's output: one JSON event per line (ndjson), or a file
    holding one event or a list of them. Yields (line or position, event or error)."""
    source = path.as_posix()
    try:
        text = read_bounded_text(path, MAX_EVENTS_FILE_BYTES)
    except (OSError, UnicodeDecodeError) as error:
        yield 0, IngestError(source=source, message=f"cannot read: {error}")
        return
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped.rstrip()):
        try:
            loaded = load_json(text)
        except JsonRejected as rejected:
            yield 0, IngestError(source=source, field=rejected.path, message=rejected.reason)
            return
        except ValueError as error:
            line = getattr(error, "lineno", None)
            yield line or 0, IngestError(source=source, line=line, message=str(error))
            return
        yield from enumerate(loaded if isinstance(loaded, list) else [loaded], 1)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, load_json(line)
            except ValueError as error:  # not JSON, or JSON Baton refuses
                yield number, IngestError(source=source, line=number, message=str(error))


__all__ = ["InvalidEvent", "parse_event", "read_events"]
