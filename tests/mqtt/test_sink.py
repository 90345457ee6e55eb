"""The event sink without a broker: an event counts as published only when its publish was
acknowledged; the rest stay owed, in order, for the next connection."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Sequence

from smsgw.config import MqttSection
from smsgw.mqtt import LinkDown, MqttEventSink, MqttLink, OwedEvent

NOW = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC)


class ScriptedLink(MqttLink):
    """Acknowledges every publish except the topics in `refuse`, which raise LinkDown."""

    def __init__(self) -> None:
        super().__init__(MqttSection(url="mqtt://127.0.0.1"), "pi-1")
        self.connected.set()
        self.refuse: set[str] = set()
        self.sent: list[tuple[str, bytes]] = []

    async def publish(
        self, topic: str, payload: bytes, *, qos: int | None = None, retain: bool = False
    ) -> None:
        await asyncio.sleep(0)
        if topic in self.refuse:
            raise LinkDown("not acknowledged")
        self.sent.append((topic, payload))


class MemoryPending:
    def __init__(self, events: Sequence[OwedEvent]) -> None:
        self.owed = {event.pk: event for event in events}
        self.failures: dict[int, str] = {}
        self.emptied = asyncio.Event()

    async def claim(self, limit: int) -> Sequence[OwedEvent]:
        return [self.owed[pk] for pk in sorted(self.owed)][:limit]

    async def published(self, pks: Sequence[int]) -> None:
        for pk in pks:
            del self.owed[pk]
        if not self.owed:
            self.emptied.set()

    async def failed(self, pks: Sequence[int], error: str) -> None:
        for pk in pks:
            self.failures[pk] = error


def _event(pk: int, modem: str | None, kind: str = "incoming_sms") -> OwedEvent:
    return OwedEvent(pk, kind, modem, f'{{"n": {pk}}}'.encode(), NOW)


async def test_acknowledged_events_are_done_and_the_rest_stay_owed() -> None:
    link = ScriptedLink()
    pending = MemoryPending([_event(1, "sim0"), _event(2, "sim1", "sms_status"), _event(3, None)])
    latencies: list[float] = []
    sink = MqttEventSink(
        link,
        pending,
        clock=lambda: NOW + datetime.timedelta(seconds=2),
        on_published=lambda _event, seconds: latencies.append(seconds),
    )
    link.refuse = {"smsgw/sim1/event/sms_status"}
    assert await sink.drain_once() == 3
    assert link.sent == [
        ("smsgw/sim0/event/incoming_sms", b'{"n": 1}'),
        ("smsgw/pi-1/event/incoming_sms", b'{"n": 3}'),
    ]
    assert sorted(pending.owed) == [2]
    assert pending.failures == {2: "not acknowledged"}
    assert (sink.stats.published, sink.stats.failures) == (2, 1)
    assert latencies == [2.0, 2.0]
    link.refuse.clear()
    assert await sink.drain_once() == 1
    assert pending.owed == {}
    assert await sink.drain_once() == 0


async def test_the_sink_waits_for_the_connection_and_wakes_on_new_events() -> None:
    link = ScriptedLink()
    link.connected.clear()
    pending = MemoryPending([_event(1, "sim0")])
    sink = MqttEventSink(link, pending, clock=lambda: NOW, idle_poll=60)
    task = asyncio.create_task(sink.run())
    await asyncio.sleep(0.05)
    assert link.sent == []  # nothing while disconnected
    link.connected.set()
    async with asyncio.timeout(2):
        await pending.emptied.wait()
    pending.emptied.clear()
    pending.owed[2] = _event(2, "sim0")
    sink.wake()  # no 60 s poll: the wake-up publishes it
    async with asyncio.timeout(2):
        await pending.emptied.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [topic for topic, _ in link.sent] == ["smsgw/sim0/event/incoming_sms"] * 2
