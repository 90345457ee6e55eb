"""A replugged modem is picked up at once, not after the next (growing) backoff step.

With `backoff_initial = 5 s` the supervisor alone would wait 5, then 10 s between attempts;
the quiet `port_poll` retries inside that window must find the returning port within a
fraction of it, and must not flood the state (and the log) with OPENING/DISCONNECTED.
"""

from __future__ import annotations

import asyncio

import pytest

from smsgw.emulator.device import DeviceOptions
from smsgw.modem.events import ModemState, StateChanged
from smsgw.modem.supervisor import ModemSupervisor, SupervisorSettings
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(30)]


async def test_returning_port_is_reopened_within_the_backoff_window() -> None:
    events = Recorder()
    settings = SupervisorSettings(backoff_initial=5.0, backoff_max=30.0, port_poll=0.05)
    async with DeviceBridge("sim800", options=DeviceOptions(boot_scale=0.0)) as bridge:
        supervisor = ModemSupervisor(bridge.open, modem_id="m", sink=events, settings=settings)
        supervisor.start()
        try:
            async with asyncio.timeout(5):
                await supervisor.wait_ready()
            bridge.unplug()
            await eventually(lambda: supervisor.state is not ModemState.READY, within=2)
            await asyncio.sleep(1.5)  # gone for a while: the failed reopen is in the backoff
            changes_while_gone = len(events.of(StateChanged))
            await asyncio.sleep(1.0)
            assert len(events.of(StateChanged)) == changes_while_gone  # quiet polling
            bridge.replug()
            async with asyncio.timeout(1.0):  # without polling: at the end of the 5 s window
                await supervisor.wait_ready()
        finally:
            await supervisor.stop()
