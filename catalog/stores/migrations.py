"""Versioned migration files, shared by every backend: `NNNN_description.<ext>`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import catalog
from catalog.domain import sha256_hex

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|cypher)$")


class MigrationError(RuntimeError):
    """The database and the code disagree about the schema; the message says how."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return sha256_hex(self.text)


def migrations_root() -> Path:
    """`migrations/` of a source checkout, or its copy packaged inside the wheel."""
    package = Path(catalog.__file__).parent
    packaged = package / "_migrations"
    return packaged if packaged.is_dir() else package.parent / "migrations"


def load(backend: str) -> list[Migration]:
    folder = migrations_root() / backend
    found = []
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{folder}: migration versions must run 1..n without gaps: {versions}")
    return found


def pending(known: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """Migrations not yet applied, after checking the database is not ahead or edited."""
    latest = len(known)
    newer = [v for v in applied if v > latest]
    if newer:
        raise MigrationError(
            f"the database is at schema version {max(newer)}, newer than this Baton "
            f"(which knows up to {latest}); upgrade Baton instead of downgrading the data"
        )
    for migration in known:
        checksum = applied.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was changed after it was "
                "applied; write a new migration instead of editing an applied one"
            )
    return [m for m in known if m.version not in applied]


def cypher_statements(script: str) -> list[str]:
    """The statements of a `.cypher` migration: `;`-terminated, `//` comment lines dropped."""
    text = "\n".join(line for line in script.splitlines() if not line.strip().startswith("//"))
    return [" ".join(part.split()) for part in text.split(";") if part.strip()]
