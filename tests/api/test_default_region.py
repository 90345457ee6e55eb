"""Without `api.default_region` no country is guessed: a national number gets a 422 that
says how to write it or how to set the region; international numbers still go through."""

from __future__ import annotations

import httpx
import pytest

from tests.api.live import LiveApi

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def no_region(api: LiveApi, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = api.services.settings
    unset = settings.model_copy(
        update={"api": settings.api.model_copy(update={"default_region": ""})}
    )
    monkeypatch.setattr(api.services, "settings", unset)


@pytest.mark.usefixtures("no_region")
def test_a_national_number_without_a_region_is_a_422_saying_how_to_fix_it(
    client: httpx.Client,
) -> None:
    response = client.post("/api/v1/messages", json={"to": "0721 000 124", "text": "Hello"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'0721 000 124' has no +country code and api.default_region is not set" in detail
    assert "SMSGW_API__DEFAULT_REGION" in detail
    assert "+<country code>" in detail


@pytest.mark.usefixtures("no_region")
def test_an_international_number_needs_no_region(client: httpx.Client) -> None:
    response = client.post("/api/v1/messages", json={"to": "+40 721 000 125", "text": "Hello"})
    assert response.status_code == 202
    assert response.json()["to"] == "+40721000125"


@pytest.mark.usefixtures("no_region")
def test_an_unknown_country_code_is_still_reported_as_such(client: httpx.Client) -> None:
    response = client.post("/api/v1/messages", json={"to": "+999 123 456", "text": "Hello"})
    assert response.status_code == 422
    assert "unknown country code" in response.json()["detail"]
