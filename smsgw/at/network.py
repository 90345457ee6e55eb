"""Parsers for the network side: signal (``+CSQ``), registration (``+CREG``), operator
(``+COPS``).

Each parser takes one information line, with or without its ``+XXX:`` prefix, and returns a
small frozen value or raises :class:`~smsgw.exceptions.AtResponseError`. Real firmwares bend
every format (PROTOCOL.md §2-§5); the parsers accept those variants and reject only what is
meaningless. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgw.at.fields import PREFIX, integer, optional_integer, split_fields, strip_prefix, unquote
from smsgw.exceptions import AtResponseError

__all__ = [
    "Operator",
    "Registration",
    "Signal",
    "parse_cops",
    "parse_cops_list",
    "parse_creg",
    "parse_csq",
]


@dataclass(frozen=True)
class Signal:
    """``+CSQ: <rssi>,<ber>`` (27.007 §8.5; PROTOCOL.md §2.6)."""

    rssi: int
    ber: int

    @property
    def dbm(self) -> int | None:
        """-113 + 2*rssi for 0..31, ``None`` for 99 (unknown)."""
        return -113 + 2 * self.rssi if 0 <= self.rssi <= 31 else None


def parse_csq(line: str) -> Signal:
    fields = split_fields(strip_prefix(line, "+CSQ"))
    if len(fields) < 2:
        raise AtResponseError("+CSQ", line)
    return Signal(integer(fields[0], "+CSQ rssi", line), integer(fields[1], "+CSQ ber", line))


_REG_NAMES = {
    0: "not registered",
    1: "registered (home)",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "registered (roaming)",
}


@dataclass(frozen=True)
class Registration:
    """``+CREG`` in its solicited (``<n>,<stat>,...``) or unsolicited (``<stat>,...``) form.

    ``lac``/``ci`` are upper-case hex without quotes or blanks, ``None`` when absent or
    empty; ``n`` is ``None`` for the unsolicited form.
    """

    stat: int
    n: int | None = None
    lac: str | None = None
    ci: str | None = None
    act: int | None = None

    @property
    def registered(self) -> bool:
        return self.stat in (1, 5)

    @property
    def roaming(self) -> bool:
        return self.stat == 5

    @property
    def description(self) -> str:
        return _REG_NAMES.get(self.stat, f"status {self.stat}")


def _hex_field(field: str) -> str | None:
    value = re.sub(r'[\s"]', "", field).upper()
    return value if value and re.fullmatch(r"[0-9A-F]+", value) else None


def parse_creg(line: str, *, solicited: bool | None = None) -> Registration:
    """Parse ``+CREG:`` (also ``+CGREG``/``+CEREG``); ``solicited=None`` guesses the form.

    Guessing (for URCs from modems that send either form, ModemManager's tests): 2 fields,
    or 4+ fields whose second is an unquoted stat (``1``, ``001``), are the solicited form;
    in the unsolicited form the second field is the LAC.
    """
    body = PREFIX.sub("", line.strip(), count=1)
    fields = split_fields(body)
    if solicited is None:
        count = len(fields)
        second = fields[1] if count > 1 else ""
        looks_like_stat = re.fullmatch(r"0*\d", second) is not None
        solicited = count == 2 or (count >= 4 and looks_like_stat)
    if solicited:
        if len(fields) < 2:
            raise AtResponseError("+CREG", line)
        n: int | None = integer(fields[0], "+CREG n", line)
        rest = fields[1:]
    else:
        n, rest = None, fields
    if not rest or not unquote(rest[0]):
        raise AtResponseError("+CREG stat", line)
    stat = integer(rest[0], "+CREG stat", line)
    lac = _hex_field(rest[1]) if len(rest) > 1 else None
    ci = _hex_field(rest[2]) if len(rest) > 2 else None
    act = optional_integer(rest[3]) if len(rest) > 3 else None
    return Registration(stat=stat, n=n, lac=lac, ci=ci, act=act)


@dataclass(frozen=True)
class Operator:
    """``+COPS: <mode>[,<format>,<oper>[,<AcT>]]``; ``name`` is ``None`` when unregistered.

    In the ``AT+COPS=?`` list, ``mode`` holds the operator's ``<stat>`` (0 unknown,
    1 available, 2 current, 3 forbidden) and ``numeric`` its MCC+MNC.
    """

    mode: int
    name: str | None = None
    format: int | None = None
    act: int | None = None
    numeric: str | None = None


def parse_cops(line: str) -> Operator:
    fields = split_fields(strip_prefix(line, "+COPS"))
    mode = integer(fields[0], "+COPS mode", line)
    if len(fields) < 3:
        return Operator(mode=mode)
    fmt = optional_integer(fields[1])
    name = unquote(fields[2]) or None
    act = optional_integer(fields[3]) if len(fields) > 3 else None
    numeric = name if fmt == 2 else None
    return Operator(mode=mode, name=name, format=fmt, act=act, numeric=numeric)


_COPS_ENTRY = re.compile(
    r'\(\s*(\d)\s*,\s*"([^"]*)"\s*,\s*(?:"([^"]*)")?\s*,\s*"(\d+)"\s*(?:,\s*(\d+)\s*)?\)'
)


def parse_cops_list(text: str) -> list[Operator]:
    """Operators of an ``AT+COPS=?`` reply (one or several lines), skipping broken entries."""
    operators = []
    for match in _COPS_ENTRY.finditer(text):
        stat, long_name, short_name, numeric, act = match.groups()
        operators.append(
            Operator(
                mode=int(stat),
                name=long_name or short_name or None,
                format=0,
                act=int(act) if act is not None else None,
                numeric=numeric,
            )
        )
    return operators
