"""Behaviour every `smsgw.webhook.Outbox` implementation must show, as a reusable test class.

The dispatcher's guarantees (per-peer order, no lost events) rest on these rules, so the
store-backed adapter the gateway builds should pass exactly the same tests as the in-memory
one. To run them against another implementation, subclass and provide `make`::

    class TestSqlOutbox(OutboxContract):
        @pytest.fixture
        async def make(self, ...) -> AsyncIterator[MakeOutbox]:
            ...yield a callable returning an OutboxHarness...
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Protocol

from smsgw.models import OutboxEntry, WebhookEventKind
from smsgw.webhook.outbox import Outbox

T0 = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)
SEC = datetime.timedelta(seconds=1)
NOTHING: frozenset[str] = frozenset()


class OutboxHarness(Protocol):
    """An empty outbox plus the implementation's own way of enqueueing an event."""

    @property
    def outbox(self) -> Outbox: ...

    async def add(
        self,
        *,
        peer: str,
        body: bytes,
        created_at: datetime.datetime,
        kind: WebhookEventKind = WebhookEventKind.INCOMING_SMS,
    ) -> OutboxEntry: ...


MakeOutbox = Callable[[], Awaitable[OutboxHarness]]


def _ids(entries: object) -> list[str]:
    assert isinstance(entries, list | tuple)
    return [entry.event_id for entry in entries]


class OutboxContract:
    """Subclass with a `make` fixture; every test starts from an empty outbox."""

    async def test_new_events_are_due_at_once_and_keep_their_frozen_body(
        self, make: MakeOutbox
    ) -> None:
        h = await make()
        added = await h.add(peer="+1", body=b'{"a":1}', created_at=T0)
        (claimed,) = await h.outbox.claim_due(T0, exclude_peers=NOTHING, limit=10)
        assert claimed.event_id == added.event_id
        assert claimed.body == b'{"a":1}'
        assert claimed.kind is WebhookEventKind.INCOMING_SMS
        assert claimed.peer == "+1"
        assert claimed.attempts == 0
        assert claimed.created_at == T0

    async def test_only_the_oldest_entry_of_a_peer_is_handed_out(self, make: MakeOutbox) -> None:
        h = await make()
        first = await h.add(peer="+1", body=b"1", created_at=T0)
        await h.add(peer="+1", body=b"2", created_at=T0 + SEC)
        other = await h.add(peer="+2", body=b"3", created_at=T0 + 2 * SEC)
        claimed = await h.outbox.claim_due(T0 + 10 * SEC, exclude_peers=NOTHING, limit=10)
        assert _ids(list(claimed)) == [first.event_id, other.event_id]  # oldest peer first

    async def test_excluded_peers_and_the_limit_are_respected(self, make: MakeOutbox) -> None:
        h = await make()
        await h.add(peer="+1", body=b"1", created_at=T0)
        second = await h.add(peer="+2", body=b"2", created_at=T0 + SEC)
        third = await h.add(peer="+3", body=b"3", created_at=T0 + 2 * SEC)
        now = T0 + 10 * SEC
        assert _ids(list(await h.outbox.claim_due(now, exclude_peers={"+1"}, limit=10))) == [
            second.event_id,
            third.event_id,
        ]
        assert len(await h.outbox.claim_due(now, exclude_peers=NOTHING, limit=1)) == 1

    async def test_a_head_waiting_for_retry_blocks_its_peer_until_due(
        self, make: MakeOutbox
    ) -> None:
        h = await make()
        head = await h.add(peer="+1", body=b"1", created_at=T0)
        later = await h.add(peer="+1", body=b"2", created_at=T0 + SEC)
        (claimed,) = await h.outbox.claim_due(T0, exclude_peers=NOTHING, limit=10)
        await h.outbox.retry_later(claimed, T0 + 60 * SEC, "HTTP 500")
        assert await h.outbox.claim_due(T0 + 30 * SEC, exclude_peers=NOTHING, limit=10) == []
        assert await h.outbox.next_due_at(exclude_peers=NOTHING) == T0 + 60 * SEC
        (again,) = await h.outbox.claim_due(T0 + 60 * SEC, exclude_peers=NOTHING, limit=10)
        assert again.event_id == head.event_id
        assert again.body == head.body
        assert again.attempts == 1
        await h.outbox.complete(again, 200, None)
        (following,) = await h.outbox.claim_due(T0 + 60 * SEC, exclude_peers=NOTHING, limit=10)
        assert following.event_id == later.event_id

    async def test_finished_entries_leave_the_queue(self, make: MakeOutbox) -> None:
        h = await make()
        for n in range(4):
            await h.add(peer="+1", body=str(n).encode(), created_at=T0 + n * SEC)
        now = T0 + 10 * SEC
        seen = []
        for outcome in ("complete", "drop", "dead_letter"):
            (entry,) = await h.outbox.claim_due(now, exclude_peers=NOTHING, limit=10)
            seen.append(entry.body)
            if outcome == "complete":
                await h.outbox.complete(entry, 200, "reply")
            elif outcome == "drop":
                await h.outbox.drop(entry, "HTTP 410 Gone")
            else:
                await h.outbox.dead_letter(entry, "HTTP 500; gave up")
        (last,) = await h.outbox.claim_due(now, exclude_peers=NOTHING, limit=10)
        assert [*seen, last.body] == [b"0", b"1", b"2", b"3"]

    async def test_next_due_at(self, make: MakeOutbox) -> None:
        h = await make()
        assert await h.outbox.next_due_at(exclude_peers=NOTHING) is None
        await h.add(peer="+1", body=b"1", created_at=T0)
        two = await h.add(peer="+2", body=b"2", created_at=T0 + SEC)
        assert await h.outbox.next_due_at(exclude_peers=NOTHING) == T0
        assert await h.outbox.next_due_at(exclude_peers={"+1"}) == two.created_at
        assert await h.outbox.next_due_at(exclude_peers={"+1", "+2"}) is None
