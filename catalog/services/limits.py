"""Bounds on what one request may ask for; every service checks against these."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.errors import LimitExceeded


@dataclass(frozen=True)
class Limits:
    max_depth: int = 20
    max_lineage_nodes: int = 5_000
    max_page_size: int = 500
    max_detail_changes: int = 10_000
    max_search_length: int = 200
    """Characters of a search text: names are shorter; SQLite refuses long LIKE patterns."""


DEFAULT_LIMITS = Limits()


def check_range(name: str, value: int, maximum: int, minimum: int = 1) -> int:
    if not minimum <= value <= maximum:
        raise LimitExceeded(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value
