"""MQTT as a durable event sink: drain the events owed to the broker, publish, acknowledge.

The store keeps, per event, whether the broker still needs it (`PendingEvents`), beside and
independent of the webhook's state, so a broker outage holds nothing of the webhook back and
a webhook outage nothing of MQTT. An event counts as published only once the broker
acknowledged it (QoS 1: PUBACK); until then it stays owed, across reconnects and restarts.
At least once: an acknowledgement lost with the connection means the event goes out again.

Batches are published concurrently over the one connection (paho keeps them in order on the
wire) and their outcome recorded in one transaction, which is what makes bursts cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from smsgw import metrics
from smsgw.mqtt.link import LinkDown, MqttLink

log = logging.getLogger(__name__)

#: Events claimed per round.
BATCH = 64
#: Look at the store even without a wake-up (another node or process may have added events).
IDLE_POLL = 5.0
#: Pause after the store itself failed, so the loop does not spin.
STORE_ERROR_PAUSE = 2.0


@dataclasses.dataclass(frozen=True, slots=True)
class OwedEvent:
    """What the sink needs of one event: where it goes and the webhook's own body."""

    pk: int
    kind: str
    modem: str | None
    body: bytes
    created_at: datetime.datetime


class PendingEvents(Protocol):
    """The store's side (the gateway adapts the repository to it)."""

    async def claim(self, limit: int) -> Sequence[OwedEvent]: ...

    async def published(self, pks: Sequence[int]) -> None: ...

    async def failed(self, pks: Sequence[int], error: str) -> None: ...


@dataclasses.dataclass(slots=True)
class SinkStats:
    published: int = 0
    failures: int = 0


class MqttEventSink:
    """Publishes `<prefix>/<modem>/event/<type>` for every owed event while connected.

    `on_published(event, seconds)` is called per acknowledged event with the time from its
    creation to the acknowledgement (metrics, benchmarks).
    """

    def __init__(
        self,
        link: MqttLink,
        pending: PendingEvents,
        *,
        clock: Callable[[], datetime.datetime],
        on_published: Callable[[OwedEvent, float], None] | None = None,
        idle_poll: float = IDLE_POLL,
    ) -> None:
        self._link = link
        self._pending = pending
        self._clock = clock
        self._on_published = on_published
        self._idle_poll = idle_poll
        self._wakeup = asyncio.Event()
        self.stats = SinkStats()

    def wake(self) -> None:
        """A new event was committed: publish it now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            await self._link.connected.wait()
            self._wakeup.clear()
            try:
                done = await self.drain_once()
            except Exception:
                log.exception("MQTT event sink: the store failed; retrying")
                await asyncio.sleep(STORE_ERROR_PAUSE)
                continue
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_poll):
                        await self._wakeup.wait()

    async def drain_once(self) -> int:
        """Claim one batch and publish it; how many events were claimed."""
        events = await self._pending.claim(BATCH)
        if not events:
            return 0
        topics = self._link.topics
        started = time.monotonic()
        results = await asyncio.gather(
            *(
                self._link.publish(topics.event(event.modem, event.kind), event.body)
                for event in events
            ),
            return_exceptions=True,
        )
        ok = [event for event, result in zip(events, results, strict=True) if result is None]
        failed = [event.pk for event, result in zip(events, results, strict=True) if result]
        await self._pending.published([event.pk for event in ok])
        self.stats.published += len(ok)
        if failed:
            error = next(result for result in results if result is not None)
            if not isinstance(error, LinkDown):
                log.error("MQTT event sink: publish failed unexpectedly", exc_info=error)
            await self._pending.failed(failed, str(error))
            self.stats.failures += len(failed)
            metrics.MQTT_FAILURES.labels(what="publish").inc(len(failed))
            log.warning(
                "MQTT: %d event(s) not acknowledged (%s); kept for the next connection",
                len(failed),
                error,
            )
        now = self._clock()
        if self._on_published is not None:
            for event in ok:
                self._on_published(event, max(0.0, (now - event.created_at).total_seconds()))
        log.debug("MQTT: %d event(s) published in %.3fs", len(ok), time.monotonic() - started)
        if failed:
            # Do not hammer a broker that refuses: wait for the link to be re-established.
            await asyncio.sleep(0.5)
        return len(events)
