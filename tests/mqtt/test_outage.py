"""MQTT is a durable sink: a broker outage during a stream of incoming SMS, a webhook outage
(MQTT keeps flowing), and `kill -9` of the daemon with events still owed to the broker, lose
nothing.

A persistent subscriber (clean session off, QoS 1) on a broker with persistence plays the
consumer, as Home Assistant or Node-RED would be: what is published while it reconnects is
queued for it. Counts (sent, received, lost, duplicates) are printed and written to
`counts.json`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from smsgw.emulator.control import request as control_request
from tests.gateway.helpers import SENDER, emulators, eventually, of_type
from tests.gateway.test_kill9 import _emulator, _spawn
from tests.mqtt.broker import Broker, client, running_broker
from tests.mqtt.test_gateway_mqtt import _gateway, _settings
from tests.ports import free_port
from tests.webhook.http_server import Answer, WebhookServer

EVENTS = "smsgw/+/event/incoming_sms"


class PersistentConsumer:
    """Reconnects forever with the same session; counts every incoming_sms by event id."""

    def __init__(self, broker: Broker, identifier: str) -> None:
        self.broker = broker
        self.identifier = identifier
        self.ids: collections.Counter[str] = collections.Counter()
        self.subscribed = asyncio.Event()

    async def _run(self) -> None:
        while True:
            try:
                async with client(
                    self.broker, identifier=self.identifier, clean_session=False
                ) as consumer:
                    await consumer.subscribe(EVENTS, qos=1)
                    self.subscribed.set()
                    async for message in consumer.messages:
                        body = json.loads(
                            message.payload if isinstance(message.payload, bytes) else b"{}"
                        )
                        self.ids[body["id"]] += 1
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PersistentConsumer]:
        task = asyncio.create_task(self._run())
        try:
            async with asyncio.timeout(10):
                await self.subscribed.wait()
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def counts(self, sent: set[str]) -> dict[str, int]:
        return {
            "sent": len(sent),
            "received": len(set(self.ids) & sent),
            "lost": len(sent - set(self.ids)),
            "duplicates": sum(count - 1 for count in self.ids.values() if count > 1),
        }


def _report(tmp_path: Path, name: str, counts: dict[str, Any]) -> None:
    (tmp_path / "counts.json").write_text(json.dumps(counts))
    print(f"{name}: {json.dumps(counts)}")


@pytest.mark.timeout(120)
async def test_a_broker_outage_during_a_stream_loses_nothing_and_holds_up_no_webhook(
    tmp_path: Path,
) -> None:
    total, before, during = 60, 20, 20
    with (
        running_broker(tmp_path / "broker") as broker,
        WebhookServer(lambda _r: Answer()) as server,
    ):
        async with (
            PersistentConsumer(broker, "outage-consumer").running() as consumer,
            emulators(tmp_path, "sim0") as modems,
            _gateway(_settings(tmp_path, broker, server.url)) as gateway,
        ):

            def webhook_count() -> int:
                return len(of_type(server.received, "incoming_sms"))

            for n in range(total):
                if n == before:
                    await eventually(lambda: len(consumer.ids) == before, within=20)
                    broker.stop()
                    outage_started = time.monotonic()
                if n == before + during:
                    # The webhook got every message of the outage while the broker was down.
                    await eventually(lambda: webhook_count() == before + during, within=20)
                    webhook_lag = time.monotonic() - outage_started
                    assert gateway.mqtt is not None
                    assert not gateway.mqtt.link.is_connected
                    broker.start()
                await modems["sim0"].deliver(SENDER, f"stream {n:03d}")
                await asyncio.sleep(0.05)
            await eventually(lambda: webhook_count() == total, within=30)
            sent = {body["id"] for body in of_type(server.received, "incoming_sms")}
            await eventually(lambda: sent <= set(consumer.ids), within=60)
            await asyncio.sleep(1.0)  # a late duplicate would arrive now
            counts = {**consumer.counts(sent), "webhook": webhook_count(),
                      "webhook_during_outage_s": round(webhook_lag, 2)}  # fmt: skip
    _report(tmp_path, "broker outage", counts)
    assert counts["lost"] == 0
    assert counts["received"] == total
    assert counts["webhook"] == total


@pytest.mark.timeout(120)
async def test_a_webhook_outage_holds_up_no_mqtt_event(tmp_path: Path) -> None:
    total = 30
    webhook_up = False

    def answer(_request: object) -> Answer:
        return Answer() if webhook_up else Answer(500, b"down for maintenance")

    with running_broker(tmp_path / "broker") as broker, WebhookServer(answer) as server:
        async with (
            PersistentConsumer(broker, "webhook-outage-consumer").running() as consumer,
            emulators(tmp_path, "sim0") as modems,
            _gateway(_settings(tmp_path, broker, server.url)),
        ):
            for n in range(total):
                await modems["sim0"].deliver(f"+4072100{n % 5:04d}", f"while down {n:03d}")
            # Every event reaches MQTT while the webhook refuses all of them.
            await eventually(lambda: len(consumer.ids) == total, within=30)
            refused_while_down = len(server.received)  # POSTs answered 500 meanwhile
            webhook_up = True
            await eventually(
                lambda: len({b["id"] for b in of_type(server.received, "incoming_sms")}) == total,
                within=60,
            )
            sent = {body["id"] for body in of_type(server.received, "incoming_sms")}
            counts = {**consumer.counts(sent), "webhook_refused_posts": refused_while_down}
    _report(tmp_path, "webhook outage", counts)
    assert counts["webhook_refused_posts"] >= 1
    assert counts["lost"] == 0
    assert counts["received"] == total


def _config(tmp_path: Path, broker: Broker, webhook_url: str) -> Path:
    path = tmp_path / "smsgw.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "smsgw.db"}"
[api]
listen = "127.0.0.1:{free_port()}"
[webhook]
url = "{webhook_url}"
timeout = 2
[node]
name = "kill9"
[mqtt]
url = "{broker.url()}"
[[modem]]
name = "sim0"
port = "{tmp_path / "modem"}"
sweep_interval = "5s"
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.timeout(150)
async def test_kill_9_with_events_owed_to_the_broker_publishes_them_after_restart(
    tmp_path: Path,
) -> None:
    count = 30
    with WebhookServer(lambda _r: Answer()) as server, running_broker(tmp_path / "b") as broker:
        async with (
            PersistentConsumer(broker, "kill9-consumer").running() as consumer,
            _emulator(tmp_path) as control,
        ):
            config = _config(tmp_path, broker, server.url)
            log = tmp_path / "daemon.log"
            daemon = await _spawn(log, "run", "--config", str(config))
            try:
                await eventually(lambda: "MQTT: connected" in log.read_text(), within=30)
                await eventually(lambda: "sim0: ready" in log.read_text(), within=30)
                broker.stop()  # from here events can only pile up for MQTT
                for n in range(count):
                    payload = {"cmd": "deliver", "sender": SENDER, "text": f"owed {n:03d}"}
                    answer = await asyncio.to_thread(control_request, control, payload)
                    assert answer.get("ok"), answer
                await eventually(
                    lambda: len(of_type(server.received, "incoming_sms")) == count, within=30
                )
                daemon.send_signal(signal.SIGKILL)
                await daemon.wait()
                broker.start()
                async with client(broker) as probe:  # nothing was published meanwhile
                    await probe.subscribe(EVENTS, qos=1)
                assert not consumer.ids
                daemon = await _spawn(log, "run", "--config", str(config))
                sent = {body["id"] for body in of_type(server.received, "incoming_sms")}
                await eventually(lambda: sent <= set(consumer.ids), within=60)
                await asyncio.sleep(1.0)
                counts = consumer.counts(sent)
                # The last will: the broker says offline when the daemon dies without a word.
                async with client(broker) as watcher:
                    await watcher.subscribe("smsgw/kill9/availability", qos=1)
                    daemon.send_signal(signal.SIGKILL)
                    await daemon.wait()
                    async with asyncio.timeout(20):
                        async for message in watcher.messages:
                            if message.payload == b"offline":
                                break
            finally:
                if daemon.returncode is None:
                    daemon.terminate()
                    await daemon.wait()
    _report(tmp_path, "kill -9 with events owed to MQTT", counts)
    assert counts["lost"] == 0, log.read_text()[-3000:]
    assert counts["received"] == count
