"""Field codecs on their own: validity period scale and time-stamp encoding limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsgw.exceptions import PduError
from smsgw.pdu.reader import OctetReader
from smsgw.pdu.timestamp import encode_timestamp, read_timestamp
from smsgw.pdu.validity import relative_to_timedelta, timedelta_to_relative


@pytest.mark.parametrize(
    ("octet", "period"),
    [
        (0, timedelta(minutes=5)),
        (143, timedelta(hours=12)),
        (144, timedelta(hours=12, minutes=30)),
        (167, timedelta(days=1)),  # the +CSMP=17,167 default
        (168, timedelta(days=2)),
        (170, timedelta(days=4)),
        (196, timedelta(days=30)),
        (197, timedelta(weeks=5)),
        (255, timedelta(weeks=63)),
    ],
)
def test_relative_validity_scale_both_ways(octet: int, period: timedelta) -> None:
    assert relative_to_timedelta(octet) == period
    assert timedelta_to_relative(period) == octet


@pytest.mark.parametrize(
    ("period", "octet"),
    [
        (timedelta(seconds=1), 0),
        (timedelta(minutes=6), 1),
        (timedelta(hours=12, minutes=1), 144),
        (timedelta(days=31), 197),
    ],
)
def test_relative_validity_rounds_up(period: timedelta, octet: int) -> None:
    assert timedelta_to_relative(period) == octet


@pytest.mark.parametrize("period", [timedelta(0), timedelta(weeks=63, seconds=1)])
def test_relative_validity_out_of_range(period: timedelta) -> None:
    with pytest.raises(PduError, match="validity period"):
        timedelta_to_relative(period)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2069, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=14))),
        datetime(2024, 2, 29, 12, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(2024, 6, 1, 5, 45, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    ],
)
def test_timestamp_round_trip(moment: datetime) -> None:
    decoded = read_timestamp(OctetReader(encode_timestamp(moment)), "TP-SCTS")
    assert decoded == moment
    assert decoded.utcoffset() == moment.utcoffset()


def test_naive_timestamp_is_utc() -> None:
    decoded = read_timestamp(OctetReader(encode_timestamp(datetime(2024, 1, 1))), "TP-SCTS")
    assert decoded == datetime(2024, 1, 1, tzinfo=UTC)


def test_year_outside_the_two_digit_window_is_refused() -> None:
    with pytest.raises(PduError, match="outside 1970-2069"):
        encode_timestamp(datetime(2070, 1, 1, tzinfo=UTC))


def test_short_timestamp_names_the_field() -> None:
    with pytest.raises(PduError, match="TP-DT: needs 7 octets at offset 0 but only 3 remain"):
        read_timestamp(OctetReader(b"\x42\x20\x80"), "TP-DT")
