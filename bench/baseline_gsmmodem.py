"""python-gsmmodem-new's bare `+CMTI` callback on the same emulator: the floor to compare with.

No storage, no HTTP: the time from the emulator writing `+CMTI` to GsmModem calling
`smsReceivedCallbackFunc` (it reads the PDU with `AT+CMGR` first). Its API blocks, so it
runs in a thread while the emulator keeps running on the event loop.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from tests.faults.rig import emulated_modems


class _Callbacks:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.arrived = threading.Event()

    def on_sms(self, _sms: Any) -> None:
        self.times.append(time.monotonic())
        self.arrived.set()


async def callback_latencies_ms(directory: Path, messages: int) -> list[float]:
    """One message at a time: +CMTI on the wire -> the callback, in ms."""
    from gsmmodem.modem import GsmModem  # the test extra; imported only for this figure

    callbacks = _Callbacks()
    async with emulated_modems(directory, ["gsmmodem"]) as modems:
        emulator, wire = modems["gsmmodem"]
        client = GsmModem(str(emulator.link), 115200, smsReceivedCallbackFunc=callbacks.on_sms)
        await asyncio.to_thread(client.connect)
        try:
            latencies = []
            for n in range(messages):
                callbacks.arrived.clear()
                await emulator.deliver("+40721000000", f"baseline {n}")
                assert await asyncio.to_thread(callbacks.arrived.wait, 10), "no callback"
                latencies.append((callbacks.times[n] - wire.cmti[n]) * 1000)
                await asyncio.sleep(0.01)  # it deletes the entry after the callback
        finally:
            await asyncio.to_thread(client.close)
    return latencies


def median(values: list[float]) -> float:
    return statistics.median(values)
