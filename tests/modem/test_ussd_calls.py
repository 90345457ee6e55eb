"""Tier 2: USSD sessions and incoming calls through the modem layer, on both personas.

The emulator spells USSD as each firmware does (SIM800 text, Huawei packed GSM-7 hex, UCS-2
hex for answers outside GSM-7) and rings like a real module (RING every few seconds, +CLIP
after it), so these run the driver against the wire format, not against itself.
"""

from __future__ import annotations

import asyncio

import pytest

import smsgw.emulator.calls as emulated_calls
from smsgw.emulator.device import DeviceOptions
from smsgw.emulator.ussd import MenuTree
from smsgw.modem.base import Modem, ModemSettings
from smsgw.modem.events import IncomingCall
from tests.modem.helpers import eventually
from tests.modem.test_emulated import Rig, open_rig

pytestmark = [pytest.mark.timeout(30)]

#: Both personas, and the generic 27.005/27.007 dialect (the emulator's generic profile).
PROFILES = ["sim800", "huawei", "generic"]

MENU = MenuTree(
    {
        "*100#": (
            "1 Balance 2 Offers",
            {
                "1": ("Credit: 7.25 EUR", {}),
                "2": (
                    "1 Data 2 Minutes",
                    {"1": ("1 Buy 1GB 2 Buy 5GB", {"2": ("5GB bought, 10.00 EUR", {})})},
                ),
            },
        ),
        "*133#": ("Soldul tău: 3,50 €. Mulțumim!", {}),
    }
)


async def _ready(rig: Rig) -> Modem:
    return await asyncio.wait_for(rig.supervisor.wait_ready(), 10)


@pytest.mark.parametrize("profile", PROFILES)
async def test_three_level_menu_then_balance(profile: str) -> None:
    options = DeviceOptions(boot_scale=0.1, ussd=MENU, ussd_delay=0.05)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        first = await modem.ussd.request("*100#", wait=5)
        assert (first.status, first.text) == ("more", "1 Balance 2 Offers")
        second = await modem.ussd.request("2", wait=5)
        assert (second.status, second.text) == ("more", "1 Data 2 Minutes")
        third = await modem.ussd.request("1", wait=5)
        assert (third.status, third.text) == ("more", "1 Buy 1GB 2 Buy 5GB")
        last = await modem.ussd.request("2", wait=5)
        assert (last.status, last.text) == ("done", "5GB bought, 10.00 EUR")
        assert rig.bridge.device.state.ussd_session is None
        wire = "".join(modem.channel.sent)
        if profile == "huawei":
            assert 'AT+CUSD=1,"AA180C3602",15' in wire  # *100# packed as GSM-7 hex
        else:
            assert 'AT+CUSD=1,"*100#",15' in wire


@pytest.mark.parametrize("profile", PROFILES)
async def test_ucs2_answer_comes_back_as_text(profile: str) -> None:
    options = DeviceOptions(boot_scale=0.1, ussd=MENU, ussd_delay=0.05)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        answer = await modem.ussd.request("*133#", wait=5)
        assert (answer.status, answer.text) == ("done", "Soldul tău: 3,50 €. Mulțumim!")


@pytest.mark.parametrize("profile", PROFILES)
async def test_unanswered_request_times_out_and_ends_the_session(profile: str) -> None:
    options = DeviceOptions(boot_scale=0.1, ussd=MENU, ussd_delay=30)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        answer = await modem.ussd.request("*100#", wait=0.5)
        assert answer.status == "timeout"
        assert modem.channel.sent["AT+CUSD=2"] == 1


@pytest.mark.parametrize("profile", PROFILES)
async def test_sms_keeps_flowing_while_a_menu_waits(profile: str) -> None:
    options = DeviceOptions(boot_scale=0.1, ussd=MENU, ussd_delay=0.6)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        pending = asyncio.create_task(modem.ussd.request("*100#", wait=5))
        await asyncio.sleep(0.1)
        references = await rig.supervisor.send_sms("+40722000010", "during USSD")
        assert not pending.done()
        assert len(references) == 1
        assert (await pending).status == "more"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("withheld", [False, True])
async def test_a_call_is_one_event_with_its_rings(profile: str, withheld: bool) -> None:
    async with open_rig(profile) as rig:
        modem = await _ready(rig)
        modem.calls._ring_gap = 0.6
        number = "" if withheld else "+40721000077"
        for _ in range(3):
            rig.bridge.device.faults.inject_urc("RING")
            rig.bridge.device.faults.inject_urc(
                f'+CLIP: "{number}",{128 if withheld else 145},,,,0'
            )
            await asyncio.sleep(0.2)
        await eventually(lambda: len(rig.events.of(IncomingCall)) == 1, within=5)
        await asyncio.sleep(0.8)
        (call,) = rig.events.of(IncomingCall)
        assert call.caller == (None if withheld else "+40721000077")
        assert call.rings == 3
        assert not call.hung_up


@pytest.mark.parametrize("profile", PROFILES)
async def test_hangup_after_configured_rings(profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ModemSettings(calls="hangup", call_rings=2)
    async with open_rig(profile, modem_settings=settings) as rig:
        modem = await _ready(rig)
        monkeypatch.setattr(emulated_calls, "RING_INTERVAL", 0.3)  # rings every 5 s otherwise
        rig.bridge.device.incoming_call("+40721000088", rings=10)
        await eventually(lambda: len(rig.events.of(IncomingCall)) == 1, within=10)
        (call,) = rig.events.of(IncomingCall)
        assert (call.caller, call.rings, call.hung_up) == ("+40721000088", 2, True)
        assert rig.bridge.device.state.call is None
        hangup = "ATH" if profile == "sim800" else "AT+CHUP"
        assert modem.channel.sent[hangup] == 1


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_call_in_the_middle_of_a_send_does_not_break_it(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ModemSettings(calls="hangup", call_rings=1)
    options = DeviceOptions(boot_scale=0.1, report_delay=0.2, cmgs_delay=1.0)
    async with open_rig(profile, options=options, modem_settings=settings) as rig:
        await _ready(rig)
        monkeypatch.setattr(emulated_calls, "RING_INTERVAL", 0.3)
        sending = asyncio.create_task(rig.supervisor.send_sms("+40722000011", "x" * 200))
        await eventually(lambda: rig.bridge.device.state.busy, within=5)
        rig.bridge.device.incoming_call("+40721000099", rings=5)
        references = await sending
        assert len(references) == 2
        assert [m.text for m in rig.bridge.device.sent] == ["x" * 200]
        await eventually(lambda: len(rig.events.of(IncomingCall)) == 1, within=10)
        (call,) = rig.events.of(IncomingCall)
        assert (call.caller, call.hung_up) == ("+40721000099", True)


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_menu_with_line_breaks_comes_back_whole(profile: str) -> None:
    menu = MenuTree({"*555#": ("1 Balance\n2 Offers\n3 Exit", {"3": ("Bye", {})})})
    options = DeviceOptions(boot_scale=0.1, ussd=menu, ussd_delay=0.05)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        answer = await modem.ussd.request("*555#", wait=5)
        assert (answer.status, answer.text) == ("more", "1 Balance\n2 Offers\n3 Exit")
        assert (await modem.ussd.request("3", wait=5)).text == "Bye"
