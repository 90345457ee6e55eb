"""User-data header (TS 23.040 §9.2.3.24): concatenation IEs, everything else skipped.

A concat IE with a zero total, zero sequence or a sequence beyond the total is ignored,
as the spec asks, so a broken sender never makes us wait for parts that cannot come.
"""

from __future__ import annotations

from smsgw.exceptions import PduError
from smsgw.pdu.model import Concat

IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08


def parse_udh(header: bytes, offset: int) -> Concat | None:
    """`header` is the UDH without its length octet; `offset` is where it starts in the PDU."""
    concat: Concat | None = None
    position = 0
    while position < len(header):
        if position + 2 > len(header):
            raise PduError(f"UDH: information element at offset {offset + position} has no length")
        iei, length = header[position], header[position + 1]
        body = header[position + 2 : position + 2 + length]
        if len(body) < length:
            raise PduError(
                f"UDH: IE 0x{iei:02X} at offset {offset + position} says {length} octets "
                f"but the header has only {len(body)} left"
            )
        if iei == IEI_CONCAT_8 and length == 3:
            concat = _concat(body[0], body[1], body[2], 8)
        elif iei == IEI_CONCAT_16 and length == 4:
            concat = _concat(body[0] << 8 | body[1], body[2], body[3], 16)
        position += 2 + length
    return concat


def _concat(ref: int, total: int, seq: int, ref_bits: int) -> Concat | None:
    if total == 0 or seq == 0 or seq > total:
        return None
    return Concat(ref=ref, total=total, seq=seq, ref_bits=ref_bits)


def build_concat_udh(ref: int, total: int, seq: int) -> bytes:
    """The UDH including its length octet: 05 00 03 ref total seq (8-bit reference)."""
    return bytes((5, IEI_CONCAT_8, 3, ref, total, seq))
