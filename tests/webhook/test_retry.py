"""Outcome classification, backoff with jitter and cap, and the dead-letter deadline."""

from __future__ import annotations

import datetime
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.exceptions import ConfigError
from smsgw.webhook.retry import (
    BackoffPolicy,
    GiveUp,
    Outcome,
    RetryAt,
    after_failure,
    classify,
    parse_retry_after,
)
from smsgw.webhook.settings import WebhookSettings

SECOND = datetime.timedelta(seconds=1)


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.DELIVERED), (201, Outcome.DELIVERED), (204, Outcome.DELIVERED),
    (299, Outcome.DELIVERED),
    (410, Outcome.DROPPED),
    (None, Outcome.RETRY), (300, Outcome.RETRY), (301, Outcome.RETRY), (302, Outcome.RETRY),
    (304, Outcome.RETRY), (400, Outcome.RETRY), (401, Outcome.RETRY), (403, Outcome.RETRY),
    (404, Outcome.RETRY), (409, Outcome.RETRY), (429, Outcome.RETRY), (500, Outcome.RETRY),
    (502, Outcome.RETRY), (503, Outcome.RETRY),
])  # fmt: skip
def test_classify(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


@given(
    failures=st.integers(min_value=1, max_value=10_000),
    initial=st.floats(min_value=0.001, max_value=60),
    multiplier=st.floats(min_value=1, max_value=10),
    cap_factor=st.floats(min_value=1, max_value=1000),
    jitter=st.floats(min_value=0, max_value=0.99),
    seed=st.integers(),
)
@settings(deadline=None, max_examples=200)
def test_delay_is_exponential_jittered_and_capped(
    failures: int, initial: float, multiplier: float, cap_factor: float, jitter: float, seed: int
) -> None:
    policy = BackoffPolicy(
        initial=datetime.timedelta(seconds=initial),
        multiplier=multiplier,
        cap=datetime.timedelta(seconds=initial * cap_factor),
        jitter=jitter,
    )
    delay = policy.delay(failures, random.Random(seed)).total_seconds()
    cap = policy.cap.total_seconds()
    base = policy.initial.total_seconds()
    # Derived in log space (no overflow): the cap is reached once multiplier**(n-1) >= cap/base.
    reached_cap = (failures - 1) * math.log(multiplier) >= math.log(cap / base)
    ceiling = cap if reached_cap else base * multiplier ** (failures - 1)
    assert delay <= ceiling + 1e-6
    assert delay >= ceiling * (1 - jitter) - 1e-6


def test_delays_grow_until_the_cap() -> None:
    policy = BackoffPolicy(initial=SECOND, multiplier=2, cap=60 * SECOND, jitter=0)
    rng = random.Random(1)
    assert [policy.delay(n, rng).total_seconds() for n in range(1, 9)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


def test_jitter_spreads_retries_of_simultaneous_failures() -> None:
    policy = BackoffPolicy(initial=10 * SECOND, jitter=0.5)
    rng = random.Random(7)
    delays = {policy.delay(3, rng) for _ in range(20)}
    assert len(delays) > 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": datetime.timedelta(0)},
        {"initial": 10 * SECOND, "cap": SECOND},
        {"multiplier": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        BackoffPolicy(**kwargs)  # type: ignore[arg-type]


CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
MAX_AGE = datetime.timedelta(minutes=90)
HOURLY = BackoffPolicy(
    initial=datetime.timedelta(hours=1), cap=datetime.timedelta(hours=4), jitter=0
)


def test_retry_is_scheduled_by_the_policy() -> None:
    plan = after_failure(
        created_at=CREATED,
        failures=1,
        now=CREATED,
        max_age=MAX_AGE,
        policy=HOURLY,
        rng=random.Random(),
    )
    assert plan == RetryAt(CREATED + datetime.timedelta(hours=1))


def test_the_last_retry_is_pulled_in_to_the_deadline() -> None:
    now = CREATED + datetime.timedelta(hours=1)
    plan = after_failure(
        created_at=CREATED, failures=2, now=now, max_age=MAX_AGE, policy=HOURLY, rng=random.Random()
    )
    assert plan == RetryAt(CREATED + MAX_AGE)


@pytest.mark.parametrize("late", [datetime.timedelta(0), SECOND, datetime.timedelta(days=3)])
def test_past_max_age_the_event_is_given_up(late: datetime.timedelta) -> None:
    now = CREATED + MAX_AGE + late
    plan = after_failure(
        created_at=CREATED, failures=3, now=now, max_age=MAX_AGE, policy=HOURLY, rng=random.Random()
    )
    assert plan == GiveUp(MAX_AGE + late)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"url": "localhost:3000/hook"}, "webhook.url"),
        ({"url": "ftp://example.org/hook"}, "webhook.url"),
        ({"url": "http:///nohost"}, "webhook.url"),
        ({"url": "http://h/", "secret": "clé"}, "webhook.secret"),
        ({"url": "http://h/", "secret": "a\nb"}, "webhook.secret"),
        ({"url": "http://h/", "timeout": 0}, "webhook.timeout"),
        ({"url": "http://h/", "max_age": datetime.timedelta(0)}, "webhook.max_age"),
        ({"url": "http://h/", "max_in_flight": 0}, "max_in_flight"),
    ],
)
def test_settings_refuse_what_would_only_fail_at_the_first_post(
    kwargs: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookSettings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.key == key


def test_default_settings_follow_the_contract() -> None:
    defaults = WebhookSettings(url="http://127.0.0.1:3000/sms-webhook")
    assert defaults.timeout == 10
    assert defaults.max_age == datetime.timedelta(hours=48)
    assert defaults.secret == ""


NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", datetime.timedelta(seconds=120)),
        (" 0 ", datetime.timedelta(0)),
        ("Thu, 01 Jan 2026 12:05:00 GMT", datetime.timedelta(minutes=5)),
        ("Thu, 01 Jan 2026 11:00:00 GMT", datetime.timedelta(0)),  # in the past: now
        ("-5", None),
        ("soon", None),
        ("1.5", None),
        ("٣", None),
        ("", None),
    ],
)
def test_parse_retry_after(header: str, expected: datetime.timedelta | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_a_longer_retry_after_wins_over_the_backoff_but_not_over_the_deadline() -> None:
    one_second = BackoffPolicy(initial=SECOND, cap=SECOND, jitter=0)

    def plan(retry_after: datetime.timedelta) -> RetryAt | GiveUp:
        return after_failure(
            created_at=NOW,
            failures=1,
            now=NOW,
            max_age=MAX_AGE,
            policy=one_second,
            rng=random.Random(),
            retry_after=retry_after,
        )

    ten_minutes = datetime.timedelta(minutes=10)
    assert plan(ten_minutes) == RetryAt(NOW + ten_minutes)
    assert plan(datetime.timedelta(0)) == RetryAt(NOW + SECOND)
    assert plan(datetime.timedelta(days=9)) == RetryAt(NOW + MAX_AGE)
