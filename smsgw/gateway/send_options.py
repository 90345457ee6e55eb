"""Checks on a client's sending options (`send_at`, `validity`, `flash`, `encoding`), shared
by every front end that takes them: the REST API, the CSV rows the CLI posts through it, and
the MQTT send topic. Each problem is an `InvalidInput` (a 422) that names the option.

Values arrive as text (JSON strings, CSV cells, MQTT payload fields), so they are parsed here
once, with the same words in every error whatever the front end.
"""

from __future__ import annotations

import datetime

from smsgw.config import parse_duration
from smsgw.gateway.inputs import InvalidInput
from smsgw.models import SendOptions

__all__ = [
    "ENCODINGS",
    "MAX_SCHEDULE_AHEAD",
    "MAX_VALIDITY",
    "MIN_VALIDITY",
    "check_send_options",
    "parse_send_at",
    "parse_validity",
]

#: What `encoding` may say; "auto" (or nothing) picks GSM-7 when every character fits.
ENCODINGS = ("auto", "gsm7", "ucs2")
#: TP-VP's relative format ends at 63 weeks; a longer validity cannot be asked of an SMSC.
MAX_VALIDITY = datetime.timedelta(weeks=63)
#: The shortest relative TP-VP step; shorter values are rounded up to it by the encoder.
MIN_VALIDITY = datetime.timedelta(minutes=5)
#: A send_at further ahead is almost certainly a typo in the year.
MAX_SCHEDULE_AHEAD = datetime.timedelta(days=366)
_MAX_OPTION_CHARS = 64


def parse_send_at(raw: str | datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    """An ISO-8601 time with its UTC offset ("2026-12-24T09:00:00+02:00" or "...Z"), in UTC.

    A naive time is refused: whose 09:00 would it be? A time in the past means "now".
    """
    if isinstance(raw, datetime.datetime):
        when = raw
    else:
        text = raw.strip()
        if len(text) > _MAX_OPTION_CHARS:
            raise InvalidInput("send_at: too long for an ISO-8601 time")
        try:
            when = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"send_at: {raw!r} is not an ISO-8601 time such as 2026-12-24T09:00:00+02:00"
            ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInput(
            f"send_at: {str(raw)!r} has no UTC offset; add one (+02:00, or Z for UTC)"
        )
    when = when.astimezone(datetime.UTC)
    if when - now > MAX_SCHEDULE_AHEAD:
        raise InvalidInput(f"send_at: at most {MAX_SCHEDULE_AHEAD.days} days ahead")
    return when


def parse_validity(raw: str) -> datetime.timedelta:
    """How long the SMSC keeps trying ("30m", "12h", "1d", "63w"): TP-VP, relative format."""
    if len(raw) > _MAX_OPTION_CHARS:
        raise InvalidInput("validity: too long for a duration")
    try:
        period = parse_duration(raw)
    except ValueError as error:
        raise InvalidInput(f"validity: {error}") from None
    if period <= datetime.timedelta(0):
        raise InvalidInput("validity: must be longer than zero")
    if period > MAX_VALIDITY:
        raise InvalidInput(f"validity: {raw!r} is longer than the SMS maximum of 63 weeks (63w)")
    return period


def check_send_options(
    *,
    now: datetime.datetime,
    send_at: str | datetime.datetime | None = None,
    validity: str | None = None,
    flash: bool = False,
    encoding: str | None = None,
) -> SendOptions:
    """All options of one send, checked; `encoding` "auto" or None leaves the choice to the
    text (the caller checks that a forced alphabet can carry it)."""
    chosen = None
    if encoding is not None:
        normalised = encoding.strip().lower()
        if normalised not in ENCODINGS:
            raise InvalidInput(
                f"encoding: {encoding[:_MAX_OPTION_CHARS]!r} is not one of {', '.join(ENCODINGS)}"
            )
        chosen = None if normalised == "auto" else normalised
    return SendOptions(
        send_at=None if send_at is None else parse_send_at(send_at, now),
        validity=None if validity is None or not validity.strip() else parse_validity(validity),
        flash=flash,
        encoding=chosen,
    )
