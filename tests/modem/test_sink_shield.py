"""A received message's sink finishes even when the port vanishes while it runs.

Unplugging cancels the modem's worker. The sink (in the gateway: the store's commit) must
not be cancelled half-way, or its database transaction is abandoned holding SQLite's write
lock; it runs to the end, and the entry, never deleted, is offered again after the replug.
"""

from __future__ import annotations

import asyncio

import pytest

from smsgw.emulator.device import DeviceOptions
from smsgw.modem.events import MessageReceived, ModemEvent
from smsgw.modem.supervisor import ModemSupervisor, SupervisorSettings
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(30)]


class SlowCommit(Recorder):
    """The first message's sink waits for `release`; records every sink that completed."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.completed: list[str] = []

    async def __call__(self, event: ModemEvent) -> None:
        if isinstance(event, MessageReceived):
            if not self.started.is_set():
                self.started.set()
                await self.release.wait()
            self.completed.append(event.message.text or "")
        await super().__call__(event)


async def test_sink_completes_when_the_port_vanishes_mid_sink() -> None:
    sink = SlowCommit()
    settings = SupervisorSettings(backoff_initial=0.05, backoff_max=0.2, sweep_interval=60)
    async with DeviceBridge("sim800", options=DeviceOptions(boot_scale=0.0)) as bridge:
        supervisor = ModemSupervisor(bridge.open, modem_id="m", sink=sink, settings=settings)
        supervisor.start()
        try:
            async with asyncio.timeout(5):
                await supervisor.wait_ready()
            bridge.device.deliver("+40721000001", "in flight")
            async with asyncio.timeout(5):
                await sink.started.wait()
            bridge.unplug(for_s=0.3)  # the worker is cancelled while the sink waits
            await asyncio.sleep(0.1)
            sink.release.set()
            await eventually(lambda: len(sink.completed) >= 2)  # finished, then re-read
            assert sink.completed[:2] == ["in flight", "in flight"]
        finally:
            await supervisor.stop()
