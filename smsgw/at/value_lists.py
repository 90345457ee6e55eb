"""Parsers for ``=?`` value-list replies: what ``AT+CNMI`` and ``AT+CMGD`` accept.

Each parser takes one information line, with or without its ``+XXX:`` prefix, and returns a
small frozen value or raises :class:`~smsgw.exceptions.AtResponseError`. Real firmwares bend
every format (PROTOCOL.md §2-§5); the parsers accept those variants and reject only what is
meaningless. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgw.at.fields import NUMBER, strip_prefix
from smsgw.exceptions import AtResponseError

__all__ = ["CnmiSupport", "IntSet", "parse_cmgd_support", "parse_cnmi_support"]


@dataclass(frozen=True)
class IntSet:
    """A set of integers written as ``(0-3)``, ``(0,2)``, ``(0-1,3)`` or ``()``.

    Kept as ranges, so ``(1-5000)`` or a hostile ``(0-999999999)`` costs nothing.
    """

    ranges: tuple[tuple[int, int], ...] = ()

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and any(lo <= value <= hi for lo, hi in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    @property
    def minimum(self) -> int | None:
        return min((lo for lo, _ in self.ranges), default=None)

    @classmethod
    def parse(cls, text: str) -> IntSet:
        ranges = []
        for item in text.strip().strip("()").split(","):
            bounds = [part.strip() for part in item.split("-")]
            if not bounds[0] and len(bounds) == 1:
                continue
            if not all(NUMBER.match(b) for b in bounds) or len(bounds) > 2:
                raise AtResponseError("value list", text)
            low, high = int(bounds[0]), int(bounds[-1])
            ranges.append((min(low, high), max(low, high)))
        return cls(tuple(ranges))


@dataclass(frozen=True)
class CnmiSupport:
    """``AT+CNMI=?`` -> the values each of ``<mode>,<mt>,<bm>,<ds>,<bfr>`` accepts."""

    mode: IntSet
    mt: IntSet
    bm: IntSet
    ds: IntSet
    bfr: IntSet

    def allows(self, mode: int, mt: int, bm: int, ds: int, bfr: int) -> bool:
        """True when every value is listed (an empty list is taken as "only 0")."""
        pairs = ((self.mode, mode), (self.mt, mt), (self.bm, bm), (self.ds, ds), (self.bfr, bfr))
        return all((value in allowed) if allowed else value == 0 for allowed, value in pairs)


def parse_cnmi_support(line: str) -> CnmiSupport:
    groups = re.findall(r"\(([^()]*)\)", strip_prefix(line, "+CNMI"))
    if not groups:
        raise AtResponseError("+CNMI=?", line)
    sets = [IntSet.parse(g) for g in groups[:5]] + [IntSet()] * (5 - min(5, len(groups)))
    return CnmiSupport(*sets)


def parse_cmgd_support(line: str) -> tuple[IntSet, IntSet]:
    """``AT+CMGD=?`` -> (indexes currently in use, delete flags). ``(),(0-4)`` when empty.

    27.005 lists the *stored* indexes, not the valid range, so only a ``0`` in it proves a
    zero-based storage; the driver therefore always uses indexes the modem reported.
    """
    groups = re.findall(r"\(([^()]*)\)", strip_prefix(line, "+CMGD"))
    if not groups:
        raise AtResponseError("+CMGD=?", line)
    flags = IntSet.parse(groups[1]) if len(groups) > 1 else IntSet()
    return IntSet.parse(groups[0]), flags
