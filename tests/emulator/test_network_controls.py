"""`smsgw emulator ussd|call|register|signal|radio-stuck`: the network's side, played from the
command line against a running emulator, checked through what a modem client then sees."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

import smsgw.emulator.calls as emulated_calls
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.modem.base import ModemSettings
from smsgw.modem.direct import connect
from smsgw.modem.events import IncomingCall, ModemEvent

pytestmark = pytest.mark.timeout(40)


async def _emulator(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsgw", "emulator", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_network_controls_from_the_command_line(
    tmp_path: Path, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulated_calls, "RING_INTERVAL", 0.2)
    link, ctl = tmp_path / "m", tmp_path / "m.ctl"
    options = DeviceOptions(boot_scale=0, noise_interval=0, ussd_delay=0.05)
    where = ("--control", str(ctl), "--link", str(link))
    tree = tmp_path / "menu.json"
    tree.write_text(json.dumps({"*100#": ["1 Balance", {"1": "Credit: 3 EUR"}]}))
    events: list[ModemEvent] = []

    async def sink(event: ModemEvent) -> None:
        events.append(event)

    async with (
        EmulatedModem(profile, link, control=ctl, options=options) as emulated,
        connect(str(link), initialise=True, settings=ModemSettings()) as modem,
    ):
        modem.sink = sink
        assert (await _emulator("ussd", "--reply", "Pick 1 or 2", "--menu", *where))[0] == 0
        first = await modem.ussd.request("*123#", wait=5)
        assert (first.status, first.text) == ("more", "Pick 1 or 2")
        await modem.ussd.cancel()
        assert (await _emulator("ussd", "--tree", str(tree), *where))[0] == 0
        assert (await modem.ussd.request("*100#", wait=5)).text == "1 Balance"
        assert (await modem.ussd.request("1", wait=5)).text == "Credit: 3 EUR"

        modem.calls._ring_gap = 0.6
        assert (await _emulator("call", "--withheld", "--rings", "2", *where))[0] == 0
        for _ in range(100):
            if any(isinstance(e, IncomingCall) for e in events):
                break
            await asyncio.sleep(0.05)
        (call,) = [e for e in events if isinstance(e, IncomingCall)]
        assert (call.caller, call.rings) == (None, 2)

        assert (await _emulator("register", "denied", *where))[0] == 0
        assert (await modem.registration()).stat == 3
        assert (await _emulator("register", "roaming", *where))[0] == 0
        assert (await modem.registration()).stat == 5
        assert (await _emulator("signal", "0", *where))[0] == 0
        assert (await modem.signal()).rssi == 0
        assert (await _emulator("register", "home", *where))[0] == 0
        assert (await _emulator("radio-stuck", *where))[0] == 0
        assert not (await modem.registration()).registered
        await modem.restart_radio(pause=0.05)
        assert (await modem.registration()).registered
        assert emulated.device.state.radio_stuck == "no"

    code, _err = await _emulator("call", "--from", "x1", *where)
    assert code == 2
