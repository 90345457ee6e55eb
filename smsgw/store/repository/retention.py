"""Retention: history older than the configured age is deleted, one small batch at a time.

Each call deletes at most `batch` rows in one short transaction, so the gateway's own writes
(an incoming SMS, a webhook outcome) wait for at most one batch; the caller pauses between
batches. The rows are found through indexes (`messages.created_at`,
`webhook_outbox.finished_at`), and the rows that point at a deleted message are found through
theirs (`reply_to_pk`, `message_pk`, `in_reply_to_pk`), which SQLite also uses for its own
foreign-key checks.

Never deleted: messages still scheduled, queued or being sent, messages with a webhook event still
pending, pending events, and events the MQTT sink still owes the broker. What pointed at a
deleted message is kept and loses only the link (a reply's `reply_to`, an event's message,
a suppressed reply's origin); a message's parts and status history go with it.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from smsgw.models import MessageStatus
from smsgw.store.database import Database
from smsgw.store.schema import (
    incoming_parts,
    messages,
    mqtt_outbox,
    suppressed_replies,
    webhook_outbox,
)
from smsgw.store.types import OutboxState

__all__ = ["DEFAULT_BATCH", "prune_events", "prune_messages"]

#: Rows per transaction: small enough that a Pi's SD card commits it in well under a second.
DEFAULT_BATCH = 200

#: Not sent yet: waiting for `send_at`, in the queue, or in a modem's hands.
_IN_FLIGHT = (
    MessageStatus.SCHEDULED.value,
    MessageStatus.QUEUED.value,
    MessageStatus.SENDING.value,
)
_PENDING = OutboxState.PENDING.value


def _old_messages(cutoff: datetime.datetime, batch: int) -> sa.Select[tuple[int]]:
    pending_event = sa.exists().where(
        webhook_outbox.c.message_pk == messages.c.pk, webhook_outbox.c.state == _PENDING
    )
    return (
        sa.select(messages.c.pk)
        .where(
            messages.c.created_at < cutoff,
            sa.or_(messages.c.status.is_(None), messages.c.status.not_in(_IN_FLIGHT)),
            ~pending_event,
        )
        .order_by(messages.c.created_at)
        .limit(batch)
    )


async def prune_messages(
    db: Database, *, older_than: datetime.timedelta, batch: int = DEFAULT_BATCH
) -> int:
    """Delete up to `batch` messages created more than `older_than` ago; how many."""
    cutoff = db.clock() - older_than
    async with db.transaction("prune old messages") as connection:
        pks = list((await connection.execute(_old_messages(cutoff, batch))).scalars())
        if not pks:
            return 0
        await connection.execute(
            sa.update(messages).where(messages.c.reply_to_pk.in_(pks)).values(reply_to_pk=None)
        )
        await connection.execute(
            sa.update(suppressed_replies)
            .where(suppressed_replies.c.in_reply_to_pk.in_(pks))
            .values(in_reply_to_pk=None)
        )
        await connection.execute(
            sa.update(webhook_outbox)
            .where(webhook_outbox.c.message_pk.in_(pks))
            .values(message_pk=None)
        )
        await connection.execute(
            sa.delete(incoming_parts).where(incoming_parts.c.message_pk.in_(pks))
        )
        result = await connection.execute(sa.delete(messages).where(messages.c.pk.in_(pks)))
        return int(result.rowcount or 0)


async def prune_events(
    db: Database, *, older_than: datetime.timedelta, batch: int = DEFAULT_BATCH
) -> int:
    """Delete up to `batch` webhook events that ended more than `older_than` ago; how many."""
    cutoff = db.clock() - older_than
    owed_to_broker = sa.exists().where(mqtt_outbox.c.event_pk == webhook_outbox.c.pk)
    old = (
        sa.select(webhook_outbox.c.pk)
        .where(
            webhook_outbox.c.finished_at < cutoff,
            webhook_outbox.c.state != _PENDING,
            ~owed_to_broker,
        )
        .order_by(webhook_outbox.c.finished_at)
        .limit(batch)
    )
    async with db.transaction("prune old webhook events") as connection:
        pks = list((await connection.execute(old)).scalars())
        if not pks:
            return 0
        result = await connection.execute(
            sa.delete(webhook_outbox).where(webhook_outbox.c.pk.in_(pks))
        )
        return int(result.rowcount or 0)
