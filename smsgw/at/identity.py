"""Parsers for who the modem and its SIM are: ``+CPIN``, SMSC (``+CSCA``), own number
(``+CNUM``) and the ``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN`` identity lines.

Each parser takes one information line, with or without its ``+XXX:`` prefix, and returns a
small frozen value or raises :class:`~smsgw.exceptions.AtResponseError`. Real firmwares bend
every format (PROTOCOL.md §2-§5); the parsers accept those variants and reject only what is
meaningless. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re

from smsgw.at.fields import split_fields, strip_prefix, unquote
from smsgw.exceptions import AtResponseError

__all__ = ["MAX_IDENTITY", "parse_cnum", "parse_cpin", "parse_csca", "parse_identity"]

MAX_IDENTITY = 100
"""Identity strings longer than this are cut (gammu's at-model/04 is 350 digits of junk)."""


def parse_cpin(line: str) -> str:
    """``+CPIN: READY`` -> ``READY`` (``SIM PIN``, ``SIM PUK``, ``NOT INSERTED``...)."""
    code = " ".join(strip_prefix(line, "+CPIN").strip('"').split()).upper()
    if not code:
        raise AtResponseError("+CPIN", line)
    return code


def _maybe_ucs2_hex(value: str) -> str:
    if len(value) >= 8 and len(value) % 4 == 0 and re.fullmatch(r"(00[0-9A-Fa-f]{2})+", value):
        decoded = bytes.fromhex(value).decode("utf-16-be")
        if re.fullmatch(r"\+?[0-9]+", decoded):
            return decoded
    return value


def parse_csca(line: str) -> str | None:
    """``+CSCA: "+79168999100",145`` -> the SMSC number; ``None`` when empty.

    Also decodes the UCS2-hex form some modems use after ``AT+CSCS="UCS2"``.
    """
    fields = split_fields(strip_prefix(line, "+CSCA"))
    number = _maybe_ucs2_hex(unquote(fields[0]).replace(" ", ""))
    if not number:
        return None
    if not re.fullmatch(r"\+?[0-9*#]+", number):
        raise AtResponseError("+CSCA", line)
    return number


def parse_cnum(lines: list[str] | tuple[str, ...]) -> str | None:
    """The SIM's own number from ``AT+CNUM`` (27.007 §7.1), or ``None`` when it stores none.

    ``+CNUM: "","+40721000000",145,7,4`` (SIMCom), ``+CNUM: "","+40721000000",145``
    (Huawei), ``+CNUM: ,"0721000000",129`` and UCS2-hex forms are accepted; the first line
    with a number wins (a SIM may list voice, fax and data numbers). Type 145 (international)
    gets its ``+`` when the firmware left it out. A bare ``OK`` (no lines) or lines with an
    empty number mean the SIM does not know its number: most prepaid cards.
    """
    for line in lines:
        if not line.strip().upper().startswith("+CNUM"):
            continue
        fields = split_fields(strip_prefix(line, "+CNUM"))
        if len(fields) < 2:
            raise AtResponseError("+CNUM", line)
        number = _maybe_ucs2_hex(unquote(fields[1]).replace(" ", ""))
        if not number:
            continue
        if not re.fullmatch(r"\+?[0-9]{1,20}", number):
            raise AtResponseError("+CNUM", line)
        kind = unquote(fields[2]) if len(fields) > 2 else ""
        if kind == "145" and not number.startswith("+"):
            number = "+" + number
        return number
    return None


def parse_identity(lines: list[str], prefix: str | None = None) -> str:
    """The value of ``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN``: first non-empty line, with an
    echoed ``+CGMM:``-style prefix or a ``Revision:`` label removed, blanks collapsed."""
    for raw in lines:
        text = strip_prefix(raw, prefix) if prefix else raw
        text = re.sub(r"^(Revision|Manufacturer|Model)\s*:\s*", "", text.strip(), flags=re.I)
        text = " ".join(text.split())
        if text:
            return text[:MAX_IDENTITY]
    raise AtResponseError("identity", " | ".join(lines))
