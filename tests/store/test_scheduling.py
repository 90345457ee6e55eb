"""Scheduled messages in the store, on SQLite and PostgreSQL: not claimable before their
`send_at`, released once when due, and cancels before and after a modem took them."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from smsgw.models import MessageStatus, SendOptions
from smsgw.store import Database, open_database, repository
from tests.store_helpers import FakeClock, no_status_event

pytestmark = pytest.mark.timeout(30)


async def _schedule(db: Database, at: datetime.datetime, text: str = "later") -> str:
    queued = await repository.enqueue_outgoing(
        db, peer="+40722000000", text=text, parts=1, encoding="gsm7",
        options=SendOptions(send_at=at),
    )  # fmt: skip
    assert queued.message.status is MessageStatus.SCHEDULED
    return queued.message.id


async def _status(db: Database, message_id: str) -> MessageStatus | None:
    detail = await repository.get_message(db, message_id)
    assert detail is not None
    return detail.message.status


async def test_a_scheduled_message_is_claimed_only_after_its_send_at(
    db: Database, clock: FakeClock
) -> None:
    due = clock.now + datetime.timedelta(seconds=3)
    message_id = await _schedule(db, due)
    assert await repository.next_scheduled_at(db) == due
    assert await repository.claim_next_outgoing(db, modem="m1", node="n") is None
    clock.advance(seconds=2.9)
    assert await repository.release_due_scheduled(db) == []
    assert await repository.claim_next_outgoing(db, modem="m1", node="n") is None
    clock.advance(seconds=0.1)
    assert await repository.release_due_scheduled(db) == [None]
    assert await repository.next_scheduled_at(db) is None
    claimed = await repository.claim_next_outgoing(db, modem="m1", node="n")
    assert claimed is not None
    assert claimed.id == message_id
    detail = await repository.get_message(db, message_id)
    assert detail is not None
    assert [event.status for event in detail.events] == ["scheduled", "queued", "sending"]


async def test_the_earliest_scheduled_time_is_the_next_due(db: Database, clock: FakeClock) -> None:
    await _schedule(db, clock.now + datetime.timedelta(hours=2))
    early = clock.now + datetime.timedelta(minutes=5)
    await _schedule(db, early)
    assert await repository.next_scheduled_at(db) == early
    listed = await repository.list_messages(db, status=MessageStatus.SCHEDULED)
    assert len(listed) == 2


async def test_cancel_before_sending_and_too_late_after(db: Database, clock: FakeClock) -> None:
    scheduled = await _schedule(db, clock.now + datetime.timedelta(minutes=1))
    queued = (
        await repository.enqueue_outgoing(
            db, peer="+40722000001", text="now", parts=1, encoding="gsm7"
        )
    ).message.id
    outcome = await repository.cancel_outgoing(db, scheduled)
    assert outcome.cancelled
    assert outcome.message is not None
    assert outcome.message.status is MessageStatus.CANCELLED
    clock.advance(minutes=2)
    assert await repository.release_due_scheduled(db) == []
    # A second cancel is refused: the message is final.
    assert not (await repository.cancel_outgoing(db, scheduled)).cancelled
    claimed = await repository.claim_next_outgoing(db, modem="m1", node="n")
    assert claimed is not None
    assert claimed.id == queued
    late = await repository.cancel_outgoing(db, queued)
    assert not late.cancelled
    assert late.message is not None
    assert late.message.status is MessageStatus.SENDING
    await repository.record_part_sent(db, queued, seq=1, tp_mr=7)
    await repository.mark_sent(db, queued, render_status=no_status_event)
    sent = await repository.cancel_outgoing(db, queued)
    assert not sent.cancelled
    assert sent.message is not None
    assert sent.message.status is MessageStatus.SENT
    missing = await repository.cancel_outgoing(db, "01NOSUCHMESSAGE")
    assert missing.message is None
    assert await _status(db, scheduled) is MessageStatus.CANCELLED


async def test_a_cancelled_queued_message_is_never_claimed(db: Database) -> None:
    queued = await repository.enqueue_outgoing(
        db, peer="+40722000002", text="withdrawn", parts=1, encoding="gsm7"
    )
    assert (await repository.cancel_outgoing(db, queued.message.id)).cancelled
    assert await repository.claim_next_outgoing(db, modem="m1", node="n") is None


async def test_nodes_releasing_at_once_queue_each_message_once(
    migrated_url: str, clock: FakeClock
) -> None:
    """Four connections release the same 40 due messages concurrently: every message gets
    exactly one `queued` in its history (PostgreSQL re-checks each row it waited for)."""
    nodes = [open_database(migrated_url, clock=clock) for _ in range(4)]
    try:
        ids = [
            await _schedule(nodes[0], clock.now + datetime.timedelta(seconds=1), f"m{n}")
            for n in range(40)
        ]
        clock.advance(seconds=1)
        await asyncio.gather(*(repository.release_due_scheduled(node) for node in nodes))
        for message_id in ids:
            detail = await repository.get_message(nodes[0], message_id)
            assert detail is not None
            assert [e.status for e in detail.events].count("queued") == 1
            assert detail.message.status is MessageStatus.QUEUED
    finally:
        for node in nodes:
            await node.close()
