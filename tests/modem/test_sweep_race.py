"""A sweep and the +CMTI handler never delete each other's entries.

Both read storage and delete by index after the sink returned. Running at the same time, a
sweep could delete entry k (already handled), the SIM could reuse index k for a new SMS, and
the +CMTI handler, still waiting for its sink on the old entry, would then delete the new SMS
unread: lost. (Found by tests/faults: a modem rebooted mid-burst lost one message.) Reading
and deleting therefore take turns.
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


class GatedSink(Recorder):
    """Holds the first received message until `gate` is set (a slow commit)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.holding = asyncio.Event()

    async def __call__(self, event: ModemEvent) -> None:
        if isinstance(event, MessageReceived) and not self.holding.is_set():
            self.holding.set()
            await self.gate.wait()
        await super().__call__(event)


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_sweep_during_a_slow_sink_does_not_lose_a_new_message(profile: str) -> None:
    sink = GatedSink()
    options = DeviceOptions(boot_scale=0.1, report_delay=0.2, noise_interval=0)
    async with DeviceBridge(profile, options=options) as bridge:
        supervisor = ModemSupervisor(
            bridge.open, modem_id=profile, sink=sink,
            settings=SupervisorSettings(sweep_interval=60, backoff_initial=0.05),
        )  # fmt: skip
        supervisor.start()
        try:
            async with asyncio.timeout(10):
                modem = await supervisor.wait_ready()
            storage = bridge.device.storage(modem.storage or "SM")
            bridge.device.deliver("+40721000001", "first")
            async with asyncio.timeout(5):
                await sink.holding.wait()  # the +CMTI handler waits in the sink
            sweep = asyncio.create_task(modem.sweep())
            await asyncio.sleep(0.3)  # a sweep that does not wait would delete "first" now
            bridge.device.deliver("+40721000002", "second")  # index reused if it was freed
            await asyncio.sleep(0.1)
            sink.gate.set()
            async with asyncio.timeout(5):
                await sweep
            await eventually(
                lambda: {"first", "second"} <= {e.message.text for e in sink.of(MessageReceived)}
            )
            await eventually(lambda: storage.used == 0)
        finally:
            await supervisor.stop()
