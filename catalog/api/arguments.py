"""GraphQL arguments several schema modules share, described once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

AsOf = Annotated[
    datetime | None,
    strawberry.argument(description="Read the catalog as it was at this instant (default: now)."),
]
