"""MQTT beside the webhook, in one run: emulated modem on a pty → gateway → SQLite → both
sinks (a loopback HTTP webhook and a real Mosquitto broker), measured from the same messages.

- latency: `+CMTI`-injection of one SMS at a time → the webhook has the POST, and → a
  subscriber (QoS 1) has the `smsgw/<modem>/event/incoming_sms` message; p50 and p99 of each;
- throughput: a burst of SMS → all events at the subscriber (events/s published to MQTT and
  acknowledged), and → all POSTs at the webhook, from the same burst.

The subscriber runs in the benchmark's process and notes `time.monotonic()` on arrival; the
webhook server notes it when the request starts (tests/webhook/http_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bench.common import Result
from bench.scale import QUICK, count
from tests.gateway.helpers import emulators, gateway_settings, running_gateway
from tests.mqtt.broker import MOSQUITTO, Broker, client
from tests.webhook.http_server import Answer, WebhookServer

SINGLE = count(200, 30)
BURST = count(1000, 150)


class Arrivals:
    """`message` text → when its incoming_sms event reached the subscriber."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}


@contextlib.asynccontextmanager
async def _subscriber(broker: Broker) -> AsyncIterator[Arrivals]:
    arrivals = Arrivals()
    ready = asyncio.Event()

    async def run() -> None:
        async with client(broker, max_queued_incoming_messages=0) as subscriber:
            await subscriber.subscribe("smsgw/+/event/incoming_sms", qos=1)
            ready.set()
            async for message in subscriber.messages:
                now = time.monotonic()
                payload = message.payload if isinstance(message.payload, bytes) else b"{}"
                arrivals.at.setdefault(json.loads(payload)["message"], now)

    task = asyncio.create_task(run())
    try:
        async with asyncio.timeout(10):
            await ready.wait()
        yield arrivals
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _wait(check: object, within: float = 120.0) -> None:
    assert callable(check)
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the HTTP server runs in another thread
            await asyncio.sleep(0.002)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _measure(directory: Path) -> list[Result]:
    broker = Broker(directory / "broker")
    broker.start()
    try:
        with WebhookServer(lambda _r: Answer()) as server:
            async with emulators(directory, "sim0") as modems, _subscriber(broker) as mqtt:
                emulator = modems["sim0"]
                base = gateway_settings(
                    directory, webhook_url=server.url, modems={"sim0": directory / "sim0"}
                )
                settings = base.model_validate(
                    {**base.model_dump(), "mqtt": {"url": broker.url(), "discovery": False}}
                )
                async with running_gateway(settings) as gateway:
                    assert gateway.mqtt is not None
                    async with asyncio.timeout(10):
                        await gateway.mqtt.link.connected.wait()
                    webhook_ms: list[float] = []
                    mqtt_ms: list[float] = []
                    for n in range(SINGLE):
                        text = f"single {n}"
                        injected = time.monotonic()
                        await emulator.deliver("+40721000000", text)
                        await _wait(lambda n=n: len(server.received) > n)
                        await _wait(lambda text=text: text in mqtt.at)
                        webhook_ms.append((server.received[n].started - injected) * 1000)
                        mqtt_ms.append((mqtt.at[text] - injected) * 1000)
                    start = time.monotonic()
                    for n in range(BURST):
                        await emulator.deliver(f"+4072100{n % 10:04d}", f"burst {n}")
                    await _wait(lambda: len(server.received) >= SINGLE + BURST)
                    webhook_done = time.monotonic()
                    await _wait(lambda: sum(t.startswith("burst") for t in mqtt.at) >= BURST)
                    burst_mqtt = [t for key, t in mqtt.at.items() if key.startswith("burst")]
                    mqtt_done = max(burst_mqtt)
    finally:
        broker.kill()
    suffix = " [QUICK]" if QUICK else ""
    detail = {"single": SINGLE, "burst": BURST, "broker": "mosquitto (loopback), QoS 1"}
    return [
        Result(
            "MQTT incoming SMS → event at a QoS 1 subscriber, burst" + suffix,
            BURST / (mqtt_done - start),
            "events/s",
            "≥ the webhook's rate in the same run",
            detail,
        ),
        Result(
            "webhook incoming SMS → POST, same burst" + suffix,
            BURST / (webhook_done - start),
            "events/s",
            "",
            detail,
        ),
        Result(
            "MQTT SIM → event latency (one at a time), p50" + suffix,
            statistics.median(mqtt_ms),
            "ms",
            "",
            {**detail, "p99": _percentile(mqtt_ms, 0.99), "max": max(mqtt_ms)},
        ),
        Result(
            "MQTT SIM → event latency (one at a time), p99" + suffix,
            _percentile(mqtt_ms, 0.99),
            "ms",
            "",
            detail,
        ),
        Result(
            "webhook SIM → POST latency, same messages, p50" + suffix,
            statistics.median(webhook_ms),
            "ms",
            "",
            {**detail, "p99": _percentile(webhook_ms, 0.99), "max": max(webhook_ms)},
        ),
        Result(
            "webhook SIM → POST latency, same messages, p99" + suffix,
            _percentile(webhook_ms, 0.99),
            "ms",
            "",
            detail,
        ),
    ]


def run() -> list[Result]:
    if MOSQUITTO is None:
        print("bench mqtt: skipped, mosquitto is not installed")
        return []
    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(_measure(Path(directory)))
