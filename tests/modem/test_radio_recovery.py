"""Tier 2: a radio stuck off the network is restarted once, within the hourly budget, on both
personas; a radio that no restart fixes is restarted at most `recover_max_per_hour` times and
then left alone with one RecoveryExhausted event (no restart loop)."""

from __future__ import annotations

import asyncio

import pytest

from smsgw.modem.events import RadioRestarted, RecoveryExhausted
from smsgw.modem.supervisor import SupervisorSettings
from tests.modem.helpers import eventually
from tests.modem.test_emulated import open_rig

pytestmark = [pytest.mark.timeout(30)]

PROFILES = ["sim800", "huawei", "generic"]

QUICK_RECOVERY = SupervisorSettings(
    health_interval=0.5,
    sweep_interval=60,
    backoff_initial=0.05,
    backoff_max=0.3,
    recover_after=0.6,
    recover_max_per_hour=2,
    radio_check_interval=0.1,
    radio_pause=0.05,
)


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_stuck_radio_is_restarted_once_and_registers_again(profile: str) -> None:
    async with open_rig(profile, settings=QUICK_RECOVERY) as rig:
        modem = await asyncio.wait_for(rig.supervisor.wait_ready(), 10)
        device = rig.bridge.device
        assert device.state.registered
        device.faults.stick_radio()
        await eventually(lambda: len(rig.events.of(RadioRestarted)) == 1, within=10)
        await eventually(lambda: device.state.registered, within=5)
        await asyncio.sleep(1.5)  # registered again: no further restart
        assert len(rig.events.of(RadioRestarted)) == 1
        assert modem.channel.sent["AT+CFUN=0"] == 1
        assert modem.channel.sent["AT+CFUN=1"] == 1
        assert rig.events.of(RadioRestarted)[0].attempt == 1


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_radio_no_restart_fixes_is_not_restarted_in_a_loop(profile: str) -> None:
    async with open_rig(profile, settings=QUICK_RECOVERY) as rig:
        modem = await asyncio.wait_for(rig.supervisor.wait_ready(), 10)
        rig.bridge.device.faults.stick_radio(permanent=True)
        await eventually(lambda: len(rig.events.of(RecoveryExhausted)) == 1, within=10)
        await asyncio.sleep(2.0)
        assert [e.attempt for e in rig.events.of(RadioRestarted)] == [1, 2]
        assert len(rig.events.of(RecoveryExhausted)) == 1
        assert modem.channel.sent["AT+CFUN=0"] == 2
