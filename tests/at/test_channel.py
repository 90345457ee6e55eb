"""The channel over an in-memory line: replies, errors, URCs, timeouts, loss, cancellation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from smsgw.at import commands as c
from smsgw.at.channel import AtChannel
from smsgw.at.memory import Faults
from smsgw.at.parser import Urc
from smsgw.exceptions import (
    AtCommandError,
    AtConnectionLost,
    AtResponseError,
    AtTimeout,
    CmeError,
    CmsError,
)
from tests.at.fakes import ScriptedModem

pytestmark = pytest.mark.timeout(20)

FAULTS = {
    "clean": Faults(),
    "byte-by-byte": Faults(chunk_size=1),
    "slow-chunks": Faults(chunk_size=3, delay=0.001),
    "urc-storm": Faults(urcs=(b"^RSSI:18", b'+CMTI: "SM",3', b"RING"), urc_rate=0.5, seed=7),
    "urc-storm-bytes": Faults(chunk_size=1, urcs=(b"^SRVST:0",), urc_rate=0.7, seed=3),
}


@pytest.fixture(params=list(FAULTS), ids=list(FAULTS))
def modem(request: pytest.FixtureRequest) -> ScriptedModem:
    fake = ScriptedModem(FAULTS[request.param])
    fake.replies.update(
        {
            "AT+CSQ": b"\r\n+CSQ: 13,0\r\n\r\nOK\r\n",
            "AT+CMGR=1": (
                b"\r\n+CMGR: 0,,24\r\n07911326040000F0040B911346610089F60000\r\n\r\nOK\r\n"
            ),
            "AT+CMGD=9": b"\r\n+CMS ERROR: 321\r\n",
            "AT+CPIN?": b"\r\n+CME ERROR: 10\r\n",
            "AT+CREG?": b"\r\n+CREG: 0,1\r\n\r\nOK\r\n",
            "AT^CURC=0": b"\r\nCOMMAND NOT SUPPORT\r\n",
        }
    )
    return fake


@pytest.fixture
async def channel(modem: ScriptedModem) -> AsyncIterator[AtChannel]:
    chan = AtChannel(modem.line.host)
    chan.start()
    yield chan
    await chan.close()


async def test_replies_survive_splitting_and_urc_injection(
    modem: ScriptedModem, channel: AtChannel
) -> None:
    urcs: list[Urc] = []
    channel.add_urc_handler(urcs.append)
    for _ in range(5):
        assert (await channel.execute(c.signal_quality())).lines == ("+CSQ: 13,0",)
        reply = await channel.execute(c.read_message(1))
        assert reply.lines == ("+CMGR: 0,,24", "07911326040000F0040B911346610089F60000")
        assert (await channel.execute(c.registration_query())).first("+CREG") == "+CREG: 0,1"
    injected = modem.line.faults.urc_rate > 0
    assert bool(urcs) == injected
    assert all(u.name in {"^RSSI", "+CMTI", "RING", "^SRVST"} for u in urcs)


async def test_typed_errors(channel: AtChannel) -> None:
    with pytest.raises(CmsError) as cms:
        await channel.execute(c.delete_message(9))
    assert cms.value.code == 321
    assert cms.value.command == "AT+CMGD=9"
    with pytest.raises(CmeError) as cme:
        await channel.execute(c.pin_query())
    assert cme.value.code == 10
    with pytest.raises(AtCommandError, match="COMMAND NOT SUPPORT"):
        await channel.execute(c.huawei_unsolicited(False))
    with pytest.raises(AtCommandError, match="ERROR"):
        await channel.execute(c.imsi())
    # the channel is still usable afterwards
    assert (await channel.execute(c.attention())).lines == ()


async def test_send_with_prompt(modem: ScriptedModem, channel: AtChannel) -> None:
    pdu = "0011000B911326880736F40000A80AE8329BFD4697D9EC37"
    reply = await channel.execute(c.send_pdu(pdu, 23))
    assert reply.first("+CMGS") == "+CMGS: 7"
    assert modem.payloads == [pdu]


async def test_send_rejected_before_prompt() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()

    def refuse(text: str) -> bytes:
        return b"\r\n+CMS ERROR: 330\r\n"

    modem._command = lambda text: modem.line.to_host(refuse(text))  # type: ignore[method-assign]
    with pytest.raises(CmsError) as err:
        await channel.execute(c.send_pdu("0001000B911326880736F40000A80AE8329BFD4697D9EC37", 23))
    assert err.value.code == 330
    await channel.close()


async def test_reply_helpers() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    reply = await channel.execute(c.attention())
    with pytest.raises(AtResponseError):
        reply.first("+CSQ")
    await channel.close()


async def test_timeout_then_recovery() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    modem.silent = True
    quick = dataclasses.replace(c.signal_quality(), timeout=0.05)
    with pytest.raises(AtTimeout) as err:
        await channel.execute(quick)
    assert isinstance(err.value, TimeoutError)
    modem.silent = False
    modem.replies["AT+CSQ"] = b"\r\n+CSQ: 9,0\r\n\r\nOK\r\n"
    assert (await channel.execute(c.signal_quality())).lines == ("+CSQ: 9,0",)
    await channel.close()


async def test_late_reply_after_a_timeout_is_not_taken_for_the_next_command() -> None:
    modem = ScriptedModem(Faults(delay=0.15))
    modem.replies["AT+CSQ"] = b"\r\n+CSQ: 13,0\r\n\r\nOK\r\n"
    channel = AtChannel(modem.line.host)
    channel.start()
    with pytest.raises(AtTimeout):
        await channel.execute(dataclasses.replace(c.attention(), timeout=0.1))
    reply = await channel.execute(c.signal_quality())
    assert reply.lines == ("+CSQ: 13,0",)
    await channel.close()


async def test_send_without_prompt_times_out_and_escapes() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    modem.silent = True
    command = dataclasses.replace(c.send_pdu("00110000", 3), timeout=0.05)
    with pytest.raises(AtTimeout):
        await channel.execute(command)
    modem.silent = False
    await channel.execute(c.attention())  # waits for the ESC write first
    assert modem.line.written == [b"AT+CMGS=3\r", b"\x1b", b"AT\r"]
    assert modem.payloads == []
    await channel.close()


async def test_cancelled_caller_releases_the_slot() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    modem.silent = True
    task = asyncio.create_task(channel.execute(c.signal_quality()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    modem.silent = False
    assert (await channel.execute(c.attention())).lines == ()
    await channel.close()


async def test_connection_loss_fails_the_pending_command_and_later_ones() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    modem.silent = True
    task = asyncio.create_task(channel.execute(c.signal_quality()))
    await asyncio.sleep(0.01)
    modem.line.disconnect("unplugged")
    with pytest.raises(AtConnectionLost):
        await task
    reason = await asyncio.wait_for(channel.wait_lost(), 1)
    assert "unplugged" in str(reason)
    with pytest.raises(AtConnectionLost):
        await channel.execute(c.attention())
    await channel.close()


async def test_urc_handler_errors_are_contained_and_removable() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    seen: list[str] = []

    def broken(urc: Urc) -> None:
        raise RuntimeError("handler bug")

    channel.add_urc_handler(broken)
    remove = channel.add_urc_handler(lambda urc: seen.append(urc.name))
    modem.line.to_host(b'\r\n+CMTI: "SM",1\r\n')
    assert (await channel.execute(c.attention())).lines == ()
    remove()
    modem.line.to_host(b"\r\nRING\r\n")
    await channel.execute(c.attention())
    assert seen == ["+CMTI"]
    await channel.close()


async def test_counts_commands_sent() -> None:
    modem = ScriptedModem()
    channel = AtChannel(modem.line.host)
    channel.start()
    for _ in range(3):
        await channel.execute(c.attention())
    assert channel.sent["AT"] == 3
    await channel.close()


async def test_observer_hears_every_command_with_its_name_time_and_outcome() -> None:
    modem = ScriptedModem(Faults(delay=0.02))
    modem.replies.update(
        {
            "AT+CSQ": b"\r\n+CSQ: 13,0\r\n\r\nOK\r\n",
            "AT+CMGD=9": b"\r\n+CMS ERROR: 321\r\n",
            "AT+CPIN?": b"\r\n+CME ERROR: 10\r\n",
        }
    )
    heard: list[tuple[str, float, str]] = []

    def observer(name: str, seconds: float, outcome: str) -> None:
        heard.append((name, seconds, outcome))
        if name == "AT+CPIN?":
            raise RuntimeError("a broken observer must not break the channel")

    channel = AtChannel(modem.line.host, observer=observer)
    channel.start()
    await channel.execute(c.signal_quality())
    with pytest.raises(CmsError):
        await channel.execute(c.delete_message(9))
    with pytest.raises(CmeError):
        await channel.execute(c.pin_query())
    with pytest.raises(AtCommandError):
        await channel.execute(c.Command("AT+NOPE=1"))
    modem.silent = True
    with pytest.raises(AtTimeout):
        await channel.execute(dataclasses.replace(c.read_message(4), timeout=0.05))
    task = asyncio.create_task(channel.execute(c.signal_quality()))
    await asyncio.sleep(0.4)  # past the post-timeout settling, so the command is written
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    task = asyncio.create_task(channel.execute(c.attention()))
    await asyncio.sleep(0.4)
    modem.line.disconnect("unplugged")
    with pytest.raises(AtConnectionLost):
        await task
    with pytest.raises(AtConnectionLost):  # refused before writing: nothing to time
        await channel.execute(c.attention())
    await channel.close()
    assert [(name, outcome) for name, _, outcome in heard] == [
        ("AT+CSQ", "ok"),
        ("AT+CMGD", "cms"),
        ("AT+CPIN?", "cme"),
        ("AT+NOPE", "error"),
        ("AT+CMGR", "timeout"),
        ("AT+CSQ", "cancelled"),
        ("AT", "connection_lost"),
    ]
    assert all(seconds >= 0.02 for _, seconds, outcome in heard if outcome != "cancelled")
    assert 0.05 <= heard[4][1] < 1.0
