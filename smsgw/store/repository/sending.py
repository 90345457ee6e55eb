"""Sending a claimed message: record each part the modem accepted, then `sent` or `failed`."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import MessageStatus
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.repository._common import add_status_event, message_row
from smsgw.store.repository.transitions import FINAL_STATUSES, aggregate, transition
from smsgw.store.schema import message_parts
from smsgw.store.types import PartStatus, StatusEventFactory, StatusTransition


async def record_part_sent(db: Database, message_id: str, *, seq: int, tp_mr: int) -> None:
    """Record that part `seq` was accepted (`+CMGS: <tp_mr>`), so its report can be matched."""
    now = db.clock()
    async with db.transaction("record sent part") as connection:
        message = await message_row(connection, db, message_id)
        if message.status != MessageStatus.SENDING.value:
            raise StoreError(
                f"message {message_id} is {message.status!r}, not sending: part {seq} not recorded"
            )
        result = await connection.execute(
            sa.update(message_parts)
            .where(
                message_parts.c.message_pk == message.pk,
                message_parts.c.seq == seq,
                message_parts.c.status == PartStatus.PENDING.value,
            )
            .values(status=PartStatus.SENT.value, tp_mr=tp_mr, sent_at=now, modem=message.modem)
        )
        if result.rowcount != 1:
            raise StoreError(f"message {message_id} has no pending part {seq}")
        await add_status_event(
            connection,
            message_pk=int(message.pk),
            status=PartStatus.SENT.value,
            at=now,
            detail=f"TP-MR {tp_mr}",
            part_seq=seq,
        )


async def mark_sent(
    db: Database, message_id: str, *, render_status: StatusEventFactory
) -> list[StatusTransition]:
    """All parts accepted: `sending → sent` (then `delivered`/`failed` at once if reports for
    every part already arrived, which happens with fast networks and slow `+CMGS`)."""
    now = db.clock()
    async with db.transaction("mark message sent") as connection:
        message = await message_row(connection, db, message_id, lock=True)
        if message.status != MessageStatus.SENDING.value:
            raise StoreError(f"message {message_id} is {message.status!r}, not sending")
        pending = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(message_parts)
            .where(
                message_parts.c.message_pk == message.pk,
                message_parts.c.status == PartStatus.PENDING.value,
            )
        )
        if pending:
            raise StoreError(f"message {message_id} still has {pending} unsent part(s)")
        changes = [
            await transition(
                connection,
                db,
                message,
                MessageStatus.SENT,
                now=now,
                error=None,
                render_status=render_status,
            )
        ]
        message = await message_row(connection, db, message_id)
        changes += await aggregate(connection, db, message, now=now, render_status=render_status)
        return changes


async def mark_failed(
    db: Database, message_id: str, *, error: str, render_status: StatusEventFactory
) -> list[StatusTransition]:
    """The send failed for good (e.g. `+CMS ERROR`): unsent parts fail, the message fails.

    A message already final is left alone (empty list).
    """
    now = db.clock()
    async with db.transaction("mark message failed") as connection:
        message = await message_row(connection, db, message_id, lock=True)
        return await fail_in(
            connection, db, message, error=error, now=now, render_status=render_status
        )


async def fail_in(
    connection: Connection,
    db: Database,
    message: sa.Row[Any],
    *,
    error: str,
    now: datetime.datetime,
    render_status: StatusEventFactory,
) -> list[StatusTransition]:
    """Fail `message` (a row locked by the caller) and its unsent parts; a message already
    final is left alone (empty list)."""
    if message.status is None or MessageStatus(message.status) in FINAL_STATUSES:
        return []
    await connection.execute(
        sa.update(message_parts)
        .where(
            message_parts.c.message_pk == message.pk,
            message_parts.c.status == PartStatus.PENDING.value,
        )
        .values(status=PartStatus.FAILED.value, error=error)
    )
    return [
        await transition(
            connection,
            db,
            message,
            MessageStatus.FAILED,
            now=now,
            error=error,
            render_status=render_status,
        )
    ]
