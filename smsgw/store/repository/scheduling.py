"""Scheduled messages and cancels: a `scheduled` message becomes `queued` when its `send_at`
is reached; a client may withdraw a message that no modem has started on.

The scheduler (gateway.scheduler) asks `next_scheduled_at` when to wake and calls
`release_due_scheduled` then. Several nodes on one PostgreSQL may release at the same moment:
the UPDATE re-checks `status = 'scheduled'` on each row it waits for, so every message is
released once (its status history shows one `queued`), and the ordinary claim then gives it
to exactly one modem.
"""

from __future__ import annotations

import dataclasses
import datetime

import sqlalchemy as sa

from smsgw.models import Direction, MessageStatus
from smsgw.store.database import Database
from smsgw.store.notify import notify_queued
from smsgw.store.repository._common import add_status_event, message_row, to_record
from smsgw.store.schema import messages, status_events
from smsgw.store.types import MessageRecord

__all__ = [
    "CANCELLABLE",
    "CancelOutcome",
    "cancel_outgoing",
    "next_scheduled_at",
    "release_due_scheduled",
]

#: Messages released per transaction: a backlog after a long outage goes out in bounded steps.
RELEASE_BATCH = 500
#: What a client may still withdraw: nothing of it has reached a modem.
CANCELLABLE = frozenset({MessageStatus.SCHEDULED, MessageStatus.QUEUED})

_NEXT_DUE = sa.select(sa.func.min(messages.c.send_at)).where(
    messages.c.status == MessageStatus.SCHEDULED.value
)


async def next_scheduled_at(db: Database) -> datetime.datetime | None:
    """When the earliest scheduled message is due (None: nothing is scheduled)."""
    async with db.transaction("read next scheduled time") as connection:
        # min() keeps the column's type, so the value comes back as an aware UTC datetime.
        value: datetime.datetime | None = await connection.scalar(_NEXT_DUE)
    return value


async def release_due_scheduled(db: Database) -> list[str | None]:
    """Queue every scheduled message whose `send_at` has come (up to `RELEASE_BATCH`);
    the modems they are bound to (None: any), one entry per distinct binding."""
    now = db.clock()
    due = (
        sa.select(messages.c.pk)
        .where(
            messages.c.status == MessageStatus.SCHEDULED.value,
            messages.c.send_at <= sa.bindparam("now"),
        )
        .order_by(messages.c.send_at, messages.c.pk)
        .limit(RELEASE_BATCH)
        .scalar_subquery()
    )
    statement = (
        sa.update(messages)
        .where(messages.c.pk.in_(due), messages.c.status == MessageStatus.SCHEDULED.value)
        .values(status=MessageStatus.QUEUED.value, updated_at=sa.bindparam("now"))
        .returning(messages.c.pk, messages.c.modem)
    )
    async with db.transaction("release due scheduled messages") as connection:
        rows = (await connection.execute(statement, {"now": now})).all()
        if not rows:
            return []
        await connection.execute(
            sa.insert(status_events),
            [
                {"message_pk": int(row.pk), "part_seq": None, "status": "queued", "at": now,
                 "detail": "send_at reached"}
                for row in rows
            ],
        )  # fmt: skip
        modems = list(dict.fromkeys(row.modem for row in rows))
        for modem in modems:
            await notify_queued(connection, db, modem)
    return modems


@dataclasses.dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancel did: `cancelled` True, or why not (`message` None: no such message)."""

    cancelled: bool
    message: MessageRecord | None


async def cancel_outgoing(db: Database, message_id: str) -> CancelOutcome:
    """Withdraw a scheduled or queued outgoing message: `cancelled`, final, never sent.

    The row lock orders it against a modem's claim: either the claim took the message first
    (it is `sending`: too late) or the cancel did (the claim no longer sees it)."""
    now = db.clock()
    async with db.transaction("cancel message") as connection:
        exists = await connection.scalar(
            sa.select(sa.func.count()).select_from(messages).where(messages.c.id == message_id)
        )
        if not exists:
            return CancelOutcome(cancelled=False, message=None)
        row = await message_row(connection, db, message_id, lock=True)
        status = None if row.status is None else MessageStatus(row.status)
        if row.direction != Direction.OUT.value or status not in CANCELLABLE:
            return CancelOutcome(cancelled=False, message=to_record(row))
        await connection.execute(
            sa.update(messages)
            .where(messages.c.pk == row.pk)
            .values(status=MessageStatus.CANCELLED.value, updated_at=now, error="cancelled")
        )
        await add_status_event(
            connection,
            message_pk=int(row.pk),
            status=MessageStatus.CANCELLED.value,
            at=now,
            detail=f"cancelled while {status.value if status else 'unknown'}",
        )
        updated = await message_row(connection, db, message_id)
        return CancelOutcome(cancelled=True, message=to_record(updated))
