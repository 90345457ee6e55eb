"""The emulator on a real pty, observed from a raw pyserial client: data path and faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import serial

from smsgw.emulator import DeviceOptions, EmulatedModem
from tests.emulator.serial_client import RawClient

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def modem(tmp_path: Path) -> AsyncIterator[EmulatedModem]:
    options = DeviceOptions(noise_interval=0, boot_scale=0.2, report_delay=0.3)
    async with EmulatedModem("sim800", tmp_path / "modem", options=options) as emulated:
        async with asyncio.timeout(5):
            await emulated.wait_ready()
        yield emulated


@pytest.fixture
async def client(modem: EmulatedModem) -> AsyncIterator[RawClient]:
    raw = RawClient(modem.link)
    yield raw
    raw.close()


async def test_link_is_a_raw_pty(modem: EmulatedModem, client: RawClient) -> None:
    assert str(modem.link.resolve()) == modem.pty_name
    # Raw mode both ends: CR reaches the modem unchanged (no ICRNL), and Ctrl-Z is data.
    assert await client.command("AT") == b"AT\r\r\nOK\r\n"


async def test_deliver_gives_cmti_and_the_pdu_reads_back(
    modem: EmulatedModem, client: RawClient
) -> None:
    await client.command("ATE0")
    pdus = await modem.deliver("+40721000000", "Hello over the pty")
    assert await client.read_until(b'+CMTI: "SM",1\r\n')
    reply = await client.command("AT+CMGR=1")
    assert pdus[0].encode() in reply


async def test_send_is_recorded(modem: EmulatedModem, client: RawClient) -> None:
    from smsgw import pdu

    await client.command("ATE0")
    part = pdu.encode_submit("+40721000009", "from the host")[0]
    await client.write(f"AT+CMGS={part.tpdu_length}\r".encode())
    assert await client.read_until(b"> ") == b"\r\n> "
    await client.write(part.hex.encode() + b"\x1a")
    assert await client.read_until(b"OK\r\n") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert [(m.recipient, m.text) for m in modem.sent()] == [("+40721000009", "from the host")]


async def test_unplug_removes_the_pty_and_it_returns_at_the_same_link(
    modem: EmulatedModem, client: RawClient
) -> None:
    await modem.unplug(for_s=0.5)
    assert not modem.link.exists()
    with pytest.raises(serial.SerialException):  # the client notices the vanished device
        await client.write_until_it_fails()
    client.close()
    async with asyncio.timeout(5):
        await modem.wait_plugged()
    assert modem.link.is_symlink()
    assert str(modem.link.resolve()) == modem.pty_name
    again = RawClient(modem.link)
    try:
        banner = await again.read_until(b"SMS Ready\r\n")
        assert b"RDY" in banner
        assert await again.command("AT") == b"AT\r\r\nOK\r\n"  # echo back on: fresh boot
    finally:
        again.close()


async def test_reboot_repeats_the_banner_and_forgets_settings(
    modem: EmulatedModem, client: RawClient
) -> None:
    await client.command("ATE0")
    await client.command("AT+CNMI=1,2,0,1,0")
    await modem.reboot()
    banner = await client.read_until(b"SMS Ready\r\n")
    assert banner.startswith(b"\r\nRDY\r\n")
    assert await client.command("AT+CNMI?") == b"AT+CNMI?\r\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"


async def test_urc_before_echo_and_mid_reply(modem: EmulatedModem, client: RawClient) -> None:
    await modem.faults.inject_urc("^SRVST:0", at="before_echo")
    assert await client.command('AT+CPMS="SM","SM"') == (
        b'^SRVST:0\r\nAT+CPMS="SM","SM"\r\r\n+CPMS: 0,50,0,50,0,50\r\n\r\nOK\r\n'
    )
    await client.command("ATE0")
    await modem.faults.inject_urc("RING", at="mid_reply")
    assert await client.command("AT+CGMI;+CGMM") == (
        b"\r\nSIMCOM_Ltd\r\n\r\nRING\r\n\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n"
    )


async def test_garbage_arrives_verbatim(modem: EmulatedModem, client: RawClient) -> None:
    modem.faults.inject_garbage(b"\xff\x00\xfe~garbage")
    assert await client.read_until(b"garbage") == b"\xff\x00\xfe~garbage"
    assert await client.command("AT") == b"AT\r\r\nOK\r\n"


async def test_unresponsive_modem_answers_nothing_until_it_recovers(
    modem: EmulatedModem, client: RawClient
) -> None:
    modem.faults.set_unresponsive(True)
    await client.write(b"AT\r")
    assert await client.read_for(0.5) == b""
    modem.faults.set_unresponsive(False)
    assert await client.command("AT") == b"AT\r\r\nOK\r\n"


@contextlib.asynccontextmanager
async def _slow_line(directory: Path) -> AsyncIterator[tuple[EmulatedModem, RawClient]]:
    """A SIM800 paced at 9,600 baud (960 bytes/s) and a raw client past its boot output."""
    options = DeviceOptions(noise_interval=0, boot_scale=0)
    async with EmulatedModem("sim800", directory, baud=9600, options=options) as slow:
        client = RawClient(slow.link)
        try:
            await client.read_for(0.2)
            yield slow, client
        finally:
            client.close()


async def test_baud_pacing_limits_throughput(tmp_path: Path) -> None:
    async with _slow_line(tmp_path / "slow") as (slow, client):
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow.faults.inject_garbage(b"x" * 960 + b"END")  # 963 bytes at 960 bytes/s
        await client.read_until(b"END", within=5)
        assert loop.time() - started >= 0.8


async def test_pacing_never_beats_the_baud_rate_over_many_small_replies(tmp_path: Path) -> None:
    """The UART model starts each reply when the line is free, not when the loop woke up;
    whatever catching up that allows must never deliver faster than the baud rate."""
    async with _slow_line(tmp_path / "small") as (_slow, client):
        loop = asyncio.get_running_loop()
        started = loop.time()
        received = 0
        for _ in range(20):
            received += len(await client.command("AT"))
        assert received >= 20 * len(b"AT\r\r\nOK\r\n")
        assert loop.time() - started >= received * 10 / 9600 * 0.98
