"""Store rules several nodes rely on, on a real PostgreSQL: expired send leases, outbox
completions after a take-over, and LISTEN/NOTIFY wake-ups across connections."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import pytest

from smsgw.models import MessageStatus
from smsgw.store import Database, open_database, repository
from smsgw.store.notify import QueueListener
from smsgw.store.types import OutboxState
from tests.store_helpers import (
    FakeClock,
    complete_event,
    queue_event,
    render_status,
    schedule_retry,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def db(pg_migrated_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = open_database(pg_migrated_url, clock=clock)
    try:
        yield database
    finally:
        await database.close()


async def _queue(db: Database, text: str, modem: str | None = None) -> str:
    queued = await repository.enqueue_outgoing(
        db, peer="+40722000000", text=text, parts=1, encoding="gsm7", modem=modem
    )
    return queued.message.id


async def test_only_sends_whose_lease_expired_become_interrupted(
    db: Database, clock: FakeClock
) -> None:
    first, second = await _queue(db, "dead node's"), await _queue(db, "live node's")
    lease = {"seconds": 10}
    dead = await repository.claim_next_outgoing(db, modem="a1", node="a", lease=_td(**lease))
    live = await repository.claim_next_outgoing(db, modem="b1", node="b", lease=_td(**lease))
    assert dead is not None
    assert dead.id == first
    assert live is not None
    assert live.id == second
    clock.advance(seconds=6)
    assert await repository.renew_send_claims(db, node="b", lease=_td(**lease)) == 1
    clock.advance(seconds=6)  # a's lease ran out, b renewed its own
    changes = await repository.interrupt_expired_sends(db, render_status=render_status)
    assert [(c.message_id, c.status, c.error) for c in changes] == [
        (first, MessageStatus.FAILED, repository.INTERRUPTED)
    ]
    detail = await repository.get_message(db, second)
    assert detail is not None
    assert detail.message.status is MessageStatus.SENDING
    assert await repository.interrupt_expired_sends(db, render_status=render_status) == []


async def test_a_late_finish_does_not_release_another_nodes_claim(
    db: Database, clock: FakeClock
) -> None:
    for n in range(2):
        await queue_event(db, f"e{n}", "+1")
    (slow,) = await repository.claim_due_events(db, node="a", lease=_td(seconds=5))
    clock.advance(seconds=6)
    (taken,) = await repository.claim_due_events(db, node="b", lease=_td(seconds=5))
    assert taken.id == slow.id
    # a's result arrives late: ignored, so the peer's next event cannot overtake b's post.
    assert not await schedule_retry(
        db, slow.id, next_attempt_at=clock.now, error="timeout", node="a"
    )
    assert not await complete_event(db, slow.id, node="a")
    assert await repository.claim_due_events(db, node="c") == []
    assert await complete_event(db, taken.id, node="b")
    counts = await repository.outbox_counts(db)
    assert counts[OutboxState.DELIVERED] == 1
    assert counts[OutboxState.PENDING] == 1


async def test_a_message_queued_on_one_connection_wakes_a_listener_elsewhere(
    pg_migrated_url: str,
) -> None:
    listener_db, api_db = open_database(pg_migrated_url), open_database(pg_migrated_url)
    heard: asyncio.Queue[str | None] = asyncio.Queue()
    listener = QueueListener(listener_db, heard.put_nowait)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        assert await asyncio.wait_for(heard.get(), 5) is None  # the wake-up after connecting
        await _queue(api_db, "for anyone")
        await _queue(api_db, "for b1", modem="b1")
        assert await asyncio.wait_for(heard.get(), 5) is None
        assert await asyncio.wait_for(heard.get(), 5) == "b1"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await listener_db.close()
        await api_db.close()


async def test_on_sqlite_there_is_nothing_to_listen_to(tmp_path: object) -> None:
    db = open_database(f"sqlite:///{tmp_path}/db.sqlite")
    listener = QueueListener(db, lambda _modem: None)
    try:
        assert not listener.needed
        await asyncio.wait_for(listener.run(), 1)  # returns at once
    finally:
        await db.close()


def _td(**delta: float) -> datetime.timedelta:
    return datetime.timedelta(**delta)


async def test_a_claim_released_before_any_part_went_out_is_queued_as_it_was(
    db: Database,
) -> None:
    unbound = await _queue(db, "any modem")
    bound = await _queue(db, "only a1", modem="a1")
    for expected in (unbound, bound):
        claimed = await repository.claim_next_outgoing(db, modem="a1", node="a")
        assert claimed is not None
        assert claimed.id == expected
    assert await repository.daily_count(db, "a1") == 2
    assert not await repository.release_unsent_claim(db, unbound, node="b", reason="not b's")
    for message_id in (unbound, bound):
        assert await repository.release_unsent_claim(db, message_id, node="a", reason="a1 gone")
    assert await repository.daily_count(db, "a1") == 0
    # The unbound one is free for any modem again; the bound one still waits for a1.
    other = await repository.claim_next_outgoing(db, modem="b1", node="b")
    assert other is not None
    assert other.id == unbound
    assert await repository.claim_next_outgoing(db, modem="b1", node="b") is None
    detail = await repository.get_message(db, bound)
    assert detail is not None
    assert detail.message.status is MessageStatus.QUEUED
    assert detail.message.modem == "a1"


async def test_a_claim_with_a_part_on_the_air_is_not_released(db: Database) -> None:
    await _queue(db, "its part is on the air")
    claimed = await repository.claim_next_outgoing(db, modem="a1", node="a")
    assert claimed is not None
    await repository.record_part_sent(db, claimed.id, seq=1, tp_mr=7)
    assert not await repository.release_unsent_claim(db, claimed.id, node="a", reason="gone")
    detail = await repository.get_message(db, claimed.id)
    assert detail is not None
    assert detail.message.status is MessageStatus.SENDING
