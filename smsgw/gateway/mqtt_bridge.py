"""The MQTT side of the daemon: the broker link, the second event sink, retained modem state,
the send topics and Home Assistant discovery, wired to the store and the modems.

Events: every event committed while `[mqtt]` is configured is also owed to the broker
(`mqtt_outbox`, same transaction as the webhook's row); the sink publishes and deletes it once
acknowledged. Neither sink waits for the other.

State: `<prefix>/<modem>/state` (retained) whenever a modem changes (the daemon calls
`modem_changed`) and at least every `STATE_INTERVAL`, plus at every (re)connect.

Discovery: published per modem once the modem told its IMEI (the device identifier), again
at every connect and whenever Home Assistant announces itself (`<discovery_prefix>/status` =
`online`). At the first connect the retained discovery topics of this node are read back and
those of modems no longer configured cleared (empty retained payload), which is how Home
Assistant removes entities.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable, Sequence

from smsgw import metrics
from smsgw.config import MqttSection
from smsgw.models import ModemView
from smsgw.mqtt import (
    Discovery,
    LinkDown,
    ModemSnapshot,
    MqttEventSink,
    MqttLink,
    OwedEvent,
    SendCommand,
    SendRefused,
    SendResult,
    Submit,
    describe,
    parse_send,
)
from smsgw.mqtt.commands import MAX_REQUEST_BYTES, request_id_of
from smsgw.mqtt.status import MqttStatus
from smsgw.store import Database, repository

log = logging.getLogger(__name__)

#: The retained state is republished at least this often (seconds).
STATE_INTERVAL = 60.0
#: Shortest gap between two state rounds caused by changes (a burst of messages changes the
#: day's counters hundreds of times a second; the retained state need not follow each one).
STATE_MIN_GAP = 1.0
#: How often the backlog gauge is refreshed (seconds).
PENDING_INTERVAL = 5.0
#: How long the retained discovery topics are read back at the first connect.
SCAN_SECONDS = 1.5

Views = Callable[[], Awaitable[list[ModemView]]]
Imei = Callable[[str], str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class _DayCount:
    """A modem's received-today count as read from the database, and when."""

    day: datetime.date
    base: int
    #: The process's received counter (`ModemView.counters["received"]`) at that read.
    counter: int
    read_at: float


class StorePendingEvents:
    """`smsgw.mqtt.PendingEvents` over the store's `mqtt_outbox`."""

    def __init__(self, db: Database, node: str) -> None:
        self._db = db
        self._node = node

    async def claim(self, limit: int) -> Sequence[OwedEvent]:
        rows = await repository.claim_mqtt_events(self._db, node=self._node, limit=limit)
        return [OwedEvent(r.pk, r.kind.value, r.modem, r.body, r.created_at) for r in rows]

    async def published(self, pks: Sequence[int]) -> None:
        await repository.mark_mqtt_published(self._db, pks)

    async def failed(self, pks: Sequence[int], error: str) -> None:
        await repository.mark_mqtt_failed(self._db, pks, error)


class MqttBridge:
    """Started and stopped by the gateway; `submit` queues a send like the REST API does."""

    def __init__(
        self,
        section: MqttSection,
        *,
        db: Database,
        node: str,
        modems: Sequence[str],
        views: Views,
        imei: Imei,
        clock: Callable[[], datetime.datetime],
        submit: Submit | None = None,
    ) -> None:
        self.section = section
        self._db = db
        self._node = node
        self._modems = tuple(modems)
        self._views = views
        self._imei = imei
        self.submit = submit
        self._ha_status = f"{section.discovery_prefix}/status"
        subscriptions = [
            f"{section.prefix}/send",
            f"{section.prefix}/+/send",
            f"{section.prefix}/+/notify",
        ]
        if section.discovery:
            subscriptions.append(self._ha_status)
        self.link = MqttLink(
            section,
            node,
            subscriptions=subscriptions,
            on_message=self._on_message,
            on_connect=self._on_connect,
        )
        self.topics = self.link.topics
        self.discovery = Discovery(
            self.topics, section.discovery_prefix, notify_enabled=bool(section.default_recipient)
        )
        self.sink = MqttEventSink(
            self.link, StorePendingEvents(db, node), clock=clock, on_published=_observe
        )
        self._changed = asyncio.Event()
        self._clock = clock
        self._received: dict[str, _DayCount] = {}
        self._last_state: dict[str, bytes] = {}
        self._discovered: set[str] = set()
        self._scanned = False
        #: The connection (`link.stats.connects`) whose discovery and state went out: the
        #: state loop waits for it, so a new connection's first round is not doubled.
        self._synced = 0
        self._publishing = asyncio.Lock()
        self._pending: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._link_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # From now on every new event is owed to the broker too.
        self._db.mqtt_events = True
        released = await repository.release_mqtt_claims(self._db, node=self._node)
        if released:
            log.info("%d MQTT event(s) claimed before a crash are pending again", released)
        log.info("MQTT: broker %s, topics under %s/", describe(self.section), self.section.prefix)
        self._link_task = asyncio.create_task(self.link.run(), name="mqtt-link")
        self._tasks = [
            asyncio.create_task(self.sink.run(), name="mqtt-events"),
            asyncio.create_task(self._state_loop(), name="mqtt-state"),
            asyncio.create_task(self._pending_loop(), name="mqtt-pending"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._link_task is not None:
            await self.link.stop(self._link_task)
        metrics.MQTT_CONNECTED.set(0)

    def wake(self) -> None:
        self.sink.wake()

    def modem_changed(self) -> None:
        self._changed.set()

    async def refresh_pending(self) -> int:
        """The durable backlog, for the metrics gauge and health (every PENDING_INTERVAL)."""
        self._pending = await repository.mqtt_pending_count(self._db)
        metrics.MQTT_PENDING.set(self._pending)
        metrics.MQTT_CONNECTED.set(int(self.link.is_connected))
        return self._pending

    async def _pending_loop(self) -> None:
        while True:
            try:
                await self.refresh_pending()
            except Exception as error:  # the database: the heartbeats report it
                log.debug("MQTT: could not count pending events: %s", error)
            await asyncio.sleep(PENDING_INTERVAL)

    def status(self) -> MqttStatus:
        return MqttStatus(
            broker=describe(self.section),
            connected=self.link.is_connected,
            published=self.sink.stats.published,
            failures=self.sink.stats.failures + self.link.stats.connect_failures,
            pending=self._pending,
            last_error=self.link.stats.last_error,
        )

    # ------------------------------------------------------------------ connection
    async def _on_connect(self) -> None:
        metrics.MQTT_CONNECTED.set(1)
        if self.section.discovery and not self._scanned:
            await self._clear_removed_modems()
        session = self.link.stats.connects
        try:
            async with self._publishing:
                self._discovered.clear()  # a restarted broker may have lost what it retained
                await self._publish_states(force=True)
        finally:
            # Even after a failed first round the state loop takes over (next change, or
            # STATE_INTERVAL) instead of waiting for another connection.
            self._synced = session

    async def _clear_removed_modems(self) -> None:
        try:
            retained = await self.link.subscribe_briefly(self.discovery.ours, SCAN_SECONDS)
        except Exception as error:
            log.warning("MQTT: could not read back earlier discovery topics: %s", error)
            return
        self._scanned = True
        topics = [topic for topic, payload in retained if payload]
        for topic in self.discovery.stale(topics, self._modems):
            log.info("MQTT: removing Home Assistant entity %s (modem no longer configured)", topic)
            await self.link.publish(topic, b"", qos=1, retain=True)

    async def _on_message(self, topic: str, payload: bytes) -> None:
        if topic == self._ha_status:
            if payload.strip().lower() == b"online":
                log.info("MQTT: Home Assistant started; publishing discovery again")
                async with self._publishing:
                    self._discovered.clear()
                    await self._publish_states(force=True)
            return
        if topic == self.topics.send:
            await self._answer(payload, modem=None)
            return
        modem = self.topics.modem_of(topic)
        if modem is None:
            return
        if topic == self.topics.modem_send(modem):
            await self._answer(payload, modem=modem)
        elif topic == self.topics.notify(modem):
            await self._notify(payload, modem)

    # ------------------------------------------------------------------ sending
    async def _answer(self, payload: bytes, *, modem: str | None) -> None:
        try:
            command = parse_send(payload, modem=modem)
        except SendRefused as error:
            log.warning("MQTT send request refused: %s", error)
            await self._result(SendResult(request_id_of(payload), None, str(error)))
            return
        await self._result(await self._queue(command))

    async def _notify(self, payload: bytes, modem: str) -> None:
        """Home Assistant's notify entity: the payload is the message text."""
        recipient = self.section.default_recipient
        if not recipient:
            await self._result(SendResult(None, None, "mqtt.default_recipient is not set"))
            return
        if len(payload) > MAX_REQUEST_BYTES:
            await self._result(SendResult(None, None, "notify message too long"))
            return
        text = payload.decode("utf-8", errors="replace")
        await self._result(await self._queue(SendCommand(recipient, text, None, True, modem)))

    async def _queue(self, command: SendCommand) -> SendResult:
        if self.submit is None:
            return SendResult(command.request_id, None, "sending is not available on this node")
        try:
            message_id = await self.submit(command)
        except SendRefused as error:
            log.warning("MQTT send to %s refused: %s", command.to, error)
            return SendResult(command.request_id, None, str(error))
        except Exception:
            log.exception("MQTT send request failed")
            return SendResult(command.request_id, None, "internal error (see the gateway log)")
        log.info("MQTT send request queued as message %s", message_id)
        return SendResult(command.request_id, message_id, None)

    async def _result(self, result: SendResult) -> None:
        with contextlib.suppress(LinkDown):
            await self.link.publish(self.topics.send_result, result.payload())

    # ------------------------------------------------------------------ state
    async def _state_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_full = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, STATE_INTERVAL - (loop.time() - last_full))):
                    await self._changed.wait()
            self._changed.clear()
            full = loop.time() - last_full >= STATE_INTERVAL
            if full:
                last_full = loop.time()
            if not self.link.is_connected or self._synced != self.link.stats.connects:
                continue
            try:
                async with self._publishing:
                    await self._publish_states(force=full)
            except LinkDown:
                continue
            except Exception:
                log.exception("MQTT: could not publish the modem state")
            await asyncio.sleep(STATE_MIN_GAP)

    async def snapshots(self) -> list[ModemSnapshot]:
        views = [view for view in await self._views() if view.node == self._node]
        snapshots = []
        for view in views:
            received: int | None = None
            with contextlib.suppress(Exception):
                received = await self._received_today(view)
            snapshots.append(
                ModemSnapshot(
                    name=view.name,
                    state=view.state,
                    manufacturer=view.manufacturer,
                    model=view.model,
                    revision=view.revision,
                    imei=self._imei(view.name),
                    operator=view.operator,
                    signal_dbm=view.signal_dbm,
                    registration=view.registration,
                    storage_used=view.storage_used,
                    storage_total=view.storage_total,
                    sent_today=view.counters.get("today"),
                    received_today=received,
                    balance=view.balance.as_json() if view.balance is not None else None,
                )
            )
        return snapshots

    async def _received_today(self, view: ModemView) -> int:
        """Messages `view`'s modem received today: counted in the database at most every
        STATE_INTERVAL (a scan of the modem's messages), this process's own count added in
        between, so a burst does not turn into one scan per state round."""
        day = self._clock().astimezone(datetime.UTC).date()
        counter = view.counters.get("received", 0)
        now = asyncio.get_running_loop().time()
        cached = self._received.get(view.name)
        if cached is None or cached.day != day or now - cached.read_at >= STATE_INTERVAL:
            base = await repository.received_today(self._db, view.name)
            cached = _DayCount(day=day, base=base, counter=counter, read_at=now)
            self._received[view.name] = cached
        return cached.base + max(0, counter - cached.counter)

    async def _publish_states(self, *, force: bool) -> None:
        for snapshot in await self.snapshots():
            if (
                self.section.discovery
                and snapshot.name not in self._discovered
                and (snapshot.imei or snapshot.model)
            ):
                for topic, config in self.discovery.messages(snapshot):
                    await self.link.publish(topic, config, qos=1, retain=True)
                self._discovered.add(snapshot.name)
            payload = snapshot.state_payload()
            if force or self._last_state.get(snapshot.name) != payload:
                await self.link.publish(
                    self.topics.state(snapshot.name), payload, qos=1, retain=True
                )
                self._last_state[snapshot.name] = payload


def _observe(event: OwedEvent, seconds: float) -> None:
    metrics.MQTT_PUBLISHED.labels(kind=event.kind).inc()
    metrics.MQTT_LATENCY.observe(seconds)
