"""TP-SCTS / TP-DT / absolute TP-VP: seven swapped-BCD octets YY MM DD hh mm ss TZ.

The zone is in quarter hours; bit 3 of the first (low) semi-octet is the sign. Real modems
send non-BCD nibbles (a zone octet `C2` was captured); such a nibble is read by its value
(C = 12), which is what other decoders do, and the result must still be a valid date.
Two-digit years use the window 1970-2069.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from smsgw.exceptions import PduError
from smsgw.pdu.reader import OctetReader

TIMESTAMP_OCTETS = 7
_CENTURY_PIVOT = 70  # YY >= 70 -> 19YY, else 20YY


def _swapped(octet: int) -> int:
    """Semi-octet pair -> number, low nibble is the tens digit."""
    return (octet & 0x0F) * 10 + (octet >> 4)


def read_timestamp(reader: OctetReader, field: str) -> datetime:
    start = reader.offset
    raw = reader.take(TIMESTAMP_OCTETS, field)
    year, month, day, hour, minute, second = (_swapped(octet) for octet in raw[:6])
    zone = raw[6]
    quarters = (zone & 0x07) * 10 + (zone >> 4)
    if zone & 0x08:
        quarters = -quarters
    year += 1900 if year >= _CENTURY_PIVOT else 2000
    try:
        return datetime(
            year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(timedelta(minutes=15 * quarters)),
        )
    except ValueError as exc:
        raise PduError(
            f"{field} at offset {start} is not a valid date ({raw.hex().upper()}): {exc}"
        ) from None


def _bcd(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def encode_timestamp(moment: datetime) -> bytes:
    """Seven octets; a naive datetime is taken as UTC. Offsets round to the quarter hour."""
    offset = moment.utcoffset() if moment.tzinfo is not None else None
    if offset is None:
        moment = moment.replace(tzinfo=UTC)
        offset = timedelta(0)
    if not 1970 <= moment.year <= 2069:
        raise PduError(f"timestamp year {moment.year} is outside 1970-2069 (two-digit years)")
    quarters = round(offset.total_seconds() / 900)
    if abs(quarters) > 79:
        raise PduError(f"time zone offset {offset} does not fit a PDU timestamp")
    zone = _bcd(abs(quarters)) | (0x08 if quarters < 0 else 0)
    fields = (
        moment.year % 100,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    return bytes(_bcd(value) for value in fields) + bytes((zone,))
