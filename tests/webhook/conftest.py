"""Fixtures for the webhook tests: a shared httpx client and fast retry settings."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import httpx
import pytest

from smsgw.webhook import BackoffPolicy, WebhookSettings

SECRET = "s3cret-key"
FAST_BACKOFF = BackoffPolicy(
    initial=datetime.timedelta(milliseconds=20), cap=datetime.timedelta(milliseconds=80)
)


def fast_settings(url: str, **overrides: object) -> WebhookSettings:
    """Settings that retry within milliseconds, so retry tests run on the real clock."""
    values: dict[str, object] = {
        "url": url,
        "secret": SECRET,
        "timeout": 2.0,
        "backoff": FAST_BACKOFF,
        "idle_poll": 5.0,
    }
    values.update(overrides)
    return WebhookSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared
