"""`smsgw ussd` as a user runs it: a child process, a menu answered on stdin, both through a
running gateway's API and directly through an emulated modem on a pty."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import uvicorn

from smsgw.api.app import create_app
from smsgw.config import Settings
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.emulator.ussd import MenuTree
from smsgw.gateway import Gateway
from tests.gateway.helpers import fast_supervisors
from tests.ports import free_port

pytestmark = [pytest.mark.timeout(60)]

KEY = "u" * 24
MENU = MenuTree(
    {
        "*100#": (
            "1 Balance 2 Offers",
            {"2": ("1 Data 2 Minutes", {"1": ("1 Buy 1GB 2 Buy 5GB", {"2": ("5GB bought", {})})})},
        ),
        "*133#": ("Credit: 4.10 EUR", {}),
    }
)
OPTIONS = DeviceOptions(boot_scale=0.0, ussd=MENU, ussd_delay=0.05)


async def _smsgw(*args: str, stdin: str = "") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsgw", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 40)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_direct_menu_answered_on_stdin(tmp_path: Path, profile: str) -> None:
    async with EmulatedModem(profile, tmp_path / "gsm", options=OPTIONS):
        code, out, err = await _smsgw("ussd", "*100#", "--port", str(tmp_path / "gsm"),
                                      stdin="2\n1\n2\n")  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == ["1 Balance 2 Offers", "1 Data 2 Minutes",
                                "1 Buy 1GB 2 Buy 5GB", "5GB bought"]  # fmt: skip


async def test_through_the_api_interactive_and_json(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "smsgw.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "gw.db"}"\n'
        f'[api]\nkey = "{KEY}"\nlisten = "127.0.0.1:{port}"\n[node]\nname = "n1"\n'
        f'[[modem]]\nname = "gsm"\nport = "{tmp_path / "gsm"}"\n',
        encoding="utf-8",
    )
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'gw.db'}"},
            "node": {"name": "n1"},
            "modem": [{"name": "gsm", "port": str(tmp_path / "gsm")}],
        }
    )
    async with (
        EmulatedModem("sim800", tmp_path / "gsm", options=OPTIONS),
        Gateway(settings, supervisor_settings=fast_supervisors) as gateway,
    ):
        await asyncio.wait_for(gateway.supervisor("gsm").wait_ready(), 15)
        app = create_app(gateway, KEY)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await asyncio.sleep(0.02)
            code, out, err = await _smsgw("ussd", "*100#", "--config", str(config),
                                              stdin="2\n1\n2\n")  # fmt: skip
            assert code == 0, err
            assert out.splitlines()[-1] == "5GB bought"
            code, out, err = await _smsgw("ussd", "*100#", "--json", "--config", str(config))
            assert code == 0, err
            first = json.loads(out)
            assert (first["status"], first["text"]) == ("more", "1 Balance 2 Offers")
            code, out, err = await _smsgw("ussd", "2", "--session", first["session"],
                                              "--json", "--config", str(config))  # fmt: skip
            assert json.loads(out)["text"] == "1 Data 2 Minutes"
            code, out, err = await _smsgw("ussd", "*133#", "--json", "--config", str(config))
            assert code == 1
            assert "409" in err
            assert "busy" in err
        finally:
            server.should_exit = True
            await serving
