"""TP-DCS (TS 23.038 §4): which alphabet the user data uses and the message class.

Groups handled: general data coding 00xx/01xx (compression is refused: nobody implements
it), message-waiting 1100/1101 (GSM-7) and 1110 (UCS-2), and 1111 (GSM-7 or 8-bit with a
class). 1000-1011 are reserved, as is alphabet 11 in the general group: those raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgw.exceptions import PduError
from smsgw.pdu.model import Encoding

_ALPHABETS: dict[int, Encoding] = {0: "gsm7", 1: "8bit", 2: "ucs2"}
_CODES: dict[Encoding, int] = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}


@dataclass(frozen=True)
class DataCoding:
    encoding: Encoding
    message_class: int | None


def parse_dcs(dcs: int, offset: int) -> DataCoding:
    group = dcs >> 4
    if group <= 0x7:  # general data coding (0x4-0x7: same, marked for automatic deletion)
        if dcs & 0x20:
            raise PduError(
                f"TP-DCS 0x{dcs:02X} at offset {offset}: compressed user data is not supported"
            )
        alphabet = (dcs >> 2) & 0x03
        if alphabet == 3:
            raise PduError(f"TP-DCS 0x{dcs:02X} at offset {offset}: reserved alphabet")
        message_class = dcs & 0x03 if dcs & 0x10 else None
        return DataCoding(_ALPHABETS[alphabet], message_class)
    if group in (0xC, 0xD):
        return DataCoding("gsm7", None)
    if group == 0xE:
        return DataCoding("ucs2", None)
    if group == 0xF:
        return DataCoding("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03)
    raise PduError(f"TP-DCS 0x{dcs:02X} at offset {offset}: reserved coding group")


def build_dcs(encoding: Encoding, message_class: int | None) -> int:
    """General-group DCS; with a class, bit 4 is set (0x10 = GSM-7 class 0, a flash SMS)."""
    if message_class is None:
        return _CODES[encoding]
    if message_class not in (0, 1, 2, 3):
        raise PduError(f"message class must be 0-3, not {message_class}")
    return 0x10 | _CODES[encoding] | message_class
