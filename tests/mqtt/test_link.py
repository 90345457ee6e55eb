"""The broker link against a real Mosquitto: availability, credentials, TLS, reconnects."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from smsgw.config import MqttSection
from smsgw.mqtt import LinkDown, MqttLink
from tests.gateway.helpers import eventually
from tests.mqtt.broker import Collector, running_broker

NODE = "pi-test"
AVAILABILITY = f"smsgw/{NODE}/availability"


async def _started(link: MqttLink) -> asyncio.Task[None]:
    task = asyncio.create_task(link.run())
    async with asyncio.timeout(10):
        await link.connected.wait()
    return task


async def test_online_is_retained_and_a_clean_stop_says_offline(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker") as broker:
        link = MqttLink(MqttSection(url=broker.url()), NODE)
        task = await _started(link)
        async with Collector(broker, AVAILABILITY).running() as late:
            await eventually(lambda: late.on(AVAILABILITY) == [b"online"])
            assert late.messages[0][2], "online must be retained for late subscribers"
            await link.stop(task)
            await eventually(lambda: late.on(AVAILABILITY) == [b"online", b"offline"])
        async with Collector(broker, AVAILABILITY).running() as after:
            await eventually(lambda: after.on(AVAILABILITY) == [b"offline"])


async def test_publish_while_disconnected_raises_link_down(tmp_path: Path) -> None:
    link = MqttLink(MqttSection(url="mqtt://127.0.0.1:9"), NODE)
    with pytest.raises(LinkDown):
        await link.publish("smsgw/x", b"1")


async def test_password_from_the_url_or_the_keys_and_a_wrong_one_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {"gw": "s3cret-broker-pw"}
    with running_broker(tmp_path / "broker", users=users) as broker:
        for section in (
            MqttSection(url=broker.url("gw", "s3cret-broker-pw")),
            MqttSection(url=broker.url(), username="gw", password=SecretStr("s3cret-broker-pw")),
        ):
            link = MqttLink(section, NODE)
            task = await _started(link)
            await link.publish("smsgw/probe", b"ok")
            await link.stop(task)
        wrong = MqttLink(MqttSection(url=broker.url("gw", "wrong-pw-value")), NODE)
        task = asyncio.create_task(wrong.run())
        await eventually(lambda: wrong.stats.connect_failures >= 1)
        assert not wrong.is_connected
        assert wrong.stats.last_error
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    text = caplog.text
    assert "s3cret-broker-pw" not in text
    assert "wrong-pw-value" not in text
    assert "mqtt://gw:********@127.0.0.1" in text


async def test_tls_with_the_brokers_certificate(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker", tls=True) as broker:
        link = MqttLink(MqttSection(**broker.mqtt_section()), NODE)
        task = await _started(link)
        async with Collector(broker, AVAILABILITY).running() as seen:
            await eventually(lambda: seen.on(AVAILABILITY) == [b"online"])
        await link.stop(task)
        untrusted = MqttLink(MqttSection(url=broker.url()), NODE)  # system CAs only
        task = asyncio.create_task(untrusted.run())
        await eventually(lambda: untrusted.stats.connect_failures >= 1)
        assert not untrusted.is_connected
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_reconnects_after_a_broker_restart(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker") as broker:
        link = MqttLink(MqttSection(url=broker.url()), NODE)
        task = await _started(link)
        broker.stop()
        await eventually(lambda: not link.is_connected)
        broker.start()
        await eventually(lambda: link.is_connected, within=15)
        assert link.stats.connects == 2
        await link.stop(task)
