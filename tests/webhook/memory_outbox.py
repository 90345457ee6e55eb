"""An in-memory implementation of the webhook `Outbox` Protocol, for tests.

It follows the Protocol's ordering rule literally (only the oldest pending entry of a peer is
ever a candidate), and records every call so tests can assert what the dispatcher decided.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import itertools
import uuid
from collections.abc import Callable, Sequence, Set
from typing import Literal

from smsgw.models import OutboxEntry, WebhookEventKind

State = Literal["pending", "delivered", "dropped", "dead"]


@dataclasses.dataclass(slots=True)
class StoredEvent:
    entry: OutboxEntry
    next_attempt_at: datetime.datetime
    state: State = "pending"
    http_status: int | None = None
    reply_text: str | None = None
    errors: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    method: str
    event_id: str
    attempts_before: int
    detail: object


class InMemoryOutbox:
    """Satisfies `smsgw.webhook.Outbox`; `fail_next_claims` simulates a database outage."""

    def __init__(self) -> None:
        self.events: dict[int, StoredEvent] = {}
        self.calls: list[Call] = []
        self.fail_next_claims = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    def add(
        self,
        *,
        peer: str,
        body: bytes,
        created_at: datetime.datetime,
        kind: WebhookEventKind = WebhookEventKind.INCOMING_SMS,
    ) -> OutboxEntry:
        entry_id = next(self._ids)
        entry = OutboxEntry(
            id=entry_id,
            event_id=str(uuid.uuid4()),
            kind=kind,
            peer=peer,
            body=body,
            attempts=0,
            created_at=created_at,
        )
        self.events[entry_id] = StoredEvent(entry, next_attempt_at=created_at)
        return entry

    def state_of(self, entry: OutboxEntry) -> StoredEvent:
        return self.events[entry.id]

    def calls_for(self, entry: OutboxEntry) -> list[Call]:
        return [call for call in self.calls if call.event_id == entry.event_id]

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until `condition()` holds after some outbox call (fails the test on timeout)."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def _heads(self, exclude_peers: Set[str]) -> list[StoredEvent]:
        heads: dict[str, StoredEvent] = {}
        for stored in sorted(self.events.values(), key=lambda s: (s.entry.created_at, s.entry.id)):
            if stored.state == "pending" and stored.entry.peer not in heads:
                heads[stored.entry.peer] = stored
        return [head for peer, head in heads.items() if peer not in exclude_peers]

    async def claim_due(
        self, now: datetime.datetime, *, exclude_peers: Set[str], limit: int
    ) -> Sequence[OutboxEntry]:
        if self.fail_next_claims:
            self.fail_next_claims -= 1
            raise ConnectionError("database is down (simulated)")
        due = [head.entry for head in self._heads(exclude_peers) if head.next_attempt_at <= now]
        return due[:limit]

    async def next_due_at(self, *, exclude_peers: Set[str]) -> datetime.datetime | None:
        heads = self._heads(exclude_peers)
        return min((head.next_attempt_at for head in heads), default=None)

    def _finish(self, method: str, entry: OutboxEntry, state: State, detail: object) -> StoredEvent:
        stored = self.events[entry.id]
        assert stored.state == "pending", f"{method} on an entry already {stored.state}"
        assert stored.entry.attempts == entry.attempts, "dispatcher used a stale entry"
        self.calls.append(Call(method, entry.event_id, entry.attempts, detail))
        stored.state = state
        stored.entry = dataclasses.replace(stored.entry, attempts=entry.attempts + 1)
        self._changed.set()
        return stored

    async def complete(self, entry: OutboxEntry, http_status: int, reply_text: str | None) -> None:
        stored = self._finish("complete", entry, "delivered", (http_status, reply_text))
        stored.http_status = http_status
        stored.reply_text = reply_text

    async def retry_later(
        self, entry: OutboxEntry, next_attempt_at: datetime.datetime, error: str
    ) -> None:
        stored = self._finish("retry_later", entry, "pending", (next_attempt_at, error))
        stored.next_attempt_at = next_attempt_at
        stored.errors.append(error)

    async def dead_letter(self, entry: OutboxEntry, error: str) -> None:
        self._finish("dead_letter", entry, "dead", error).errors.append(error)

    async def drop(self, entry: OutboxEntry, reason: str) -> None:
        self._finish("drop", entry, "dropped", reason).errors.append(reason)
