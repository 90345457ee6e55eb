"""Drive a `Device` on the running asyncio loop, without a pty (tier-2 in-process tests).

The pump owns the device's clock (the loop's monotonic time), runs its timers, hands host
bytes in with `feed()` and passes everything the modem says to `sink`. The pty runner uses
it with a pty as the sink; a test can use any in-memory byte stream instead, e.g. the
driver's `smsgw.at.memory.MemoryLine`::

    device = Device(get_profile("sim800"), DeviceOptions(boot_scale=0))
    line = MemoryLine()
    pump = DevicePump(device, line.to_host)   # modem -> host
    line.on_host_write = pump.feed            # host -> modem
    await pump.start()                        # powers the device on: banner, timers
    ...                                       # the driver talks to line.host
    pump.poke()                               # after calling device.deliver(...) etc.
    await pump.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from smsgw.emulator.device import Device


class DevicePump:
    """Connects a sans-I/O Device to asyncio time and to a byte sink."""

    def __init__(self, device: Device, sink: Callable[[bytes], None]) -> None:
        self.device = device
        self.sink = sink
        self.ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, *, power_on: bool = True) -> None:
        """Start the timer task; by default also power the device on (boot banner)."""
        self._loop = asyncio.get_running_loop()
        self.device.set_output_listener(self._flush)
        if power_on:
            self.device.power_on(self.now())
        self._task = asyncio.create_task(self._timer_loop(), name="emulator-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.device.set_output_listener(None)

    def now(self) -> float:
        assert self._loop is not None, "start() the pump first"
        return self._loop.time()

    def feed(self, data: bytes) -> None:
        """Bytes from the host (call from the event loop thread)."""
        self.device.advance(self.now())
        self.device.feed(data)
        self._wake.set()

    def poke(self) -> None:
        """The device was changed from outside (deliver, reboot...): rerun timers now."""
        self.device.advance(self.now())
        self._wake.set()

    def _flush(self) -> None:
        data = self.device.read_output()
        if data:
            self.sink(data)

    async def _timer_loop(self) -> None:
        while True:
            self.device.advance(self.now())
            if self.device.sms_ready:
                self.ready.set()
            else:
                self.ready.clear()
            deadline = self.device.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
