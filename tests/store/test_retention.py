"""Retention in the store: old messages and finished events are deleted in small batches;
in-flight messages, pending events and whatever points at a deleted message survive."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from smsgw.models import MessageStatus, WebhookEventKind
from smsgw.store import Database, repository
from smsgw.store.schema import messages
from smsgw.store.types import ReplyRequest
from tests.store_helpers import (
    FakeClock,
    complete_event,
    complete_incoming_event,
    count_rows,
    dead_letter,
    outgoing,
    queue_event,
    receive,
)

pytestmark = pytest.mark.timeout(60)

YEAR = datetime.timedelta(days=365)
MONTH = datetime.timedelta(days=30)


async def _prune_all(db: Database, *, older_than: datetime.timedelta, batch: int) -> list[int]:
    """Batch sizes until a short batch, as the daemon's loop goes."""
    sizes = []
    while True:
        sizes.append(await repository.prune_messages(db, older_than=older_than, batch=batch))
        if sizes[-1] < batch:
            return sizes


async def test_old_messages_go_in_batches_and_in_flight_ones_stay(
    db: Database, clock: FakeClock
) -> None:
    old_in = [await receive(db, sender=f"+4072100000{n}", text=f"old {n}") for n in range(3)]
    # The webhook answered the first one with an auto-reply that is still queued.
    claimed = await repository.claim_due_events(db, node="n", limit=10)
    first_event = next(e for e in claimed if old_in[0] in e.event_id)
    await complete_incoming_event(
        db,
        first_event.id,
        reply=ReplyRequest(text="auto", parts=1, encoding="gsm7"),
        replies_per_peer_per_hour=10,
    )
    for entry in claimed:
        if entry.id != first_event.id:
            await complete_event(db, entry.id)
    queued = await outgoing(db, "still queued", "+40721999999")
    scheduled = await outgoing(db, "scheduled", "+40721999998")
    async with db.transaction("test: schedule") as connection:
        await connection.execute(
            sa.update(messages).where(messages.c.id == scheduled).values(status="scheduled")
        )
    clock.advance(days=400)
    recent = await receive(db, sender="+40721000009", text="recent")

    assert await _prune_all(db, older_than=YEAR, batch=2) == [2, 1]

    for message_id in old_in:
        assert await repository.get_message(db, message_id) is None
    assert await repository.get_message(db, recent) is not None
    kept_queued = await repository.get_message(db, queued)
    assert kept_queued is not None
    assert kept_queued.message.status is MessageStatus.QUEUED
    assert await repository.get_message(db, scheduled) is not None
    [reply] = [
        m for m in await repository.list_messages(db, limit=50) if m.text == "auto"
    ]  # queued: kept, only its link to the deleted message is gone
    assert reply.reply_to is None
    assert await count_rows(db, "incoming_parts") == 1  # the recent message's part
    # The old events stay until their own retention, without their message.
    assert await count_rows(db, "webhook_outbox") == 4
    assert await repository.prune_messages(db, older_than=YEAR) == 0


async def test_a_message_whose_event_is_pending_is_kept(db: Database, clock: FakeClock) -> None:
    waiting = await receive(db, sender="+40721000001", text="webhook down")
    clock.advance(days=400)
    assert await repository.prune_messages(db, older_than=YEAR) == 0
    assert await repository.get_message(db, waiting) is not None


async def test_finished_events_go_pending_ones_stay(db: Database, clock: FakeClock) -> None:
    delivered = await queue_event(db, "e1", "+40721000001")
    dead = await queue_event(db, "e2", "+40721000002")
    pending = await queue_event(db, "e3", "+40721000003", kind=WebhookEventKind.MODEM_ALERT)
    for entry in await repository.claim_due_events(db, node="n", limit=10):
        if entry.id == delivered.id:
            assert await complete_event(db, entry.id)
        elif entry.id == dead.id:
            assert await dead_letter(db, entry.id, error="48h of 500")
    clock.advance(days=10)
    assert await repository.prune_events(db, older_than=MONTH) == 0
    clock.advance(days=21)
    assert await repository.prune_events(db, older_than=MONTH, batch=1) == 1
    assert await repository.prune_events(db, older_than=MONTH, batch=1) == 1
    assert await repository.prune_events(db, older_than=MONTH, batch=1) == 0
    assert await count_rows(db, "webhook_outbox") == 1
    remaining = await repository.claim_due_events(db, node="m", limit=10, lease=MONTH)
    assert [entry.id for entry in remaining] == [pending.id]


async def test_history_export_reads_in_chunks_oldest_first_with_filters(
    db: Database, clock: FakeClock
) -> None:
    ids = [await receive(db, sender=f"+4072100000{n % 2}", text=f"m{n}") for n in range(5)]
    clock.advance(days=1)
    since = clock.now
    later = await outgoing(db, "later", "+40721000001")

    everything = [record.id async for record in repository.iter_history(db, chunk=2)]
    assert everything == [*ids, later]
    one_peer = [
        record.text async for record in repository.iter_history(db, peer="+40721000001", chunk=1)
    ]
    assert one_peer == ["m1", "m3", "later"]
    recent = [record.id async for record in repository.iter_history(db, since=since)]
    assert recent == [later]
