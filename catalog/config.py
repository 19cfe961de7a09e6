"""Settings read from the environment (and CLI flags), resolved once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    """Data directory of the embedded store (`BATON_HOME`, default `./.baton`)."""
    api_token: str | None = field(default=None, repr=False)
    """Bearer token that authorizes writes over HTTP (`BATON_API_TOKEN`); none: no writes."""

    @classmethod
    def from_env(cls, home: Path | None = None) -> Settings:
        return cls(
            home=home or Path(os.environ.get("BATON_HOME", ".baton")),
            api_token=os.environ.get("BATON_API_TOKEN") or None,
        )

    @property
    def database(self) -> Path:
        return self.home / "baton.db"
