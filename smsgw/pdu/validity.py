"""TP-VP (TS 23.040 §9.2.3.12): none, relative (one octet), absolute or enhanced (7 octets).

Relative values are a stepped scale; encoding rounds *up* to the next step so a message is
never discarded earlier than the caller asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from smsgw.exceptions import PduError
from smsgw.pdu.reader import OctetReader
from smsgw.pdu.timestamp import encode_timestamp, read_timestamp

VPF_NONE = 0x00
VPF_ENHANCED = 0x08
VPF_RELATIVE = 0x10
VPF_ABSOLUTE = 0x18
VPF_MASK = 0x18


def relative_to_timedelta(octet: int) -> timedelta:
    if octet <= 143:
        return timedelta(minutes=(octet + 1) * 5)
    if octet <= 167:
        return timedelta(hours=12, minutes=(octet - 143) * 30)
    if octet <= 196:
        return timedelta(days=octet - 166)
    return timedelta(weeks=octet - 192)


_STEPS = [relative_to_timedelta(octet) for octet in range(256)]


def timedelta_to_relative(period: timedelta) -> int:
    """Smallest VP octet whose period is at least `period` (5 min .. 63 weeks)."""
    if period <= timedelta(0):
        raise PduError(f"validity period must be positive, not {period}")
    for octet, step in enumerate(_STEPS):
        if step >= period:
            return octet
    raise PduError(f"validity period {period} is longer than the maximum of 63 weeks")


def read_validity(reader: OctetReader, vpf: int) -> timedelta | datetime | None:
    if vpf == VPF_NONE:
        return None
    if vpf == VPF_RELATIVE:
        return relative_to_timedelta(reader.octet("TP-VP (relative)"))
    if vpf == VPF_ABSOLUTE:
        return read_timestamp(reader, "TP-VP (absolute)")
    return _read_enhanced(reader.take(7, "TP-VP (enhanced)"))


def _read_enhanced(octets: bytes) -> timedelta | None:
    """Enhanced format (rare): relative octet, seconds, or hh:mm:ss; anything else -> None."""
    kind = octets[0] & 0x07
    if kind == 1:
        return relative_to_timedelta(octets[1])
    if kind == 2:
        return timedelta(seconds=octets[1])
    if kind == 3:
        h, m, s = (((o & 0x0F) * 10 + (o >> 4)) for o in octets[1:4])
        return timedelta(hours=h, minutes=m, seconds=s)
    return None


def encode_validity(validity: timedelta | datetime | None) -> tuple[int, bytes]:
    """(VPF bits for the first octet, TP-VP octets)."""
    if validity is None:
        return VPF_NONE, b""
    if isinstance(validity, datetime):
        return VPF_ABSOLUTE, encode_timestamp(validity)
    return VPF_RELATIVE, bytes((timedelta_to_relative(validity),))
