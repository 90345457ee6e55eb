"""AT traffic the driver generates: commands per received SMS and idle commands per minute.

Both run the real supervisor against the emulator over a real pty (`EmulatedModem`).

* per received SMS: N single-part messages delivered one at a time (each `+CMTI` fully
  handled before the next); health checks and sweeps pushed out of the window. Target 2
  (`AT+CMGR` + `AT+CMGD`).
* idle: default health and sweep intervals compressed by `SPEEDUP` (30 s -> 1 s, 300 s ->
  10 s) and run for `IDLE_SECONDS` real seconds; the count is reported per *uncompressed*
  minute. Target: at most 2 health commands per minute plus the sweep.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench.common import Result
from smsgw.emulator.device import DeviceOptions
from smsgw.emulator.modem import EmulatedModem
from smsgw.modem import (
    MessageReceived,
    ModemEvent,
    ModemSupervisor,
    SupervisorSettings,
    serial_opener,
)

MESSAGES = 20
SPEEDUP = 30.0
IDLE_SECONDS = 20.0
PROFILES = ("sim800", "huawei")


def run() -> list[Result]:
    return asyncio.run(_run())


async def _run() -> list[Result]:
    results = []
    for profile in PROFILES:
        results.append(await _per_received_sms(profile))
    for profile in PROFILES:
        results.append(await _idle_per_minute(profile))
    return results


async def _per_received_sms(profile: str) -> Result:
    received: list[MessageReceived] = []
    arrived = asyncio.Event()

    async def sink(event: ModemEvent) -> None:
        if isinstance(event, MessageReceived):
            received.append(event)
            arrived.set()

    settings = SupervisorSettings(health_interval=3600, sweep_interval=3600)
    with tempfile.TemporaryDirectory() as directory:
        link = Path(directory) / "modem"
        async with EmulatedModem(profile, link, options=DeviceOptions(boot_scale=0.1)) as emu:
            supervisor = ModemSupervisor(serial_opener(str(link)), sink=sink, settings=settings)
            supervisor.start()
            try:
                async with asyncio.timeout(20):
                    modem = await supervisor.wait_ready()
                before = sum(modem.channel.sent.values())
                for number in range(MESSAGES):
                    arrived.clear()
                    await emu.deliver("+40721000000", f"message {number}")
                    async with asyncio.timeout(10):
                        await arrived.wait()
                    # the delete follows the sink's return: let it go out before counting
                    await asyncio.sleep(0.05)
                commands = sum(modem.channel.sent.values()) - before
            finally:
                await supervisor.stop()
    return Result(
        name=f"at_commands_per_received_sms[{profile}]",
        value=commands / MESSAGES,
        unit="commands/SMS",
        target="2",
        detail={"messages": MESSAGES, "commands": commands},
    )


async def _idle_per_minute(profile: str) -> Result:
    defaults = SupervisorSettings()
    settings = SupervisorSettings(
        health_interval=defaults.health_interval / SPEEDUP,
        sweep_interval=defaults.sweep_interval / SPEEDUP,
    )
    with tempfile.TemporaryDirectory() as directory:
        link = Path(directory) / "modem"
        async with EmulatedModem(profile, link, options=DeviceOptions(boot_scale=0.1)):
            supervisor = ModemSupervisor(serial_opener(str(link)), settings=settings)
            supervisor.start()
            try:
                async with asyncio.timeout(20):
                    modem = await supervisor.wait_ready()
                before = dict(modem.channel.sent)
                await asyncio.sleep(IDLE_SECONDS)
                after = dict(modem.channel.sent)
            finally:
                await supervisor.stop()
    by_command = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    minutes = IDLE_SECONDS * SPEEDUP / 60.0
    return Result(
        name=f"idle_at_commands_per_minute[{profile}]",
        value=sum(by_command.values()) / minutes,
        unit="commands/min",
        target="<= 2.5 (one health check per 30 s + sweep every 5 min)",
        detail={"speedup": SPEEDUP, "simulated_minutes": minutes, "commands": by_command},
    )
