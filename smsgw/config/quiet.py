"""Quiet hours: a daily window ("21:00-08:00") in a named time zone during which client
sends wait. Pure: the window and the one question asked of it (when may a message sent at
this instant go out?), so it can be tested with any clock.

Local wall-clock times are what people mean ("not after nine in the evening"), so the
window is evaluated in the zone's local time with `zoneinfo`: across a DST change 08:00 is
still 08:00 on the wall, whatever the UTC offset did overnight. A window whose start is
after its end runs across midnight. An end time that does not exist on a spring-forward day
(inside the skipped hour) is read with the offset before the change, i.e. the first instant
the wall clock shows at least that time.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["QuietHours", "parse_quiet_hours", "parse_zone"]

_WINDOW = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone `name` ("Europe/Bucharest", "UTC"); ValueError naming it otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone name (IANA, e.g. Europe/Bucharest or UTC)"
        ) from None


def parse_quiet_hours(spec: str) -> tuple[datetime.time, datetime.time]:
    """("21:00-08:00") → (21:00, 08:00); ValueError for anything else or an empty window."""
    match = _WINDOW.match(spec)
    if match is None:
        raise ValueError(f"{spec!r} is not a window like 21:00-08:00")
    start = datetime.time(int(match.group(1)), int(match.group(2)))
    end = datetime.time(int(match.group(3)), int(match.group(4)))
    if start == end:
        raise ValueError(f"{spec!r} starts and ends at the same time")
    return start, end


@dataclasses.dataclass(frozen=True, slots=True)
class QuietHours:
    """The window [start, end) in `zone`, every day."""

    start: datetime.time
    end: datetime.time
    zone: ZoneInfo

    @property
    def crosses_midnight(self) -> bool:
        return self.start > self.end

    def release_time(self, when: datetime.datetime) -> datetime.datetime:
        """`when` itself if it is outside the window, else the end of that window (UTC)."""
        local = when.astimezone(self.zone)
        wall = local.time().replace(tzinfo=None)
        if self.crosses_midnight:
            if wall >= self.start:
                return self._at(local.date() + datetime.timedelta(days=1), self.end)
            if wall < self.end:
                return self._at(local.date(), self.end)
            return when
        if self.start <= wall < self.end:
            return self._at(local.date(), self.end)
        return when

    def _at(self, day: datetime.date, wall: datetime.time) -> datetime.datetime:
        return datetime.datetime.combine(day, wall, tzinfo=self.zone).astimezone(datetime.UTC)
