"""Parsers for stored and sent messages: ``+CMGR``/``+CMGL`` headers, ``+CMGS`` references.

Each parser takes one information line, with or without its ``+XXX:`` prefix, and returns a
small frozen value or raises :class:`~smsgw.exceptions.AtResponseError`. Real firmwares bend
every format (PROTOCOL.md §2-§5); the parsers accept those variants and reject only what is
meaningless. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgw.at.fields import integer, optional_integer, split_fields, strip_prefix, unquote
from smsgw.exceptions import AtResponseError

__all__ = [
    "ListedMessage",
    "StoredHeader",
    "parse_cmgl_header",
    "parse_cmgr_header",
    "parse_cmgs",
]


@dataclass(frozen=True)
class StoredHeader:
    """``+CMGR: [<stat>],[<alpha>],<length>`` (PDU mode). Do not trust ``length`` (§5.2)."""

    stat: int | None
    alpha: str | None
    length: int | None


@dataclass(frozen=True)
class ListedMessage:
    """``+CMGL: <index>,<stat>,[<alpha>],<length>`` (PDU mode)."""

    index: int
    stat: int | None
    alpha: str | None
    length: int | None


def parse_cmgr_header(line: str) -> StoredHeader:
    """All the forms of PROTOCOL.md §5.2: ``0,,24``, ``1,"",23``, ``,,27``, ``24``,
    ``0,23``, ``4,1,,151``."""
    fields = split_fields(strip_prefix(line, "+CMGR"))
    if not fields or not fields[-1]:
        raise AtResponseError("+CMGR", line)
    length = integer(fields[-1], "+CMGR length", line)
    if len(fields) == 1:
        return StoredHeader(stat=None, alpha=None, length=length)
    stat = optional_integer(fields[0])
    if unquote(fields[0]) and stat is None:
        raise AtResponseError("+CMGR stat", line)
    alpha = unquote(fields[-2]) if len(fields) >= 3 else None
    return StoredHeader(stat=stat, alpha=alpha or None, length=length)


def parse_cmgl_header(line: str) -> ListedMessage:
    fields = split_fields(strip_prefix(line, "+CMGL"))
    if len(fields) < 2:
        raise AtResponseError("+CMGL", line)
    index = integer(fields[0], "+CMGL index", line)
    stat = optional_integer(fields[1])
    length = optional_integer(fields[-1]) if len(fields) >= 3 else None
    alpha = unquote(fields[2]) if len(fields) >= 4 else None
    return ListedMessage(index=index, stat=stat, alpha=alpha or None, length=length)


def parse_cmgs(line: str) -> int:
    """``+CMGS: <mr>[,<scts>]`` -> the TP-MR (0..255)."""
    fields = split_fields(strip_prefix(line, "+CMGS"))
    reference = integer(fields[0], "+CMGS", line)
    if reference > 255:
        raise AtResponseError("+CMGS reference", line)
    return reference
