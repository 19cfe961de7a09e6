"""Settings read from the environment (and CLI flags), resolved once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    """Data directory of the embedded store (`BATON_HOME`, default `./.baton`)."""

    @classmethod
    def from_env(cls, home: Path | None = None) -> Settings:
        return cls(home=home or Path(os.environ.get("BATON_HOME", ".baton")))

    @property
    def database(self) -> Path:
        return self.home / "baton.db"
