"""Inbox queries: conversation list with unread counts, threads, read markers and
webhook health, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest

from smsgw.exceptions import StoreError
from smsgw.models import Direction, WebhookEventKind
from smsgw.store import Database, repository
from smsgw.store.repository import inbox
from tests.store_helpers import (
    FakeClock,
    complete_event,
    dead_letter,
    incoming,
    outgoing,
    queue_event,
    schedule_retry,
)


async def test_conversations_newest_first_with_last_message_and_unread(db: Database) -> None:
    await incoming(db, "hello", "+1")
    await incoming(db, "anyone?", "+1")
    await incoming(db, "hi from two", "+2")
    await outgoing(db, "answer one", "+1")
    conversations = await inbox.list_conversations(db)
    assert [(c.peer, c.last.text, c.unread) for c in conversations] == [
        ("+1", "answer one", 2),
        ("+2", "hi from two", 1),
    ]
    assert conversations[0].last.direction is Direction.OUT


async def test_mark_read_clears_unread_until_a_new_message_arrives(db: Database) -> None:
    await incoming(db, "one", "+1")
    await incoming(db, "two", "+1")
    await incoming(db, "other", "+2")
    assert await inbox.mark_read(db, "+1") == 2
    assert await inbox.mark_read(db, "+1") == 0
    unread = {c.peer: c.unread for c in await inbox.list_conversations(db)}
    assert unread == {"+1": 0, "+2": 1}
    await incoming(db, "three", "+1")
    unread = {c.peer: c.unread for c in await inbox.list_conversations(db)}
    assert unread == {"+1": 1, "+2": 1}
    assert await inbox.mark_read(db, "+nobody") == 0


async def test_thread_is_oldest_first_and_limited_to_the_newest(db: Database) -> None:
    await incoming(db, "a", "+1")
    await outgoing(db, "b", "+1")
    await incoming(db, "not this peer", "+2")
    await incoming(db, "c", "+1")
    assert [m.text for m in await inbox.thread(db, "+1")] == ["a", "b", "c"]
    assert [m.text for m in await inbox.thread(db, "+1", limit=2)] == ["b", "c"]
    with pytest.raises(StoreError, match="limit"):
        await inbox.thread(db, "+1", limit=0)
    with pytest.raises(StoreError, match="limit"):
        await inbox.list_conversations(db, limit=0)


async def test_last_incoming_modem_is_where_the_peer_last_wrote(db: Database) -> None:
    assert await inbox.last_incoming_modem(db, "+1") is None
    await incoming(db, "via sim", "+1", modem="sim800")
    await incoming(db, "via stick", "+1", modem="huawei")
    await outgoing(db, "reply", "+1")
    assert await inbox.last_incoming_modem(db, "+1") == "huawei"


async def _event(db: Database, name: str) -> int:
    entry = await queue_event(db, name, f"+{name}", kind=WebhookEventKind.INCOMING_SMS)
    return entry.id


async def test_webhook_health_counts_and_latency_in_the_window(
    db: Database, clock: FakeClock
) -> None:
    empty = await inbox.webhook_health(db)
    assert (empty.delivered, empty.dead, empty.success_ratio, empty.latency_mean) == (
        0,
        0,
        None,
        None,
    )
    old = await _event(db, "1")
    clock.advance(seconds=1)
    assert await complete_event(db, old)
    clock.advance(hours=2)  # `old` is now outside the one-hour window
    fast, slow, dead = await _event(db, "2"), await _event(db, "3"), await _event(db, "4")
    clock.advance(seconds=2)
    assert await complete_event(db, fast)
    clock.advance(seconds=4)
    assert await complete_event(db, slow)
    assert await dead_letter(db, dead, error="HTTP 500")
    health = await inbox.webhook_health(db)
    assert (health.delivered, health.dead, health.dropped) == (2, 1, 0)
    assert health.success_ratio == pytest.approx(2 / 3)
    assert health.latency_mean == datetime.timedelta(seconds=4)
    assert health.latency_max == datetime.timedelta(seconds=6)
    assert health.per_hour == pytest.approx(2.0)


async def test_waiting_events_can_be_made_due_now(db: Database, clock: FakeClock) -> None:
    fresh = await queue_event(db, "never-tried", "+3")
    failed = await queue_event(db, "failed-once", "+4")
    assert [e.id for e in await repository.claim_due_events(db, node="n1")] == [fresh.id, failed.id]
    later = clock.now + datetime.timedelta(minutes=10)
    assert await schedule_retry(db, failed.id, next_attempt_at=later, error="HTTP 502", node="n1")
    assert await schedule_retry(db, fresh.id, next_attempt_at=later, error="timeout", node="n1")
    await dead_letter(db, fresh.id, error="gave up")
    waiting = await inbox.list_waiting_events(db)
    assert [(w.entry.event_id, w.last_error, w.next_attempt_at) for w in waiting] == [
        ("failed-once", "HTTP 502", later)
    ]
    assert await repository.claim_due_events(db, node="n1") == []
    assert await inbox.retry_waiting_now(db, failed.id)
    (due,) = await repository.claim_due_events(db, node="n1")
    assert (due.id, due.attempts) == (failed.id, 1)
    # Being posted under a live claim: neither listed nor pushed again.
    assert await inbox.list_waiting_events(db) == []
    assert not await inbox.retry_waiting_now(db, failed.id)
    assert not await inbox.retry_waiting_now(db, fresh.id)  # dead: the dead-letter retry's job
