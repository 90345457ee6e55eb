"""TP-UDL + TP-UD: the optional header, fill bits and the text in its alphabet.

Decoding tolerates real damage: a TP-UDL that promises more than follows (decode what is
there) and octets after the user data (ignored). A header that is cut short is an error:
without it the text cannot be located.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7, ucs2
from smsgw.pdu.model import Concat, Encoding
from smsgw.pdu.reader import OctetReader
from smsgw.pdu.udh import parse_udh


@dataclass(frozen=True)
class UserData:
    text: str | None
    data: bytes | None
    concat: Concat | None
    truncated: bool  # TP-UDL promised more than the PDU holds; the text is what was there


def fill_bits_after(header_octets: int) -> int:
    """Zero bits that align GSM-7 text to a septet boundary after a UDH of that many octets."""
    return (7 - (header_octets * 8) % 7) % 7


def read_user_data(reader: OctetReader, encoding: Encoding, udhi: bool) -> UserData:
    udl_offset = reader.offset
    udl = reader.octet("TP-UDL")
    start = reader.offset
    wanted = (udl * 7 + 7) // 8 if encoding == "gsm7" else udl
    body = reader.rest()[:wanted]  # octets beyond the UD are trailing garbage
    header = b""
    concat = None
    if udhi and udl:
        if not body:
            raise PduError(f"TP-UDHI is set but no user data follows TP-UDL at offset {udl_offset}")
        udhl = body[0]
        header = body[1 : 1 + udhl]
        if len(header) < udhl:
            raise PduError(
                f"UDH length {udhl} at offset {start} but only {len(header)} octets follow"
            )
        concat = parse_udh(header, start + 1)
        header = body[: 1 + udhl]
    payload = body[len(header) :]
    truncated = len(body) < wanted
    if encoding == "gsm7":
        fill = fill_bits_after(len(header))
        header_septets = (len(header) * 8 + fill) // 7
        if header_septets > udl:
            raise PduError(
                f"TP-UDL at offset {udl_offset} says {udl} septets, fewer than the "
                f"{header_septets} the {len(header)}-octet UDH occupies"
            )
        available = (len(payload) * 8 - fill) // 7 if payload else 0
        count = min(udl - header_septets, max(available, 0))
        text = gsm7.septets_to_text(gsm7.unpack(payload, count, fill))
        return UserData(text, None, concat, truncated)
    if encoding == "ucs2":
        return UserData(ucs2.decode(payload), None, concat, truncated or len(payload) % 2 == 1)
    return UserData(None, bytes(payload), concat, truncated)


def gsm7_user_data(septets: list[int], udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL in septets, TP-UD) for GSM-7 text after an optional UDH (with its length octet)."""
    fill = fill_bits_after(len(udh))
    udl = (len(udh) * 8 + fill) // 7 + len(septets)
    return udl, udh + gsm7.pack(septets, fill)


def octet_user_data(payload: bytes, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL in octets, TP-UD) for UCS-2 or 8-bit data after an optional UDH."""
    return len(udh) + len(payload), udh + payload
