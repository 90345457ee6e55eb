"""Tier 2: the emulator's sans-I/O Device behind an in-memory line, with a real-time clock.

`DeviceBridge.open` is an `Opener` for the supervisor: each call plugs a fresh
`MemoryLine` (optionally with `Faults`) into the device. `unplug(for_s)` drops the line and
powers the device off; opening fails until it is back (freshly booted), like a USB stick.
The gateway's tests can import this module too.
"""

from __future__ import annotations

import asyncio
import contextlib

from smsgw.at.link import Transport
from smsgw.at.memory import Faults, MemoryLine
from smsgw.emulator.device import Device, DeviceOptions
from smsgw.emulator.profiles import get_profile
from smsgw.exceptions import AtConnectionLost

TICK = 0.005


class DeviceBridge:
    """Connects one emulated Device to the host side; see the module docstring."""

    def __init__(
        self,
        profile: str = "sim800",
        *,
        faults: Faults | None = None,
        options: DeviceOptions | None = None,
    ) -> None:
        self.device = Device(get_profile(profile), options or DeviceOptions(boot_scale=0.1))
        self.faults = faults
        self.line: MemoryLine | None = None
        self.plugged = True
        self.opens = 0
        self._loop = asyncio.get_running_loop()
        self._origin = self._loop.time()
        self._ticker: asyncio.Task[None] | None = None
        self.device.set_output_listener(self._flush)

    async def __aenter__(self) -> DeviceBridge:
        self.device.power_on(now=self.now())
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self.line is not None:
            self.line.disconnect("bridge closed")

    def now(self) -> float:
        return self._loop.time() - self._origin

    async def open(self) -> Transport:
        if not self.plugged:
            raise AtConnectionLost("cannot open memory: no such device")
        if self.line is not None:
            self.line.disconnect("replaced")
        self.opens += 1
        self.line = MemoryLine(self.faults, name=f"memory#{self.opens}")
        self.line.on_host_write = self._host_wrote
        return self.line.host

    def unplug(self, for_s: float | None = None) -> None:
        self.plugged = False
        self.device.power_off()
        if self.line is not None:
            self.line.disconnect("unplugged")
            self.line = None
        if for_s is not None:
            self._loop.call_later(for_s, self.replug)

    def replug(self) -> None:
        self.plugged = True
        self.device.power_on(now=self.now())

    def _host_wrote(self, data: bytes) -> None:
        self.device.advance(self.now())
        self.device.feed(data)
        self._flush()

    def _flush(self) -> None:
        output = self.device.read_output()
        if output and self.line is not None:
            self.line.to_host(output)

    async def _tick(self) -> None:
        while True:
            self.device.advance(self.now())
            self._flush()
            await asyncio.sleep(TICK)
