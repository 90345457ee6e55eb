"""Webhook settings for tests: retries within milliseconds, so retry tests run on the real clock."""

from __future__ import annotations

import datetime

from smsgw.webhook import BackoffPolicy, WebhookSettings

SECRET = "s3cret-key"
FAST_BACKOFF = BackoffPolicy(
    initial=datetime.timedelta(milliseconds=20), cap=datetime.timedelta(milliseconds=80)
)


def fast_settings(url: str, **overrides: object) -> WebhookSettings:
    """Settings that retry within milliseconds, with `overrides` for the test at hand."""
    values: dict[str, object] = {
        "url": url,
        "secret": SECRET,
        "timeout": 2.0,
        "backoff": FAST_BACKOFF,
        "idle_poll": 5.0,
    }
    values.update(overrides)
    return WebhookSettings(**values)  # type: ignore[arg-type]
