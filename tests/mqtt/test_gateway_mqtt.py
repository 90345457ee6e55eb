"""The daemon's MQTT side end to end: an emulated modem on a real pty, a real Mosquitto, a
real HTTP webhook, SQLite. Events, retained state, discovery (and its clean-up), the send
topics with their refusals, the notify entity, and MQTT as the only sink."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsgw.config import Settings
from smsgw.gateway import Gateway
from smsgw.store import repository
from smsgw.webapp import create_app
from tests.gateway.helpers import (
    SENDER,
    emulators,
    eventually,
    fast_supervisors,
    gateway_settings,
    of_type,
)
from tests.mqtt.broker import Broker, Collector, client, running_broker
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(90)

NODE = "test-node"
RECIPIENT = "+40721000099"


def _settings(tmp_path: Path, broker: Broker, webhook_url: str, **mqtt: Any) -> Settings:
    base = gateway_settings(tmp_path, webhook_url=webhook_url, modems={"sim0": tmp_path / "sim0"})
    data = base.model_dump()
    data["mqtt"] = broker.mqtt_section(default_recipient=RECIPIENT, **mqtt)
    return Settings.model_validate(data)


@asynccontextmanager
async def _gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with Gateway(settings, supervisor_settings=fast_supervisors) as gateway:
        async with asyncio.timeout(15):
            await gateway.supervisor("sim0").wait_ready()
        assert gateway.mqtt is not None
        async with asyncio.timeout(10):
            await gateway.mqtt.link.connected.wait()
        yield gateway


def _json(payloads: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(payload) for payload in payloads]


async def test_events_state_and_discovery(tmp_path: Path) -> None:
    with (
        running_broker(tmp_path / "broker") as broker,
        WebhookServer(lambda _r: Answer()) as server,
    ):
        async with (
            emulators(tmp_path, "sim0") as modems,
            Collector(broker, "smsgw/#", "homeassistant/#").running() as seen,
            _gateway(_settings(tmp_path, broker, server.url)),
        ):
            await modems["sim0"].deliver(SENDER, "hello over mqtt")
            topic = "smsgw/sim0/event/incoming_sms"
            await eventually(lambda: len(seen.on(topic)) == 1)
            await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)
            # The very JSON the webhook got, byte for byte.
            assert seen.on(topic)[0] == server.received[0].body
            event = _json(seen.on(topic))[0]
            assert event["message"] == "hello over mqtt"
            assert event["modem"] == "sim0"

            await eventually(lambda: bool(seen.on("smsgw/sim0/state")))
            state = _json(seen.on("smsgw/sim0/state"))[-1]
            expected = {"state", "model", "operator", "signal_dbm", "registration",
                        "storage_used", "storage_total", "sent_today", "received_today",
                        "balance"}  # fmt: skip
            assert set(state) == expected
            await eventually(lambda: _json(seen.on("smsgw/sim0/state"))[-1]["received_today"] == 1)

            configs = {
                name: json.loads(payload)
                for name, payload, _ in seen.messages
                if name.startswith("homeassistant/") and payload
            }
            signal = configs["homeassistant/sensor/smsgw_test-node/sim0_signal/config"]
            assert signal["device_class"] == "signal_strength"
            assert signal["unit_of_measurement"] == "dBm"
            assert signal["availability"] == [{"topic": f"smsgw/{NODE}/availability"}]
            ready = configs["homeassistant/binary_sensor/smsgw_test-node/sim0_ready/config"]
            assert ready["device_class"] == "connectivity"
            event_entity = configs["homeassistant/event/smsgw_test-node/sim0_incoming/config"]
            assert event_entity["event_types"] == ["incoming_sms", "incoming_call"]
            assert "notify/smsgw_test-node/sim0_send/config" in " ".join(configs)
            devices = {json.dumps(config["device"], sort_keys=True) for config in configs.values()}
            assert len(devices) == 1, "one device per modem"
            device = json.loads(devices.pop())
            assert device["identifiers"][0].startswith("smsgw_")
            assert {"model", "manufacturer", "sw_version"} <= set(device)
            assert len({config["unique_id"] for config in configs.values()}) == len(configs)


async def test_send_topics_queue_like_the_api_and_refuse_what_it_refuses(
    tmp_path: Path,
) -> None:
    with running_broker(tmp_path / "broker") as broker, WebhookServer(lambda _r: Answer()) as srv:
        async with (
            emulators(tmp_path, "sim0") as modems,
            Collector(broker, "smsgw/send/result").running() as results,
            _gateway(_settings(tmp_path, broker, srv.url)),
            client(broker) as publisher,
        ):
            request = {"to": "+40721000001", "text": "from mqtt", "id": "req-1"}
            await publisher.publish("smsgw/send", json.dumps(request), qos=1)
            await publisher.publish("smsgw/sim0/send", json.dumps(request), qos=1)
            bad = [
                b"{not json",
                json.dumps({"to": 40721000001, "text": "x", "id": "bad-type"}).encode(),
                json.dumps({"to": "123", "text": "x", "id": "bad-number"}).encode(),
                json.dumps({"to": "+40721000001", "text": "", "id": "empty"}).encode(),
                json.dumps({"to": "+40721000001", "text": "x", "modem": "no", "id": "m"}).encode(),
                json.dumps({"to": "+40721000001", "text": "x" * 20000}).encode(),
                b"[1, 2]",
                b"\xff\xfe",
            ]  # fmt: skip
            for payload in bad:
                await publisher.publish("smsgw/send", payload, qos=1)
            await publisher.publish("smsgw/sim0/notify", "Alarm: door open", qos=1)
            topic = "smsgw/send/result"
            await eventually(lambda: len(results.on(topic)) == 2 + len(bad) + 1)
            answers = _json(results.on(topic))
            queued = [a for a in answers if a["status"] == "queued"]
            rejected = [a for a in answers if a["status"] == "rejected"]
            assert len(queued) == 3
            assert len(rejected) == len(bad)
            same = [a for a in queued if a["id"] == "req-1"]
            assert len(same) == 2
            assert same[0]["message_id"] == same[1]["message_id"]
            assert all(a["error"] and a["message_id"] is None for a in rejected)
            by_id = {a["id"]: a["error"] for a in rejected if a["id"]}
            assert "to" in by_id["bad-type"]
            assert by_id["bad-number"].startswith("to: '123'")
            assert "unknown modem" in by_id["m"]
            await eventually(lambda: len(modems["sim0"].sent()) == 2)
            sent = sorted((m.recipient, m.text) for m in modems["sim0"].sent())
            assert sent == [("+40721000001", "from mqtt"), (RECIPIENT, "Alarm: door open")]


async def test_mqtt_alone_without_a_webhook(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker") as broker:
        async with (
            emulators(tmp_path, "sim0") as modems,
            Collector(broker, "smsgw/+/event/#").running() as seen,
            _gateway(_settings(tmp_path, broker, "")) as gateway,
        ):
            for index in range(5):
                await modems["sim0"].deliver(SENDER, f"only mqtt {index}")
            await eventually(lambda: len(seen.on("smsgw/sim0/event/incoming_sms")) == 5)
            await eventually(
                lambda: gateway.mqtt is not None and gateway.mqtt.sink.stats.published == 5
            )
            assert await repository.mqtt_pending_count(gateway.db) == 0


async def test_removed_modems_lose_their_entities_and_a_birth_republishes(
    tmp_path: Path,
) -> None:
    with running_broker(tmp_path / "broker") as broker, WebhookServer(lambda _r: Answer()) as srv:
        stale = "homeassistant/sensor/smsgw_test-node/old_signal/config"
        other = "homeassistant/sensor/someone_else/x_signal/config"
        async with client(broker) as ha:
            await ha.publish(stale, b'{"name": "old"}', qos=1, retain=True)
            await ha.publish(other, b'{"name": "other"}', qos=1, retain=True)
        async with (
            emulators(tmp_path, "sim0"),
            Collector(broker, "homeassistant/#").running() as seen,
            _gateway(_settings(tmp_path, broker, srv.url)),
        ):
            await eventually(lambda: seen.on(stale)[-1:] == [b""])
            assert seen.on(other) == [b'{"name": "other"}']
            signal = "homeassistant/sensor/smsgw_test-node/sim0_signal/config"
            await eventually(lambda: len(seen.on(signal)) == 1)
            await asyncio.sleep(1)
            assert len(seen.on(signal)) == 1, "discovery is published once per connection"
            async with client(broker) as ha:
                await ha.publish("homeassistant/status", b"online", qos=1)
            await eventually(lambda: len(seen.on(signal)) == 2)


async def test_health_metrics_and_the_inbox_show_the_link(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker") as broker:
        async with (
            emulators(tmp_path, "sim0") as modems,
            _gateway(_settings(tmp_path, broker, "")) as gateway,
        ):
            await modems["sim0"].deliver(SENDER, "counted")
            assert gateway.mqtt is not None
            await eventually(
                lambda: gateway.mqtt is not None and gateway.mqtt.sink.stats.published == 1
            )
            await gateway.mqtt.refresh_pending()
            app = create_app(gateway, "k" * 32)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
                ready = (await http.get("/health/ready")).json()
                assert ready["mqtt"] == {
                    "connected": True, "pending": 0, "published": 1, "failures": 0,
                }  # fmt: skip
                text = (await http.get("/metrics")).text
                assert "smsgw_mqtt_connected 1.0" in text
                assert 'smsgw_mqtt_published_total{kind="incoming_sms"}' in text
                assert "smsgw_mqtt_pending_events 0.0" in text
                assert "smsgw_mqtt_failures" in text
                form = (await http.get("/ui/login")).text
                token = re.search(r'name="login_token" value="([^"]*)"', form)
                assert token is not None
                await http.post(
                    "/ui/login", data={"login_token": token.group(1), "api_key": "k" * 32}
                )
                page = (await http.get("/ui/webhook")).text
                assert 'id="mqtt"' in page
                assert f"mqtt://127.0.0.1:{broker.port}" in page
                assert 'data-stat="mqtt-published">1<' in page
            broker.stop()
            await eventually(
                lambda: gateway.mqtt is not None and not gateway.mqtt.link.is_connected
            )
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
                assert (await http.get("/health/ready")).json()["mqtt"]["connected"] is False


async def test_a_flood_of_malformed_requests_is_answered_and_crashes_nothing(
    tmp_path: Path,
) -> None:
    flood = 300
    with running_broker(tmp_path / "broker") as broker:
        async with (
            emulators(tmp_path, "sim0") as modems,
            Collector(broker, "smsgw/send/result", "smsgw/+/event/#").running() as seen,
            _gateway(_settings(tmp_path, broker, "")) as gateway,
            client(broker) as attacker,
        ):
            for n in range(flood):
                payload = [b"\x00" * 70000, b"{" * 5000, b'{"to": [], "text": {}}', b"null"][n % 4]
                await attacker.publish("smsgw/sim0/send", payload, qos=0)
            await eventually(lambda: len(seen.on("smsgw/send/result")) == flood, within=30)
            assert all(json.loads(r)["status"] == "rejected" for r in seen.on("smsgw/send/result"))
            await modems["sim0"].deliver(SENDER, "still alive")
            await eventually(lambda: len(seen.on("smsgw/sim0/event/incoming_sms")) == 1)
            assert gateway.mqtt is not None
            assert gateway.mqtt.link.is_connected
            assert modems["sim0"].sent() == []
