"""A SIM PIN the SIM rejects never shows up anywhere: logs, API, web inbox, database.

End to end: an emulated SIM800 whose SIM wants PIN 4821, a gateway configured with a wrong
PIN, the real FastAPI app over the running gateway, the real SQLite file on disk.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.gateway import Gateway
from smsgw.modem import ModemState
from smsgw.webapp import create_app
from tests.gateway.helpers import eventually, fast_supervisors, gateway_settings

pytestmark = pytest.mark.timeout(60)

SIM_PIN = "4821"
WRONG_PIN = "90517364"  # eight digits: cannot turn up by chance in a binary database page
API_KEY = "pin-test-key-0123456789"


async def _sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/ui/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = await client.post(
        "/ui/login", data={"login_token": token.group(1), "api_key": API_KEY}
    )
    assert answer.status_code == 303, answer.text


async def test_a_rejected_pin_is_in_no_log_answer_page_or_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smsgw")
    options = DeviceOptions(boot_scale=0.0, pin=SIM_PIN)
    async with EmulatedModem("sim800", tmp_path / "sim0", options=options):
        settings = gateway_settings(tmp_path, webhook_url="", modems={"sim0": tmp_path / "sim0"})
        settings.modem[0] = settings.modem[0].model_copy(update={"pin": SecretStr(WRONG_PIN)})
        async with Gateway(settings, supervisor_settings=fast_supervisors) as gateway:
            supervisor = gateway.supervisor("sim0")
            await eventually(lambda: supervisor.state is ModemState.FAILED)
            assert "PIN" in supervisor.reason  # the operator still learns what is wrong
            app = create_app(gateway, API_KEY, include_ui=True)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                modems = await client.get("/api/v1/modems", headers={"X-API-Key": API_KEY})
                assert modems.status_code == 200
                assert "PIN" in modems.text
                await _sign_in(client)
                page = await client.get("/ui/modems")
                assert page.status_code == 200
                fragment = await client.get("/ui/live/modems")
                health = await client.get("/health/ready")
            await asyncio.sleep(0.2)  # let the state change reach the database
        shown = [modems.text, page.text, fragment.text, health.text, supervisor.reason]
    logged = [caplog.text] + [record.getMessage() for record in caplog.records]
    stored = _database_bytes(tmp_path)
    assert stored  # the database file was written
    for place, text in [("log", "\n".join(logged)), ("answers", "\n".join(shown))]:
        assert WRONG_PIN not in text, place
    assert WRONG_PIN.encode() not in stored


def _database_bytes(directory: Path) -> bytes:
    """The SQLite file and its WAL, raw: a PIN in any row or free page would be in here."""
    return b"".join(path.read_bytes() for path in directory.glob("smsgw.db*") if path.is_file())
