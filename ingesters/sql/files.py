"""Where SQL comes from, named so the name survives a move: a file's identity is its
project and its path inside that project (`warehouse:marts/fct_orders.sql`), never the
path it was typed as. The same folder ingested from the repository root, from a
subfolder or from a CI runner's checkout is the same source, and its jobs the same jobs.

The project is the name of the folder ingested (or the name the caller gives). A folder
ingested whole is a scope: a file that was in it and is no longer is retired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.domain import IngestError, Scope
from catalog.files import read_bounded_text

SOURCE_PREFIX = "sql:"
MAX_SQL_FILE_BYTES = 64 * 2**20
"""A SQL file longer than this is refused (statements are bounded on their own too)."""


def identity(project: str, relative: str) -> str:
    return f"{project}:{relative}"


def is_project_identity(source_path: str) -> bool:
    """Whether a `sql:` source's path is a project identity (sources written before
    identities were stable hold the path as typed, which has no `:`)."""
    return ":" in source_path


@dataclass
class SqlFiles:
    """SQL texts keyed by file identity, where each came from, and read errors."""

    texts: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    errors: list[IngestError] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    """What this read covers whole: one scope per folder, listing every file in it."""

    def located(self, error: IngestError) -> IngestError:
        """`error` naming the file's path on this machine instead of its identity."""
        path = self.paths.get(error.source)
        return error.model_copy(update={"source": path.as_posix()}) if path else error


def read_sql_files(paths: Iterable[Path], project: str | None = None) -> SqlFiles:
    """Every `.sql` file under `paths` (folders recursively), by identity."""
    found = SqlFiles()
    for root in paths:
        is_folder = root.is_dir()
        base = root if is_folder else root.parent
        name = project or base.resolve().name or "sql"
        files = sorted(root.rglob("*.sql")) if is_folder else [root]
        if is_folder:
            present = {
                SOURCE_PREFIX + identity(name, f.relative_to(base).as_posix()) for f in files
            }
            found.scopes.append(Scope(prefix=SOURCE_PREFIX + identity(name, ""), present=present))
        for file in files:
            key = identity(name, file.relative_to(base).as_posix())
            if key in found.paths:
                found.errors.append(IngestError(
                    source=file.as_posix(),
                    message=f"same identity {key!r} as {found.paths[key].as_posix()}: "
                    "ingest the folders separately or give each its own --project",
                ))  # fmt: skip
                continue
            found.paths[key] = file
            try:
                found.texts[key] = read_bounded_text(file, MAX_SQL_FILE_BYTES)
            except (OSError, UnicodeDecodeError) as error:
                found.errors.append(
                    IngestError(source=file.as_posix(), message=f"cannot read: {error}")
                )
    return found
