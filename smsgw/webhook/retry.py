"""What a POST outcome means for the event, and when to try again.

Classification follows CONTRACT.md §2: 2xx delivered, 410 Gone dropped (the receiver said
"never again"), everything else — connection error, timeout, 3xx (redirects are not followed:
a moved webhook is a configuration problem, and following one would re-send the secret to
wherever it points), 4xx, 5xx — retried until `max_age`, then dead-lettered.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import enum
import random


class Outcome(enum.StrEnum):
    """The fate of one attempt."""

    DELIVERED = "delivered"
    DROPPED = "dropped"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


def classify(http_status: int | None) -> Outcome:
    """Outcome of one attempt from its HTTP status (`None`: no response at all)."""
    if http_status is None:
        return Outcome.RETRY
    if 200 <= http_status < 300:
        return Outcome.DELIVERED
    if http_status == 410:
        return Outcome.DROPPED
    return Outcome.RETRY


@dataclasses.dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with proportional jitter and a cap.

    The n-th failure waits `min(cap, initial * multiplier**(n-1))`, shortened by up to
    `jitter` (a fraction) at random so that many events failing together (webhook restart)
    do not all come back in the same second.
    """

    initial: datetime.timedelta = datetime.timedelta(seconds=5)
    multiplier: float = 2.0
    cap: datetime.timedelta = datetime.timedelta(minutes=10)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial <= datetime.timedelta(0):
            raise ValueError("backoff initial delay must be positive")
        if self.cap < self.initial:
            raise ValueError("backoff cap must be >= the initial delay")
        if self.multiplier < 1:
            raise ValueError("backoff multiplier must be >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")

    def delay(self, failures: int, rng: random.Random) -> datetime.timedelta:
        """How long to wait after the `failures`-th consecutive failure (1 = the first)."""
        exponent = max(failures, 1) - 1
        cap_seconds = self.cap.total_seconds()
        try:
            ceiling = min(cap_seconds, self.initial.total_seconds() * self.multiplier**exponent)
        except OverflowError:  # thousands of failures: long past the cap anyway
            ceiling = cap_seconds
        return datetime.timedelta(seconds=ceiling * (1 - self.jitter * rng.random()))


@dataclasses.dataclass(frozen=True, slots=True)
class RetryAt:
    """Try again at `when` (never later than the event's dead-letter deadline)."""

    when: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class GiveUp:
    """The event is older than `max_age`: dead-letter it."""

    age: datetime.timedelta


def after_failure(
    *,
    created_at: datetime.datetime,
    failures: int,
    now: datetime.datetime,
    max_age: datetime.timedelta,
    policy: BackoffPolicy,
    rng: random.Random,
    retry_after: datetime.timedelta | None = None,
) -> RetryAt | GiveUp:
    """Plan the next attempt after a failed one.

    A server's `Retry-After` (429/503) is honoured when it asks for longer than the backoff.
    The last retry is pulled in to the deadline itself, so an event is always tried once at
    `max_age` before being dead-lettered rather than given up early because the next backoff
    step (or a long Retry-After) happened to overshoot.
    """
    deadline = created_at + max_age
    if now >= deadline:
        return GiveUp(now - created_at)
    wait = policy.delay(failures, rng)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return RetryAt(min(now + wait, deadline))


def parse_retry_after(value: str, now: datetime.datetime) -> datetime.timedelta | None:
    """A `Retry-After` header (delay-seconds or HTTP-date) as a delay from `now`; None when
    it is neither (a malformed header is ignored, not an error)."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return datetime.timedelta(seconds=min(int(text), 10**9))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(when - now, datetime.timedelta(0))
