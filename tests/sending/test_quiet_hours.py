"""Quiet hours with an injected clock: windows across midnight, DST changes in both
directions (Europe/Bucharest), a send_at inside the window, and the config checks."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from smsgw.config import LimitsSection, Settings
from smsgw.config.quiet import QuietHours, parse_quiet_hours
from smsgw.gateway.operations import hold_for_quiet_hours
from smsgw.models import SendOptions

BUCHAREST = ZoneInfo("Europe/Bucharest")
UTC = datetime.UTC


def _night() -> QuietHours:
    start, end = parse_quiet_hours("21:00-08:00")
    return QuietHours(start=start, end=end, zone=BUCHAREST)


def _local(year: int, month: int, day: int, hour: int, minute: int) -> datetime.datetime:
    """A Bucharest wall-clock time, as the UTC instant the gateway works with."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=BUCHAREST).astimezone(UTC)


@pytest.mark.parametrize(
    ("sent", "released"),
    [
        # Winter (EET, +02:00): the evening part waits for 08:00 the next day.
        (_local(2026, 1, 15, 22, 30), _local(2026, 1, 16, 8, 0)),
        (_local(2026, 1, 15, 21, 0), _local(2026, 1, 16, 8, 0)),
        (_local(2026, 1, 15, 23, 59), _local(2026, 1, 16, 8, 0)),
        # After midnight: 08:00 the same day.
        (_local(2026, 1, 16, 0, 0), _local(2026, 1, 16, 8, 0)),
        (_local(2026, 1, 16, 7, 59), _local(2026, 1, 16, 8, 0)),
        # Outside the window: at once.
        (_local(2026, 1, 16, 8, 0), _local(2026, 1, 16, 8, 0)),
        (_local(2026, 1, 16, 12, 0), _local(2026, 1, 16, 12, 0)),
        (_local(2026, 1, 16, 20, 59), _local(2026, 1, 16, 20, 59)),
    ],
)
def test_a_window_across_midnight(sent: datetime.datetime, released: datetime.datetime) -> None:
    assert _night().release_time(sent) == released


def test_spring_forward_night_ends_at_eight_on_the_wall() -> None:
    # 2026-03-29 03:00 EET becomes 04:00 EEST: 22:00 (+02:00) waits until 08:00 (+03:00).
    sent = datetime.datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # 22:00 local, EET
    released = _night().release_time(sent)
    assert released == datetime.datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert released.astimezone(BUCHAREST).hour == 8
    assert released - sent == datetime.timedelta(hours=9)  # one hour of the night is skipped


def test_fall_back_night_ends_at_eight_on_the_wall() -> None:
    # 2026-10-25 04:00 EEST becomes 03:00 EET: the night is one hour longer.
    sent = datetime.datetime(2026, 10, 24, 19, 0, tzinfo=UTC)  # 22:00 local, EEST
    released = _night().release_time(sent)
    assert released == datetime.datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert released.astimezone(BUCHAREST).hour == 8
    assert released - sent == datetime.timedelta(hours=11)


def test_inside_the_repeated_hour_of_a_fall_back_night() -> None:
    # 03:30 happens twice on 2026-10-25; both are inside the window and wait for 08:00 EET.
    first = datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST
    second = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 03:30 EET
    expected = datetime.datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert _night().release_time(first) == _night().release_time(second) == expected


def test_a_daytime_window() -> None:
    start, end = parse_quiet_hours("12:00-14:00")
    lunch = QuietHours(start=start, end=end, zone=BUCHAREST)
    assert lunch.release_time(_local(2026, 6, 1, 13, 0)) == _local(2026, 6, 1, 14, 0)
    assert lunch.release_time(_local(2026, 6, 1, 14, 0)) == _local(2026, 6, 1, 14, 0)
    assert lunch.release_time(_local(2026, 6, 1, 11, 59)) == _local(2026, 6, 1, 11, 59)


def _settings(**limits: object) -> Settings:
    return Settings.model_validate({"database": {"url": "sqlite:///x.db"}, "limits": limits})


def test_send_at_inside_quiet_hours_waits_too() -> None:
    settings = _settings(quiet_hours="21:00-08:00", timezone="Europe/Bucharest")
    now = _local(2026, 1, 15, 12, 0)
    inside = SendOptions(send_at=_local(2026, 1, 15, 23, 0), flash=True)
    held = hold_for_quiet_hours(settings, inside, now)
    assert held.send_at == _local(2026, 1, 16, 8, 0)
    assert held.flash is True
    outside = SendOptions(send_at=_local(2026, 1, 15, 18, 0))
    assert hold_for_quiet_hours(settings, outside, now) == outside
    at_night = _local(2026, 1, 15, 22, 0)
    assert hold_for_quiet_hours(settings, SendOptions(), at_night).send_at == _local(
        2026, 1, 16, 8, 0
    )
    # A send_at in the past means "now": now is what quiet hours judge.
    past = SendOptions(send_at=_local(2026, 1, 15, 12, 0))
    assert hold_for_quiet_hours(settings, past, at_night).send_at == _local(2026, 1, 16, 8, 0)


def test_no_quiet_hours_changes_nothing() -> None:
    options = SendOptions()
    assert hold_for_quiet_hours(_settings(), options, _local(2026, 1, 15, 23, 0)) is options


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"quiet_hours": "9pm-8am"}, "not a window like 21:00-08:00"),
        ({"quiet_hours": "25:00-08:00"}, "not a window"),
        ({"quiet_hours": "08:00-08:00"}, "same time"),
        ({"timezone": "Europe/Atlantis"}, "not a time zone name"),
        ({"timezone": "../../etc/passwd"}, "not a time zone name"),
    ],
)
def test_bad_settings_are_refused(limits: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LimitsSection.model_validate(limits)
