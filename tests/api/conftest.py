"""One live API server per test module (starting uvicorn is the slow part)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.live import LiveApi, live_api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with live_api(tmp_path_factory.mktemp("api")) as served:
        yield served


@pytest.fixture
def client(api: LiveApi) -> Iterator[httpx.Client]:
    """Authenticated client."""
    with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as http:
        yield http


@pytest.fixture
def anonymous(api: LiveApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        yield http
