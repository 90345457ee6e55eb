"""Parsers for message storage use and choice: ``AT+CPMS=?``, ``AT+CPMS?``, ``AT+CPMS=``.

Each parser takes one information line, with or without its ``+XXX:`` prefix, and returns a
small frozen value or raises :class:`~smsgw.exceptions.AtResponseError`. Real firmwares bend
every format (PROTOCOL.md §2-§5); the parsers accept those variants and reject only what is
meaningless. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgw.at.fields import integer, split_fields, strip_prefix, unquote
from smsgw.exceptions import AtResponseError

__all__ = ["StorageUse", "parse_cpms_query", "parse_cpms_set", "parse_cpms_support"]


@dataclass(frozen=True)
class StorageUse:
    """One memory of ``+CPMS``: name (``None`` in the set form) and its use."""

    memory: str | None
    used: int
    total: int

    @property
    def full(self) -> bool:
        return self.total > 0 and self.used >= self.total


_QUOTED = re.compile(r'"([^"]*)"')


def parse_cpms_support(line: str) -> tuple[tuple[str, ...], ...]:
    """``AT+CPMS=?`` -> the memories allowed for mem1, mem2, mem3 (fewer when not given).

    Accepts ``("SM","ME"),("SM","ME"),...``, spaces, Wavecom's ``(("SM","BM","SR"),("SM"))``
    and the no-parentheses form ``"ME","MT","SM"`` (one memory per position).
    """
    body = strip_prefix(line, "+CPMS")
    if "(" in body:
        groups = re.findall(r"\(([^()]*)\)", body)
        return tuple(tuple(m.strip() for m in _QUOTED.findall(g)) for g in groups)
    return tuple((m.strip(),) for m in _QUOTED.findall(body))


def parse_cpms_query(line: str) -> list[StorageUse]:
    """``AT+CPMS?`` -> ``+CPMS: "ME",0,50,"SM",9,50,"MT",9,100``."""
    fields = split_fields(strip_prefix(line, "+CPMS"))
    uses = []
    for start in range(0, len(fields) - 2, 3):
        memory, used, total = fields[start : start + 3]
        if not unquote(memory) and not unquote(used):
            continue  # Nokia N79: `+CPMS: ,,,,,,,,`
        uses.append(
            StorageUse(
                unquote(memory) or None,
                integer(used, "+CPMS used", line),
                integer(total, "+CPMS total", line),
            )
        )
    if not uses:
        raise AtResponseError("+CPMS?", line)
    return uses


def parse_cpms_set(line: str) -> list[StorageUse]:
    """``AT+CPMS=...`` -> ``+CPMS: 0,50,0,50,0,20`` (pairs of used,total; one pair at least)."""
    fields = split_fields(strip_prefix(line, "+CPMS"))
    if len(fields) < 2:
        raise AtResponseError("+CPMS=", line)
    return [
        StorageUse(
            None, integer(fields[i], "+CPMS used", line), integer(fields[i + 1], "+CPMS", line)
        )
        for i in range(0, len(fields) - 1, 2)
    ]
