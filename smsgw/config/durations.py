"""Durations in configuration: "90s", "10m", "48h", "2d", "1h30m", or a number of seconds.

Why a syntax of its own: retry windows and lease times are read by people in hours and days,
and a bare `172800` in a TOML file says nothing. `format_duration` prints what
`parse_duration` reads back, so `smsgw config check` output is itself a valid configuration.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["MAX_DURATION", "Duration", "Seconds", "format_duration", "parse_duration"]

MAX_DURATION = timedelta(days=3650)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(value: object) -> timedelta:
    """Turn `"48h"`-style text (or a number of seconds) into a timedelta.

    Accepted: one or more `<number><unit>` parts with units s, m, h, d, w (`"90s"`, `"10m"`,
    `"1h30m"`, `"2d"`), a bare number of seconds (`30`, `"30"`, `1.5`), or a timedelta.
    Negative values are rejected here; each field sets its own lower bound on top.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError("expected a duration such as '90s', '10m', '48h' or '2d'")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value)
    else:
        raise ValueError("expected a duration such as '90s', '10m', '48h' or '2d'")
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"a duration must be at most {MAX_DURATION.days} days")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


def _parse_duration_text(text: str) -> float:
    compact = text.strip().lower().replace(" ", "")
    try:
        return float(compact)
    except ValueError:
        pass
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not compact or position != len(compact):
        raise ValueError(
            f"{text!r} is not a duration; use a number with a unit: '90s', '10m', '48h', '2d'"
        )
    return total


def format_duration(value: timedelta) -> str:
    """Compact `"1d2h"`-style text (biggest units first) that `parse_duration` reads back."""
    seconds = value.total_seconds()
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining = int(seconds)
    if remaining == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


def _seconds(value: object) -> float:
    """A plain-seconds field that also accepts the duration syntax (`timeout = "10s"`)."""
    return parse_duration(value).total_seconds()


Seconds = Annotated[float, BeforeValidator(_seconds)]
