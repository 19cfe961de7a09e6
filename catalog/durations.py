"""Durations as people and standards write them: `90s`, `30m`, `4h`, `1d`, and ODCS SLA
units (`d`, `day`, `days`, `h`, `hr`, `hour`, ...)."""

from __future__ import annotations

import re

UNIT_SECONDS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")


def seconds(text: str) -> float:
    """`4h` -> 14400.0; a ValueError naming the text for anything else."""
    match = _DURATION.match(text)
    unit = match[2].lower() if match else ""
    if not match or unit not in UNIT_SECONDS:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 4h or 1d")
    return float(match[1]) * UNIT_SECONDS[unit]


def of(value: object, unit: object) -> float | None:
    """An SLA's value and unit (ODCS `slaProperties`) in seconds; None when not a duration."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or not unit:
        return None
    try:
        return seconds(f"{value}{unit}")
    except ValueError:
        return None


def spoken(total: float) -> str:
    """14400 -> `4h`, 5400 -> `1h 30m`: how long, as a person says it."""
    left = int(total)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2])
