"""/health/ready needs no key, so its answer never names the database user, host or path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from smsgw.api.app import create_app
from smsgw.at import commands
from smsgw.config import load_settings
from smsgw.exceptions import StoreError
from smsgw.gateway import Gateway
from tests.api.live import FakeServices, write_config
from tests.gateway.helpers import gateway_settings

DB_USER = "smsgw_owner"
DB_HOST = "db-primary.internal"


@dataclasses.dataclass
class _BrokenDatabase:
    """A database whose every call fails the way an unreachable PostgreSQL does."""

    async def ping(self) -> None:
        raise StoreError(f"ping failed: cannot reach postgresql://{DB_USER}:***@{DB_HOST}/sms")


async def _ready_answer(app_services: object) -> httpx.Response:
    app = create_app(app_services, "k" * 20)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return await client.get("/health/ready")


async def test_ready_names_no_database_user_or_host(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path), env={})
    services = FakeServices(settings=settings, db=_BrokenDatabase(), api_key="k" * 20)  # type: ignore[arg-type]
    answer = await _ready_answer(services)
    assert answer.status_code == 503
    assert answer.json()["reason"] == "database unreachable"


async def test_the_gateway_readiness_names_no_database_user_or_host(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, webhook_url="", modems={})
    async with Gateway(settings) as gateway:
        working = gateway.db
        gateway.db = _BrokenDatabase()  # type: ignore[assignment]
        try:
            ready, reason = await gateway.ready()
        finally:
            gateway.db = working
    assert not ready
    assert reason == "database unreachable"
    assert DB_USER not in reason
    assert DB_HOST not in reason


def test_a_pin_command_shows_no_pin() -> None:
    command = commands.pin_enter("90517364")
    assert command.wire == b'AT+CPIN="90517364"\r'  # the modem still gets it
    assert "90517364" not in command.shown
    assert "90517364" not in repr(command)
    assert command.name == "AT+CPIN"
    assert commands.read_message(3).shown == "AT+CMGR=3"
