"""Outgoing scale-up: API sends through 1, 2 and 4 emulated modems that each take 1 s per SMS.

A real modem needs 1-3 s per `AT+CMGS`; the emulator is told to take 1 s, so one modem can
never do more than 1 msg/s and N modems N msg/s. The figure is how close the daemon gets
to that: messages/s for each modem count and the 4-modem / 1-modem ratio (target >= 3.6).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.common import Result
from bench.scale import count
from smsgw.emulator import DeviceOptions
from tests.faults.rig import Daemon, emulated_modems, until, write_config
from tests.webhook.http_server import Answer, WebhookServer

SENDS = count(200, 20)
CMGS_DELAY = 1.0


async def _rate(directory: Path, modem_count: int) -> float:
    names = [f"sim{i}" for i in range(modem_count)]
    options = DeviceOptions(boot_scale=0.0, cmgs_delay=CMGS_DELAY, noise_interval=0)
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(directory, names, options=options) as modems:
            links = {name: emulator.link for name, (emulator, _) in modems.items()}
            config = write_config(directory, webhook_url=server.url, modems=links)
            daemon = Daemon(config, directory / "daemon.log")
            await daemon.start()
            try:
                # Ready means one modem is READY; wait for all of them before timing.
                await until(
                    lambda: all(wire.commands > 10 for _, wire in modems.values()), within=20
                )
                started = time.monotonic()
                async with httpx.AsyncClient(timeout=10) as client:
                    for n in range(SENDS):
                        await daemon.send(client, f"+4072300{n % 100:04d}", f"out {n}")

                def sent() -> int:
                    return sum(len(emulator.sent()) for emulator, _ in modems.values())

                await until(lambda: sent() >= SENDS, within=SENDS * CMGS_DELAY + 60, interval=0.05)
                elapsed = time.monotonic() - started
                spread = {name: len(emulator.sent()) for name, (emulator, _) in modems.items()}
                print(f"outgoing on {modem_count} modem(s): {spread} in {elapsed:.1f} s")
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
    return SENDS / elapsed


async def measure(directory: Path) -> list[Result]:
    rates = {n: await _rate(directory / f"modems{n}", n) for n in (1, 2, 4)}
    return [
        *(
            Result(f"outgoing API -> modem, {n} modem(s), 1 s AT+CMGS", rate, "msg/s",
                   f"<= {n / CMGS_DELAY:g} msg/s (the modems' limit)", {"sends": SENDS})
            for n, rate in rates.items()
        ),
        Result("outgoing scaling 4 modems / 1 modem", rates[4] / rates[1], "x", ">= 3.6x"),
    ]  # fmt: skip
