"""Gateway end to end: emulated modem on a pty → gateway → SQLite → loopback webhook.

Measures what an operator cares about: how many incoming SMS per second reach the webhook
and how long one takes (SIM → POST), and how fast API sends leave the modem. The emulator
answers instantly, so these are the gateway's own costs (AT round trips, transactions, POSTs).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Result
from tests.gateway.helpers import emulators, gateway_settings, running_gateway
from tests.webhook.http_server import Answer, WebhookServer

INCOMING = 100
SINGLE = 20
OUTGOING = 50


async def _wait(check: object, within: float = 60.0) -> None:
    assert callable(check)
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the HTTP server runs in another thread
            await asyncio.sleep(0.005)


async def _measure(directory: Path) -> list[Result]:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(directory, "sim0") as modems:
            emulator = modems["sim0"]
            settings = gateway_settings(
                directory, webhook_url=server.url, modems={"sim0": directory / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                latencies = []
                for n in range(SINGLE):  # one at a time: the latency of a quiet gateway
                    injected = time.monotonic()
                    await emulator.deliver("+40721000000", f"single {n}")
                    await _wait(lambda n=n: len(server.received) > n)
                    latencies.append((server.received[n].started - injected) * 1000)
                start = time.monotonic()
                for n in range(INCOMING):  # a burst: throughput
                    await emulator.deliver(f"+4072100{n % 10:04d}", f"bench {n}")
                await _wait(lambda: len(server.received) >= SINGLE + INCOMING)
                elapsed = time.monotonic() - start
                start = time.monotonic()
                for n in range(OUTGOING):
                    await gateway.submit(
                        to="+40722000000", text=f"out {n}", modem=None,
                        delivery_report=False, idempotency_key=None,
                    )  # fmt: skip
                await _wait(lambda: len(emulator.sent()) >= OUTGOING)
                sent_rate = OUTGOING / (time.monotonic() - start)
    return [
        Result(
            "gateway incoming SMS → webhook",
            INCOMING / elapsed,
            "msg/s",
            "> 5 msg/s (a busy SIM800 receives ~1/s)",
            {"messages": INCOMING},
        ),
        Result(
            "gateway SIM → webhook POST latency (one at a time), median",
            statistics.median(latencies),
            "ms",
            "< 500 ms",
            {"max": max(latencies), "messages": SINGLE},
        ),
        Result(
            "gateway API send → modem",
            sent_rate,
            "msg/s",
            "> 5 msg/s (a real modem needs 1-3 s per SMS)",
            {"messages": OUTGOING},
        ),
    ]


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(_measure(Path(directory)))
