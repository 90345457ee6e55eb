"""Queries for the operator inbox: conversations with unread counts, threads, read
markers and webhook delivery health.

Unread is per peer, not per modem: an operator answers a *person*, whichever SIM they wrote
to. The marker is the highest incoming message `pk` the operator has seen, so it survives a
restart and is shared by every node on one PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime
import statistics

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import Direction, OutboxEntry
from smsgw.store.database import Database
from smsgw.store.repository._common import dialect_insert, to_outbox_entry, to_record
from smsgw.store.schema import inbox_reads, messages, webhook_outbox
from smsgw.store.types import MessageRecord, OutboxState

__all__ = [
    "Conversation",
    "WaitingEvent",
    "WebhookHealth",
    "last_incoming_modem",
    "list_conversations",
    "list_waiting_events",
    "mark_read",
    "retry_waiting_now",
    "thread",
    "webhook_health",
]

MAX_CONVERSATIONS = 500
MAX_THREAD = 1000
MAX_WAITING = 500
#: Latency statistics look at this many of the most recent deliveries at most.
LATENCY_SAMPLE = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Conversation:
    """One peer in the inbox list: the newest message either way and the unread count."""

    peer: str
    last: MessageRecord
    unread: int

    @property
    def at(self) -> datetime.datetime:
        return message_time(self.last)


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookHealth:
    """Webhook events that finished within `window` (delivered, dead, dropped) and how long
    delivered ones took from creation to the webhook's 2xx (retries included)."""

    window: datetime.timedelta
    delivered: int
    dead: int
    dropped: int
    latency_mean: datetime.timedelta | None
    latency_max: datetime.timedelta | None

    @property
    def success_ratio(self) -> float | None:
        finished = self.delivered + self.dead + self.dropped
        return None if finished == 0 else self.delivered / finished

    @property
    def per_hour(self) -> float:
        hours = self.window.total_seconds() / 3600
        return self.delivered / hours if hours > 0 else 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class WaitingEvent:
    """A pending webhook event whose last attempt failed, waiting for its next one."""

    entry: OutboxEntry
    last_error: str | None
    next_attempt_at: datetime.datetime


def message_time(message: MessageRecord) -> datetime.datetime:
    """When the operator should think it happened: received, sent, else queued."""
    return message.received_at or message.sent_at or message.created_at


async def list_conversations(db: Database, *, limit: int = 100) -> list[Conversation]:
    """Every peer with its newest message and unread incoming count, newest first."""
    if not 1 <= limit <= MAX_CONVERSATIONS:
        raise StoreError(f"limit must be between 1 and {MAX_CONVERSATIONS}, got {limit}")
    unread_case = sa.case(
        (
            sa.and_(
                messages.c.direction == Direction.IN.value,
                messages.c.pk > sa.func.coalesce(inbox_reads.c.last_read_pk, 0),
            ),
            1,
        ),
        else_=0,
    )
    per_peer = (
        sa.select(
            messages.c.peer,
            sa.func.max(messages.c.pk).label("last_pk"),
            sa.func.sum(unread_case).label("unread"),
        )
        .select_from(messages.outerjoin(inbox_reads, inbox_reads.c.peer == messages.c.peer))
        .group_by(messages.c.peer)
        .subquery()
    )
    statement = (
        sa.select(messages, per_peer.c.unread)
        .join(per_peer, messages.c.pk == per_peer.c.last_pk)
        .order_by(messages.c.pk.desc())
        .limit(limit)
    )
    async with db.transaction("list conversations") as connection:
        rows = (await connection.execute(statement)).all()
    return [
        Conversation(peer=row.peer, last=to_record(row), unread=int(row.unread)) for row in rows
    ]


async def thread(db: Database, peer: str, *, limit: int = 200) -> list[MessageRecord]:
    """The newest `limit` messages with `peer` (both directions, every modem), oldest first."""
    if not 1 <= limit <= MAX_THREAD:
        raise StoreError(f"limit must be between 1 and {MAX_THREAD}, got {limit}")
    statement = (
        sa.select(messages)
        .where(messages.c.peer == peer)
        .order_by(messages.c.pk.desc())
        .limit(limit)
    )
    async with db.transaction("read conversation") as connection:
        rows = (await connection.execute(statement)).all()
    return [to_record(row) for row in reversed(rows)]


async def last_incoming_modem(db: Database, peer: str) -> str | None:
    """The modem `peer` last wrote to (where a hand-written answer should go out), or None."""
    statement = (
        sa.select(messages.c.modem)
        .where(messages.c.peer == peer, messages.c.direction == Direction.IN.value)
        .order_by(messages.c.pk.desc())
        .limit(1)
    )
    async with db.transaction("find the peer's modem") as connection:
        modem = await connection.scalar(statement)
    return None if modem is None else str(modem)


async def mark_read(db: Database, peer: str) -> int:
    """Mark every incoming message of `peer` stored so far as read; returns how many were
    unread. The marker only moves forward, so a stale page cannot un-read newer messages."""
    async with db.transaction("mark conversation read") as connection:
        newest = await connection.scalar(
            sa.select(sa.func.max(messages.c.pk)).where(
                messages.c.peer == peer, messages.c.direction == Direction.IN.value
            )
        )
        if newest is None:
            return 0
        previous = await connection.scalar(
            sa.select(inbox_reads.c.last_read_pk).where(inbox_reads.c.peer == peer)
        )
        unread = await connection.scalar(
            sa.select(sa.func.count()).where(
                messages.c.peer == peer,
                messages.c.direction == Direction.IN.value,
                messages.c.pk > (previous or 0),
            )
        )
        insert = dialect_insert(db.dialect, inbox_reads).values(
            peer=peer, last_read_pk=int(newest), read_at=db.clock()
        )
        await connection.execute(
            insert.on_conflict_do_update(
                index_elements=[inbox_reads.c.peer],
                set_={
                    "last_read_pk": insert.excluded.last_read_pk,
                    "read_at": insert.excluded.read_at,
                },
                where=inbox_reads.c.last_read_pk < insert.excluded.last_read_pk,
            )
        )
    return int(unread or 0)


async def webhook_health(
    db: Database, *, window: datetime.timedelta = datetime.timedelta(hours=1)
) -> WebhookHealth:
    """How the webhook did over the last `window` (by the time events finished)."""
    since = db.clock() - window
    finished = webhook_outbox.c.finished_at >= since
    async with db.transaction("webhook health") as connection:
        rows = await connection.execute(
            sa.select(webhook_outbox.c.state, sa.func.count())
            .where(finished)
            .group_by(webhook_outbox.c.state)
        )
        counts: dict[str, int] = {str(state): int(count) for state, count in rows}
        timings = (
            await connection.execute(
                sa.select(webhook_outbox.c.created_at, webhook_outbox.c.delivered_at)
                .where(
                    finished,
                    webhook_outbox.c.state == OutboxState.DELIVERED.value,
                    webhook_outbox.c.delivered_at.is_not(None),
                )
                .order_by(webhook_outbox.c.pk.desc())
                .limit(LATENCY_SAMPLE)
            )
        ).all()
    seconds = [max(0.0, (done - created).total_seconds()) for created, done in timings]
    return WebhookHealth(
        window=window,
        delivered=counts.get(OutboxState.DELIVERED.value, 0),
        dead=counts.get(OutboxState.DEAD.value, 0),
        dropped=counts.get(OutboxState.DROPPED.value, 0),
        latency_mean=(datetime.timedelta(seconds=statistics.fmean(seconds)) if seconds else None),
        latency_max=datetime.timedelta(seconds=max(seconds)) if seconds else None,
    )


async def list_waiting_events(db: Database, *, limit: int = 50) -> list[WaitingEvent]:
    """Pending events that failed at least once and are not being posted right now, the
    soonest retry first (what an operator may want to push with "retry now")."""
    if not 1 <= limit <= MAX_WAITING:
        raise StoreError(f"limit must be between 1 and {MAX_WAITING}, got {limit}")
    statement = (
        sa.select(webhook_outbox)
        .where(_waiting(db.clock()))
        .order_by(webhook_outbox.c.next_attempt_at, webhook_outbox.c.pk)
        .limit(limit)
    )
    async with db.transaction("list webhook events waiting for a retry") as connection:
        rows = (await connection.execute(statement)).all()
    return [
        WaitingEvent(
            entry=to_outbox_entry(row),
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ]


async def retry_waiting_now(db: Database, entry_id: int) -> bool:
    """Make a waiting event due now (False when it is not waiting any more).

    Only the due time moves: attempts, `created_at` (so `max_age`) and the per-sender order
    are kept, and an event some dispatcher holds a live claim on is left alone."""
    now = db.clock()
    async with db.transaction("retry webhook event now") as connection:
        result = await connection.execute(
            sa.update(webhook_outbox)
            .where(webhook_outbox.c.pk == entry_id, _waiting(now))
            .values(next_attempt_at=now)
        )
        return bool(result.rowcount == 1)


def _waiting(now: datetime.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        webhook_outbox.c.state == OutboxState.PENDING.value,
        webhook_outbox.c.attempts > 0,
        sa.or_(webhook_outbox.c.claim_until.is_(None), webhook_outbox.c.claim_until < now),
    )
