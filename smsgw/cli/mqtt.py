"""`smsgw mqtt test`: check the broker link before relying on it.

Connects with the configured URL, credentials, TLS and client id (plus `-test`, so a running
daemon's session is not kicked off), publishes one sample `incoming_sms` event exactly as the
daemon would (QoS `mqtt.qos`, waiting for the broker's acknowledgement), then listens on the
send topics for a few seconds and prints what arrives: enough to see whether the broker, the
credentials, the ACLs and the publishing side (Home Assistant, Node-RED) line up. Exit 0 when
the connection and the publish succeeded.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Annotated

import aiomqtt
import typer

from smsgw.cli.common import EXIT_FAILED, EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.config import MqttSection
from smsgw.mqtt import Topics, client_for, describe
from smsgw.webhook.probe import sample_incoming_sms

app = typer.Typer(no_args_is_help=True)

#: Longest payload shown per received message.
PREVIEW = 300


@app.callback()
def _group() -> None:
    """MQTT tools (events, modem state and send topics on a broker; Home Assistant)."""


@app.command("test")
def mqtt_test(
    config: ConfigOption = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Broker URL (default: mqtt.url from the config).")
    ] = None,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0, max=600, help="How long to listen.")
    ] = 5.0,
    modem: Annotated[
        str, typer.Option("--modem", help="Modem level of the sample event's topic.")
    ] = "test",
) -> None:
    """Publish a sample event and listen on the send topics for a few seconds."""
    settings = load_or_exit(config)
    section = settings.mqtt
    if url is not None:
        try:
            section = MqttSection.model_validate({**section.model_dump(), "url": url})
        except ValueError as error:
            fail(f"--url: {error}", EXIT_USAGE)
    if not section.enabled:
        fail("no broker: set mqtt.url in the configuration or pass --url", EXIT_USAGE)
    node = settings.node.name
    ok = asyncio.run(_run(section, node, modem, seconds))
    if not ok:
        raise typer.Exit(EXIT_FAILED)


def _say(text: str) -> None:
    typer.echo(text)


async def _run(section: MqttSection, node: str, modem: str, seconds: float) -> bool:
    topics = Topics(section.prefix, node)
    user, _password = section.credentials()
    identifier = f"{section.client_id_for(node)}-test"
    _say(f"broker:     {describe(section)}")
    _say(f"tls:        {'yes' if section.tls else 'no'}" + (
        f" (CA file {section.ca_file})" if section.tls and section.ca_file else ""
    ))  # fmt: skip
    _say(f"user:       {user or '(anonymous)'}")
    _say(f"client id:  {identifier}")
    client = client_for(section, node, will=False, identifier=identifier)
    started = time.monotonic()
    try:
        async with client:
            _say(f"connect:    ok in {1000 * (time.monotonic() - started):.0f} ms")
            return await _exercise(client, section, topics, modem, seconds)
    except aiomqtt.MqttError as error:
        _say(f"connect:    FAILED: {error}")
        _say(_hint(str(error)))
        return False


async def _exercise(
    client: aiomqtt.Client, section: MqttSection, topics: Topics, modem: str, seconds: float
) -> bool:
    listening = [topics.send, topics.any_modem_send, topics.send_result]
    for topic in listening:
        await client.subscribe(topic, qos=1)
    body = sample_incoming_sms(
        sender="+40721000000", message="help", now=datetime.datetime.now(datetime.UTC)
    )
    event_topic = topics.event(modem, "incoming_sms")
    started = time.monotonic()
    try:
        await client.publish(event_topic, body, qos=section.qos)
    except aiomqtt.MqttError as error:
        _say(f"publish:    FAILED on {event_topic}: {error}")
        return False
    _say(
        f"publish:    ok: sample incoming_sms on {event_topic} (QoS {section.qos}, "
        f"acknowledged in {1000 * (time.monotonic() - started):.0f} ms)"
    )
    _say(f"availability topic: {topics.availability}")
    _say(f"state topics:       {topics.state('<modem>')}")
    if section.discovery:
        _say(f"discovery:          {section.discovery_prefix}/<component>/smsgw_{topics.node}/...")
    _say(f"listening {seconds:g}s on: {', '.join(listening)}")
    _say(
        f"  try: mosquitto_pub -h {section.host} -p {section.port} -t {topics.send} "
        """-m '{"to": "+40721000000", "text": "hello", "id": "try-1"}'"""
    )
    received = 0
    try:
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                received += 1
                payload = message.payload if isinstance(message.payload, bytes) else b""
                preview = payload[:PREVIEW].decode("utf-8", errors="replace")
                more = "…" if len(payload) > PREVIEW else ""
                _say(f"  {message.topic}: {preview}{more}")
    except TimeoutError:
        pass
    _say(f"received:   {received} message(s) on the send topics")
    return True


def _hint(error: str) -> str:
    lowered = error.lower()
    if "refused" in lowered and "connection" in lowered:
        return "hint: nothing listens there: is the broker running, and is the port right?"
    if "not authori" in lowered or "bad user" in lowered or "code:5" in lowered:
        return "hint: the broker refused the credentials (user/password in mqtt.url or keys)"
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return "hint: TLS failed: set mqtt.ca_file to the CA that signed the broker's certificate"
    if "timed out" in lowered:
        return "hint: no answer: a firewall, or a TLS port spoken to without mqtts:// (or back)"
    return "hint: check mqtt.url (mqtt://HOST:1883 or mqtts://HOST:8883)"
