"""Supervisor recovery paths that need no pty: silent resets, hung firmware, dialect choice."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from smsgw.at.link import Transport
from smsgw.emulator.device import DeviceOptions
from smsgw.exceptions import AtConnectionLost, ModemError
from smsgw.modem import (
    HuaweiModem,
    Identity,
    MessageReceived,
    Modem,
    ModemState,
    ModemSupervisor,
    RebootDetected,
    Sim800Modem,
    SupervisorSettings,
    dialect_for,
)
from smsgw.modem.reasons import cms_reason
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(30)]

QUICK = SupervisorSettings(
    health_interval=0.3,
    health_timeout=0.3,
    sweep_interval=60,
    probe_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.2,
)


async def test_silent_reset_is_caught_by_the_health_check() -> None:
    """The generic persona has no boot banner: only AT+CNMI? shows the lost settings."""
    async with DeviceBridge("generic", options=DeviceOptions(boot_scale=0.1)) as bridge:
        events = Recorder()
        supervisor = ModemSupervisor(bridge.open, sink=events, settings=QUICK)
        supervisor.start()
        try:
            async with asyncio.timeout(10):
                first = await supervisor.wait_ready()
            bridge.device.reboot()
            await eventually(lambda: len(events.of(RebootDetected)) == 1)
            assert "settings lost" in events.of(RebootDetected)[0].reason
            await eventually(lambda: supervisor.modem not in (None, first))
            bridge.device.deliver("+40721000001", "after a silent reset")
            await eventually(lambda: len(events.of(MessageReceived)) == 1)
        finally:
            await supervisor.stop()


async def test_hung_firmware_is_reopened_and_recovers() -> None:
    async with DeviceBridge("sim800", options=DeviceOptions(boot_scale=0.1)) as bridge:
        events = Recorder()
        supervisor = ModemSupervisor(bridge.open, sink=events, settings=QUICK)
        supervisor.start()
        try:
            async with asyncio.timeout(10):
                await supervisor.wait_ready()
            bridge.device.faults.set_unresponsive(True)
            await eventually(lambda: supervisor.state is not ModemState.READY, within=5)
            assert "unresponsive" in events.of_reason()
            await asyncio.sleep(0.5)
            bridge.device.faults.set_unresponsive(False)
            async with asyncio.timeout(10):
                await supervisor.wait_ready()
            assert bridge.opens >= 2
            states = events.states()
            assert "probing" in states[states.index("ready") :]
        finally:
            await supervisor.stop()


async def test_backoff_is_capped_and_the_path_is_retried_until_it_appears() -> None:
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    async def absent() -> Transport:
        attempts.append(loop.time())
        raise AtConnectionLost("no such device")

    supervisor = ModemSupervisor(absent, settings=QUICK)
    supervisor.start()
    await asyncio.sleep(1.2)
    await supervisor.stop()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) >= 5
    assert max(gaps) < QUICK.backoff_max + 0.1
    assert supervisor.state is ModemState.DISCONNECTED


@pytest.mark.parametrize(
    ("maker", "model", "expected"),
    [
        ("SIMCOM_Ltd", "SIMCOM_SIM800C", Sim800Modem),
        ("SIMCOM_Ltd", "SIMCOM_SIM800L", Sim800Modem),
        ("huawei", "E1752", HuaweiModem),
        ("HUAWEI INCORPORATED", "EC121", HuaweiModem),
        ("Generic", "GSM Modem", Modem),
    ],
)
def test_dialect_by_identity(maker: str, model: str, expected: type[Modem]) -> None:
    assert dialect_for(Identity(maker, model)) is expected


def test_unknown_maker_warns_and_override_wins(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert dialect_for(Identity("Acme", "X1")) is Modem
    assert "generic" in caplog.text
    assert dialect_for(Identity("huawei", "E173"), "sim800") is Sim800Modem
    assert dialect_for(Identity("huawei", "E173"), "auto") is HuaweiModem
    with pytest.raises(ModemError, match="unknown modem dialect"):
        dialect_for(Identity("huawei", "E173"), "nokia")


def test_cms_reasons() -> None:
    assert cms_reason(330) == "+CMS ERROR 330: SMSC address unknown"
    assert cms_reason(21) == "+CMS ERROR 21: short message transfer rejected"
    assert "manufacturer" in cms_reason(600)
    assert cms_reason(None, "unknown error") == "+CMS ERROR: unknown error"
