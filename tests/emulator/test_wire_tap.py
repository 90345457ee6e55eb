"""The wire tap sees both directions of the pty, in order and timestamped (bench timing)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem
from tests.emulator.serial_client import RawClient

pytestmark = pytest.mark.timeout(30)


async def test_tap_sees_host_commands_and_modem_urcs_with_their_times(tmp_path: Path) -> None:
    options = DeviceOptions(noise_interval=0, boot_scale=0.0)
    seen: list[tuple[str, bytes, float]] = []
    async with EmulatedModem("sim800", tmp_path / "modem", options=options) as modem:
        async with asyncio.timeout(5):
            await modem.wait_ready()
        modem.add_wire_tap(lambda direction, data, at: seen.append((direction, data, at)))
        client = RawClient(modem.link)
        try:
            assert await client.command("ATE0")
            before = time.monotonic()
            await modem.deliver("+40721000000", "tapped")
            assert await client.read_until(b"+CMTI:")
        finally:
            client.close()
    host = b"".join(data for direction, data, _ in seen if direction == "rx")
    device = b"".join(data for direction, data, _ in seen if direction == "tx")
    assert host == b"ATE0\r"
    assert b"OK" in device
    assert b'+CMTI: "SM",1' in device
    cmti_at = next(at for direction, data, at in seen if b"+CMTI" in data)
    assert before <= cmti_at <= time.monotonic()
    assert [at for *_, at in seen] == sorted(at for *_, at in seen)
