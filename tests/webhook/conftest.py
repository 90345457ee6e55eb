"""Fixtures for the webhook tests: a shared httpx client, and the seed's Flask example
(defined in `tests.webhook.seed_examples`, registered here)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.webhook.seed_examples import flask_example

__all__ = ["client", "flask_example"]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared
