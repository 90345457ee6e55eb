"""Tier 3: the modem layer and the CLI over a real pty served by the emulator."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from smsgw.emulator.device import DeviceOptions
from smsgw.emulator.modem import EmulatedModem
from smsgw.modem import (
    MessageReceived,
    ModemState,
    ModemSupervisor,
    StatusReportReceived,
    SupervisorSettings,
    serial_opener,
)
from smsgw.store import repository
from tests.api.live import API_KEY, live_api
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]

OPTIONS = DeviceOptions(boot_scale=0.1, report_delay=0.2)


async def test_supervisor_over_a_pty_survives_an_unplug(tmp_path: Path) -> None:
    link = tmp_path / "modem"
    async with EmulatedModem("sim800", link, options=OPTIONS) as emulator:
        events = Recorder()
        supervisor = ModemSupervisor(
            serial_opener(str(link)),
            sink=events,
            settings=SupervisorSettings(backoff_initial=0.1, backoff_max=0.5),
        )
        supervisor.start()
        try:
            async with asyncio.timeout(10):
                await supervisor.wait_ready()
            await emulator.deliver("+40721000001", "over the pty")
            await eventually(lambda: len(events.of(MessageReceived)) == 1)
            references = await supervisor.send_sms("+40722000002", "reply")
            await eventually(lambda: len(events.of(StatusReportReceived)) == 1)
            assert events.of(StatusReportReceived)[0].report.reference == references[0]

            await emulator.unplug(for_s=3.0)
            await eventually(lambda: supervisor.state is not ModemState.READY, within=5)
            async with asyncio.timeout(15):
                await supervisor.wait_ready()
            assert await supervisor.send_sms("+40722000002", "after replug")
            assert [m.text for m in emulator.sent()] == ["reply", "after replug"]
            assert "disconnected" in events.states()
        finally:
            await supervisor.stop()


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smsgw",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_cli_modem_info_and_send(tmp_path: Path, profile: str) -> None:
    link = tmp_path / "modem"
    async with EmulatedModem(profile, link, options=OPTIONS) as emulator:
        async with asyncio.timeout(10):
            await emulator.wait_ready()
        code, out, err = await _cli("modem", "info", "--port", str(link), "--json")
        assert code == 0, err
        info = json.loads(out)
        assert info["dialect"] == profile
        assert info["identity"]["imei"] == emulator.profile.imei
        assert info["sim"] == "READY"
        assert info["signal_dbm"] is not None
        assert info["storage_support"]

        code, out, err = await _cli("send", "+40722000009", "from the CLI", "--port", str(link))
        assert code == 0, err
        assert json.loads(out)["parts"] == 1
        assert [m.text for m in emulator.sent()] == ["from the CLI"]


async def test_cli_send_without_port_goes_to_the_daemon_not_the_modem(tmp_path: Path) -> None:
    """Without --port `smsgw send` is an API client: it queues the message with the daemon
    and never opens a modem, even when one is right there on a pty."""
    link = tmp_path / "modem"
    async with EmulatedModem("sim800", link, options=OPTIONS) as emulator:
        async with asyncio.timeout(10):
            await emulator.wait_ready()
        with live_api(tmp_path) as api:
            code, out, err = await _cli(
                "send", "+40722000009", "via the daemon", "--api", api.base_url, "--key", API_KEY
            )
            assert code == 0, err
            queued = json.loads(out)
            assert queued["status"] == "queued"
            message = api.run(repository.get_message(api.services.db, queued["id"]))
            assert message is not None
            assert message.message.text == "via the daemon"
        assert emulator.sent() == []


async def test_cli_modem_info_on_a_missing_port(tmp_path: Path) -> None:
    code, _, err = await _cli("modem", "info", "--port", str(tmp_path / "absent"))
    assert code == 1
    assert err.startswith("error: cannot open")
