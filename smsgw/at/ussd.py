"""USSD on the wire: the request's spelling, the ``+CUSD:`` line, and its text decoded.

Two spellings exist (PROTOCOL.md §3.3.8): SIMCom and the 27.007 text takes the string as
text in the ``AT+CSCS`` character set; Huawei sticks in their default ``AT^USSDMODE=1``
(gammu's F_ENCODED_USSD) want the request as packed GSM-7 in hex and answer the same way.
Either side may answer in UCS-2 (DCS 72 = 0x48, or 0x11 with a language prefix): the
string is then the UTF-16BE code units in hex. Everything here is pure and never raises
on what the network sent: an undecodable answer is returned as it came.
"""

from __future__ import annotations

import dataclasses
import re

from smsgw.at.fields import split_fields
from smsgw.exceptions import AtResponseError, PduError
from smsgw.pdu import gsm7

__all__ = [
    "DEFAULT_DCS",
    "CusdLine",
    "UssdStatus",
    "decode_text",
    "pack_request",
    "parse_cusd",
]

#: DCS 15 (0x0F): GSM-7 default alphabet, language unspecified — what every modem expects.
DEFAULT_DCS = 15
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


class UssdStatus:
    """``<m>`` of ``+CUSD`` (27.007 §7.15): what the network wants next."""

    DONE = 0  # no further user action required
    MORE = 1  # further user action required (a menu waiting for an answer)
    TERMINATED = 2  # the network ended the session
    OTHER_CLIENT = 3  # another local client has responded
    NOT_SUPPORTED = 4  # operation not supported
    NETWORK_TIMEOUT = 5  # the network timed out


@dataclasses.dataclass(frozen=True, slots=True)
class CusdLine:
    """One ``+CUSD: <m>[,<str>[,<dcs>]]`` line; ``text`` is the raw ``<str>`` (or None)."""

    status: int
    text: str | None
    dcs: int | None


def parse_cusd(args: str) -> CusdLine:
    """The fields after ``+CUSD:``; AtResponseError when ``<m>`` is not a number."""
    fields = split_fields(args)
    if not fields or not _is_number(fields[0]):
        raise AtResponseError("+CUSD", args)
    status = int(fields[0].strip())
    text = _unquoted(fields[1]) if len(fields) > 1 and fields[1].strip() else None
    dcs: int | None = None
    if len(fields) > 2 and _is_number(fields[2]):
        dcs = int(fields[2].strip())
    return CusdLine(status, text, dcs)


def _unquoted(field: str) -> str:
    """The string without its quotes; blanks inside are part of the network's text."""
    text = field.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def _alphabet(dcs: int | None) -> str:
    """``gsm7``, ``8bit`` or ``ucs2`` from a CBS data coding scheme (23.038 §5)."""
    if dcs is None:
        return "gsm7"
    group = dcs >> 4
    if dcs == 0x11:
        return "ucs2"  # UCS-2 preceded by a two-character language indication
    if group in (0x4, 0x5, 0x6, 0x7, 0x9):  # general coding (compressed or not), message class
        return ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 0x3]
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def _ucs2(hex_text: str) -> str:
    data = bytes.fromhex(hex_text)
    if len(data) % 2:
        data = data[:-1]
    return data.decode("utf-16-be", errors="replace")


def _unpack(hex_text: str) -> str:
    """Packed GSM-7 hex to text; the 7 spare bits of a full last octet are padding (CR)."""
    data = bytes.fromhex(hex_text)
    septets = gsm7.unpack(data, len(data) * 8 // 7)
    if len(data) % 7 == 0 and septets and septets[-1] in (0x00, 0x0D):
        septets = septets[:-1]
    return gsm7.septets_to_text(septets)


def decode_text(raw: str, dcs: int | None, *, packed: bool) -> str:
    """The answer's text: UCS-2 hex or (``packed``) GSM-7 hex decoded, else ``raw`` itself.

    A UCS-2 answer is always hex; a GSM-7 one is hex only on ``packed`` firmwares. When the
    string is not the hex its DCS promises (a firmware that already decoded it), it is
    returned unchanged rather than garbled.
    """
    alphabet = _alphabet(dcs)
    if alphabet == "ucs2" and _HEX.match(raw) and len(raw) % 4 == 0:
        text = _ucs2(raw)
        if dcs == 0x11 and len(text) >= 2:
            text = text[2:].lstrip("\r\n")  # the language indication comes first
        return text
    if alphabet == "gsm7" and packed and _HEX.match(raw):
        try:
            return _unpack(raw)
        except (PduError, ValueError):
            return raw
    if alphabet == "8bit" and _HEX.match(raw):
        return bytes.fromhex(raw).decode("latin-1")
    return raw


def pack_request(code: str) -> str:
    """``code`` as packed GSM-7 hex for a Huawei stick in ``^USSDMODE=1`` (PduError when a
    character is outside GSM-7). Seven spare bits are filled with CR (23.038 §6.1.2.3.1)."""
    septets = gsm7.text_to_septets(code)
    if len(septets) % 8 == 7:
        septets.append(0x0D)
    return gsm7.pack(septets).hex().upper()


def _is_number(field: str) -> bool:
    """ASCII digits only: a garbled line's "²" passes str.isdigit() but not int()."""
    stripped = field.strip()
    return stripped.isascii() and stripped.isdigit()
