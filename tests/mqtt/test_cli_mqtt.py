"""`smsgw mqtt test` as a user runs it, against a real Mosquitto (with a password file)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.gateway.helpers import eventually
from tests.mqtt.broker import Collector, client, running_broker


async def _mqtt_test(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "SMSGW_STATE_DIR": str(tmp_path / "state")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsgw", "mqtt", "test", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip


async def test_publishes_a_sample_event_and_prints_what_arrives_on_the_send_topic(
    tmp_path: Path,
) -> None:
    with running_broker(tmp_path / "broker", users={"gw": "pw-not-shown"}) as broker:
        async with Collector(
            broker, "smsgw/+/event/#", username="gw", password="pw-not-shown"
        ).running() as seen:
            url = broker.url("gw", "pw-not-shown")
            process = await _mqtt_test(tmp_path, "--url", url, "--seconds", "4")
            await eventually(lambda: bool(seen.on("smsgw/test/event/incoming_sms")), within=15)
            event = json.loads(seen.on("smsgw/test/event/incoming_sms")[0])
            assert event["type"] == "incoming_sms"
            async with client(broker, username="gw", password="pw-not-shown") as user:
                await user.publish("smsgw/send", b'{"to": "+40721000001", "text": "hi"}', qos=1)
            output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 0, text
    assert "connect:    ok" in text
    assert "publish:    ok: sample incoming_sms on smsgw/test/event/incoming_sms" in text
    assert 'smsgw/send: {"to": "+40721000001", "text": "hi"}' in text
    assert "pw-not-shown" not in text
    assert f"mqtt://gw:********@127.0.0.1:{broker.port}" in text


async def test_refused_credentials_fail_with_a_hint(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker", users={"gw": "right"}) as broker:
        process = await _mqtt_test(
            tmp_path, "--url", broker.url("gw", "wrong-pw"), "--seconds", "1"
        )
        output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 1, text
    assert "connect:    FAILED" in text
    assert "hint: the broker refused the credentials" in text
    assert "wrong-pw" not in text


async def test_no_broker_configured_is_a_usage_error(tmp_path: Path) -> None:
    process = await _mqtt_test(tmp_path)
    output, _ = await process.communicate()
    assert process.returncode == 2
    assert "mqtt.url" in output.decode()
