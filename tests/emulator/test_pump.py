"""DevicePump: the Device on asyncio time over an in-memory byte stream (no pty)."""

from __future__ import annotations

import asyncio

import pytest

from smsgw.at.memory import Faults, MemoryLine
from smsgw.emulator import Device, DeviceOptions, get_profile
from smsgw.emulator.pump import DevicePump

pytestmark = pytest.mark.timeout(20)


async def read_until(line: MemoryLine, marker: bytes) -> bytes:
    data = b""
    async with asyncio.timeout(5):
        while marker not in data:
            data += await line.host.read()
    return data


async def test_driver_memory_line_talks_to_the_device_through_the_pump() -> None:
    device = Device(get_profile("sim800"), DeviceOptions(boot_scale=0.1, cmgs_delay=0.2))
    line = MemoryLine(Faults(chunk_size=1))  # the device's bytes reach the host one by one
    pump = DevicePump(device, line.to_host)
    line.on_host_write = pump.feed
    await pump.start()
    try:
        assert (await read_until(line, b"SMS Ready\r\n")).startswith(b"\r\nRDY\r\n")
        await line.host.write(b"ATE0\r")
        assert await read_until(line, b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
        device.deliver("+40721000000", "in memory")
        pump.poke()
        assert await read_until(line, b"\r\n+CMTI: ") == b"\r\n+CMTI: "
    finally:
        await pump.stop()


async def test_pump_runs_timers_on_loop_time() -> None:
    received: list[bytes] = []
    device = Device(get_profile("huawei"), DeviceOptions(noise_interval=0.1))
    pump = DevicePump(device, received.append)
    await pump.start()
    try:
        async with asyncio.timeout(5):
            await pump.ready.wait()
        await asyncio.sleep(0.35)
        assert b"".join(received).count(b"^RSSI:18") >= 2
    finally:
        await pump.stop()
