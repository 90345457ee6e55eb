"""Wrong keys are throttled per client and logged once per burst; sign-out ends the session on
the server; a changed key ends every session; /metrics and /docs can need the key; /docs
needs no network."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from smsgw.config import load_settings
from smsgw.gateway.throttle import AuthThrottle
from smsgw.store import open_database, upgrade
from smsgw.webapp import create_app
from tests.api.live import API_KEY, FakeServices, write_config


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[FakeServices]:
    settings = load_settings(write_config(tmp_path), env={})
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    yield FakeServices(settings=settings, db=db, api_key=API_KEY)
    await db.close()


def _client(app: object, address: str = "192.0.2.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://gw")


async def _sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/ui/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post("/ui/login", data={"login_token": token.group(1), "api_key": key})


async def test_wrong_api_keys_are_throttled_per_client_and_logged_once(
    services: FakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smsgw.gateway.throttle")
    clock = Clock()
    app = create_app(
        services, lambda: services.api_key, throttle=AuthThrottle(free_failures=3, clock=clock)
    )
    wrong = {"X-API-Key": "not-the-key-at-all"}
    async with _client(app) as guesser, _client(app, "192.0.2.99") as other:
        statuses = [(await guesser.get("/api/v1/modems", headers=wrong)).status_code]
        statuses += [(await guesser.get("/api/v1/modems", headers=wrong)).status_code]
        statuses += [(await guesser.get("/api/v1/modems", headers=wrong)).status_code]
        assert statuses == [401, 401, 401]
        blocked = await guesser.get("/api/v1/modems", headers=wrong)
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == "1"
        # Even the right key waits: the delay is what makes guessing slow.
        right = await guesser.get("/api/v1/modems", headers={"X-API-Key": API_KEY})
        assert right.status_code == 429
        # Another client is not affected.
        assert (await other.get("/api/v1/modems", headers={"X-API-Key": API_KEY})).is_success
        # The delay doubles with every failure after the free ones.
        clock.now += 1.5
        assert (await guesser.get("/api/v1/modems", headers=wrong)).status_code == 401
        again = await guesser.get("/api/v1/modems", headers=wrong)
        assert (again.status_code, again.headers["Retry-After"]) == (429, "2")
        clock.now += 2.5
        assert (await guesser.get("/api/v1/modems", headers={"X-API-Key": API_KEY})).is_success
        assert (await guesser.get("/api/v1/modems", headers=wrong)).status_code == 401
    burst_lines = [r for r in caplog.records if r.name == "smsgw.gateway.throttle"]
    assert len(burst_lines) == 2  # one per burst (the key in between ended the first)
    assert "192.0.2.7" in burst_lines[0].getMessage()


async def test_wrong_sign_in_passwords_are_throttled_too(services: FakeServices) -> None:
    app = create_app(
        services, lambda: services.api_key, throttle=AuthThrottle(free_failures=2, clock=Clock())
    )
    async with _client(app) as browser:
        assert (await _sign_in(browser, "wrong-1")).status_code == 401
        assert (await _sign_in(browser, "wrong-2")).status_code == 401
        refused = await _sign_in(browser, API_KEY)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert "Too many wrong keys" in refused.text
        # The API and the inbox count together: the same client's API calls wait as well.
        assert (
            await browser.get("/api/v1/modems", headers={"X-API-Key": API_KEY})
        ).status_code == 429


async def test_sign_out_ends_the_session_on_the_server(services: FakeServices) -> None:
    app = create_app(services, lambda: services.api_key)
    async with _client(app) as browser:
        assert (await _sign_in(browser, API_KEY)).status_code == 303
        cookie = browser.cookies["smsgw_ui"]
        page = await browser.get("/ui/conversations")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        assert (await browser.post("/ui/logout", data={"csrf": csrf.group(1)})).status_code == 303
    async with _client(app) as thief:  # a copy of the cookie taken before the sign-out
        thief.cookies.set("smsgw_ui", cookie, path="/ui")
        after = await thief.get("/ui/conversations")
        assert after.status_code == 303
        assert after.headers["location"] == "/ui/login"


async def test_a_changed_key_ends_every_session_for_good(services: FakeServices) -> None:
    app = create_app(services, lambda: services.api_key)
    async with _client(app) as browser:
        assert (await _sign_in(browser, API_KEY)).status_code == 303
        assert (await browser.get("/ui/conversations")).status_code == 200
        services.api_key = "a-brand-new-key-0123456789"
        assert (await browser.get("/ui/conversations")).status_code == 303
        services.api_key = API_KEY  # changing it back revives nothing
        assert (await browser.get("/ui/conversations")).status_code == 303


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json"])
async def test_metrics_and_docs_can_need_the_key(
    services: FakeServices, path: str, tmp_path: Path
) -> None:
    (tmp_path / "private").mkdir()
    public = create_app(services, lambda: services.api_key)
    async with _client(public) as client:
        assert (await client.get(path)).status_code == 200  # today's default
    config = write_config(tmp_path / "private")
    config.write_text(config.read_text().replace("[api]\n", "[api]\npublic_metrics = false\n"))
    services.settings = load_settings(config, env={})
    assert services.settings.api.public_metrics is False
    private = create_app(services, lambda: services.api_key)
    async with _client(private) as client:
        assert (await client.get(path)).status_code == 401
        allowed = await client.get(path, headers={"Authorization": f"Bearer {API_KEY}"})
        assert allowed.status_code == 200
        assert (await client.get("/health/ready")).status_code == 200  # health stays open


async def test_docs_need_no_network(services: FakeServices) -> None:
    async with _client(create_app(services, lambda: services.api_key)) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        for source in sources:
            assert source.startswith("/"), f"{source} would need the network"
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 100
        assert "swagger-ui-bundle.js" in page.text
        assert (await client.get("/docs/assets/..%2Fsmsgw.toml")).status_code == 404
