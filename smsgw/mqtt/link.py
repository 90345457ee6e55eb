"""One MQTT connection, kept up: connect, last will, reconnect with capped backoff.

`MqttLink.run` connects, publishes `online` (retained) on the node's availability topic,
subscribes, calls `on_connect` (discovery, state), then hands every message received to
`on_message` until the connection drops; then it waits (1 s doubling up to
`MAX_BACKOFF`, with jitter so a fleet of gateways does not reconnect in step) and starts
over. The broker publishes the last will, `offline` (retained), if the connection dies;
`stop` publishes `offline` itself before disconnecting cleanly (a clean disconnect
suppresses the will).

A new `aiomqtt.Client` per connection: paho keeps per-connection state (in-flight message
ids) that must not leak into the next one. `publish` raises `LinkDown` while disconnected,
so callers (the event sink) keep what they could not publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Sequence

import aiomqtt

from smsgw import metrics
from smsgw.config import MqttSection
from smsgw.exceptions import SmsgwError
from smsgw.mqtt.topics import Topics
from smsgw.redact import mask_url

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
#: How long one publish may wait for the broker's acknowledgement (QoS 1/2).
PUBLISH_TIMEOUT = 10.0
#: Messages in flight at once on the connection (paho's default of 20 halves throughput).
MAX_INFLIGHT = 200
#: Received messages handled at once; beyond it the receive loop waits, so a flood of send
#: requests is worked through at the pace the gateway can queue them, not piled up in tasks.
MAX_HANDLERS = 8
#: Received messages paho may queue before the receive loop takes them.
MAX_QUEUED_INCOMING = 1000

MessageHandler = Callable[[str, bytes], Awaitable[None]]


class LinkDown(SmsgwError):
    """Not connected to the broker (or the connection dropped during a publish)."""


@dataclasses.dataclass(slots=True)
class LinkStats:
    connects: int = 0
    connect_failures: int = 0
    published: int = 0
    publish_failures: int = 0
    last_error: str | None = None


def client_for(
    section: MqttSection, node: str, *, will: bool = True, identifier: str | None = None
) -> aiomqtt.Client:
    """An unconnected client with the section's broker, credentials, TLS and last will."""
    user, password = section.credentials()
    tls = None
    if section.tls:
        tls = ssl.create_default_context(cafile=section.ca_file or None)
    topics = Topics(section.prefix, node)
    return aiomqtt.Client(
        section.host,
        section.port,
        username=user,
        password=password,
        identifier=identifier if identifier is not None else section.client_id_for(node),
        keepalive=section.keepalive,
        tls_context=tls,
        will=aiomqtt.Will(topics.availability, b"offline", qos=1, retain=True) if will else None,
        timeout=PUBLISH_TIMEOUT,
        max_inflight_messages=MAX_INFLIGHT,
        max_queued_incoming_messages=MAX_QUEUED_INCOMING,
        logger=logging.getLogger("smsgw.mqtt.paho"),
    )


def describe(section: MqttSection) -> str:
    """The broker as a log line may show it (password masked)."""
    return mask_url(section.url)


class MqttLink:
    """The gateway's broker connection; `connected` is an Event others may wait on."""

    def __init__(
        self,
        section: MqttSection,
        node: str,
        *,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.section = section
        self.topics = Topics(section.prefix, node)
        self._node = node
        self._subscriptions = tuple(subscriptions)
        self._on_message = on_message
        self._on_connect = on_connect
        self._rng = rng or random.Random()
        self._client: aiomqtt.Client | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_HANDLERS)
        self.connected = asyncio.Event()
        self.stats = LinkStats()

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    async def run(self) -> None:
        """Stay connected until cancelled."""
        backoff = FIRST_BACKOFF
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as error:
                was_connected = self.is_connected
                self._lost(error)
                if was_connected:
                    backoff = FIRST_BACKOFF  # a broker restart: try again soon
                else:
                    self.stats.connect_failures += 1
                    metrics.MQTT_FAILURES.labels(what="connect").inc()
            finally:
                self._client = None
                self.connected.clear()
            delay = backoff * (0.5 + self._rng.random() / 2)
            log.info("MQTT: reconnecting to %s in %.1fs", describe(self.section), delay)
            await asyncio.sleep(delay)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def _lost(self, error: aiomqtt.MqttError) -> None:
        text = str(error) or type(error).__name__
        self.stats.last_error = text
        if self.is_connected:
            log.warning("MQTT: connection to %s lost: %s", describe(self.section), text)
        else:
            log.warning("MQTT: cannot connect to %s: %s", describe(self.section), text)

    async def _session(self) -> None:
        async with client_for(self.section, self._node) as client:
            self._client = client
            await client.publish(self.topics.availability, b"online", qos=1, retain=True)
            for topic in self._subscriptions:
                await client.subscribe(topic, qos=1)
            self.stats.connects += 1
            self.stats.last_error = None
            self.connected.set()
            log.info("MQTT: connected to %s", describe(self.section))
            if self._on_connect is not None:
                self._spawn(self._on_connect())
            async for message in client.messages:
                if self._on_message is None:
                    continue
                payload = message.payload
                data = payload if isinstance(payload, bytes) else str(payload or "").encode()
                await self._slots.acquire()
                self._spawn(self._on_message(str(message.topic), data), slot=True)

    def _spawn(self, work: Awaitable[None], *, slot: bool = False) -> None:
        async def guarded() -> None:
            try:
                await work
            except LinkDown:
                pass  # the connection dropped under it; the next connect redoes it
            except Exception:
                log.exception("MQTT: handler failed")
            finally:
                if slot:
                    self._slots.release()

        task = asyncio.create_task(guarded(), name="mqtt-handler")
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int | None = None, retain: bool = False
    ) -> None:
        """Publish and, for QoS 1/2, wait for the broker's acknowledgement."""
        client = self._client
        if client is None or not self.is_connected:
            raise LinkDown("not connected to the MQTT broker")
        try:
            await client.publish(
                topic, payload, qos=self.section.qos if qos is None else qos, retain=retain
            )
        except aiomqtt.MqttError as error:
            self.stats.publish_failures += 1
            raise LinkDown(f"publish to {topic} failed: {error}") from None
        self.stats.published += 1

    async def subscribe_briefly(self, topic: str, seconds: float) -> list[tuple[str, bytes]]:
        """What the broker holds retained under `topic` (a filter), read with a second,
        short-lived connection (no will) so the main message loop is not disturbed."""
        received: list[tuple[str, bytes]] = []
        identifier = f"{self.section.client_id_for(self._node)}-scan"
        async with client_for(self.section, self._node, will=False, identifier=identifier) as c:
            await c.subscribe(topic, qos=1)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    async for message in c.messages:
                        if message.retain:
                            payload = message.payload
                            data = payload if isinstance(payload, bytes) else b""
                            received.append((str(message.topic), data))
        return received

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Say `offline` (retained), then disconnect cleanly and end `task` (`run`)."""
        if self._client is not None and self.is_connected:
            with contextlib.suppress(LinkDown, TimeoutError):
                async with asyncio.timeout(2):
                    await self.publish(self.topics.availability, b"offline", qos=1, retain=True)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
