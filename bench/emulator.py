"""Emulator speed: how fast the sans-I/O device answers, and the pty round trip.

The emulator must never be the bottleneck of a test or a demo: a real modem at 115200 baud
answers at most a few hundred short commands per second, so the device should manage
thousands, and one `AT` -> `OK` round trip over the pty should cost about a millisecond.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Result, rate_per_second
from smsgw.emulator import Device, DeviceOptions, EmulatedModem, get_profile

BATCH = 500
ROUND_TRIPS = 200


def _device_rate() -> Result:
    device = Device(get_profile("sim800"), DeviceOptions(noise_interval=0, boot_scale=0))
    device.power_on(0.0)
    device.advance(1.0)
    device.feed(b"ATE0\r")
    device.deliver("+40721000000", "A stored message to read back " * 4)
    device.read_output()

    def batch() -> None:
        for _ in range(BATCH):
            device.feed(b"AT+CMGR=1\r")
            device.read_output()

    batch()
    return Result(
        name="emulator device AT+CMGR",
        value=rate_per_second(batch, items=BATCH),
        unit="commands/s",
        target=">= 2,000 commands/s",
        detail={"batch": BATCH, "profile": "sim800"},
    )


async def _pty_round_trips() -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        link = Path(directory) / "modem"
        options = DeviceOptions(noise_interval=0, boot_scale=0)
        async with EmulatedModem("sim800", link, options=options):
            fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            loop = asyncio.get_running_loop()
            try:
                await asyncio.sleep(0.1)
                with_echo_off = b"ATE0\r"
                os.write(fd, with_echo_off)
                await asyncio.sleep(0.1)
                while True:
                    try:
                        os.read(fd, 4096)
                    except BlockingIOError:
                        break
                timings = []
                for _ in range(ROUND_TRIPS):
                    got = asyncio.Event()
                    buffer = bytearray()

                    def on_readable(buffer: bytearray = buffer, got: asyncio.Event = got) -> None:
                        buffer.extend(os.read(fd, 4096))
                        if buffer.endswith(b"OK\r\n"):
                            got.set()

                    loop.add_reader(fd, on_readable)
                    start = time.perf_counter()
                    os.write(fd, b"AT\r")
                    await got.wait()
                    timings.append(time.perf_counter() - start)
                    loop.remove_reader(fd)
                return timings
            finally:
                os.close(fd)


def run() -> list[Result]:
    timings = asyncio.run(_pty_round_trips())
    return [
        _device_rate(),
        Result(
            name="emulator pty AT round trip (median)",
            value=statistics.median(timings) * 1000,
            unit="ms",
            target="<= 5 ms",
            detail={
                "round_trips": ROUND_TRIPS,
                "p95_ms": sorted(timings)[int(0.95 * len(timings))] * 1000,
            },
        ),
    ]
