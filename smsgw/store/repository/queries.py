"""Read-only views for the API and CLI: message lists and one message in detail."""

from __future__ import annotations

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import Direction, MessageStatus
from smsgw.store.database import Database
from smsgw.store.repository._common import reply_to_id, to_record
from smsgw.store.schema import message_parts, messages, status_events
from smsgw.store.types import (
    MessageDetail,
    MessageRecord,
    PartRecord,
    PartStatus,
    StatusEventRecord,
)

MAX_PAGE = 1000


async def list_messages(
    db: Database,
    *,
    direction: Direction | None = None,
    peer: str | None = None,
    limit: int = 50,
    before: str | None = None,
    status: MessageStatus | None = None,
) -> list[MessageRecord]:
    """Messages newest first. `before` is a message id (the last one of the previous page);
    an unknown cursor is a StoreError rather than silently restarting at the newest page."""
    if not 1 <= limit <= MAX_PAGE:
        raise StoreError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    async with db.transaction("list messages") as connection:
        replied = messages.alias("replied")
        statement = (
            sa.select(messages, replied.c.id.label("reply_to_id"))
            .outerjoin(replied, replied.c.pk == messages.c.reply_to_pk)
            .order_by(messages.c.pk.desc())
            .limit(limit)
        )
        if direction is not None:
            statement = statement.where(messages.c.direction == direction.value)
        if peer is not None:
            statement = statement.where(messages.c.peer == peer)
        if status is not None:
            statement = statement.where(messages.c.status == status.value)
        if before is not None:
            cursor = await connection.scalar(
                sa.select(messages.c.pk).where(messages.c.id == before)
            )
            if cursor is None:
                raise StoreError(f"unknown cursor {before!r}: no such message id")
            statement = statement.where(messages.c.pk < cursor)
        rows = (await connection.execute(statement)).all()
        return [to_record(row, reply_to=row.reply_to_id) for row in rows]


async def get_message(db: Database, message_id: str) -> MessageDetail | None:
    """One message with its parts and status history, or None."""
    async with db.transaction("read message") as connection:
        row = (
            await connection.execute(sa.select(messages).where(messages.c.id == message_id))
        ).one_or_none()
        if row is None:
            return None
        parts = (
            await connection.execute(
                sa.select(message_parts)
                .where(message_parts.c.message_pk == row.pk)
                .order_by(message_parts.c.seq)
            )
        ).all()
        events = (
            await connection.execute(
                sa.select(status_events)
                .where(status_events.c.message_pk == row.pk)
                .order_by(status_events.c.pk)
            )
        ).all()
        return MessageDetail(
            message=to_record(row, reply_to=await reply_to_id(connection, row.reply_to_pk)),
            parts=tuple(
                PartRecord(
                    seq=int(part.seq),
                    status=PartStatus(part.status),
                    tp_mr=part.tp_mr,
                    sent_at=part.sent_at,
                    report_at=part.report_at,
                    tp_st=part.tp_st,
                    error=part.error,
                )
                for part in parts
            ),
            events=tuple(
                StatusEventRecord(
                    status=event.status, at=event.at, detail=event.detail, part_seq=event.part_seq
                )
                for event in events
            ),
        )


async def last_modem_with(db: Database, peer: str) -> str | None:
    """The modem of the latest message exchanged with `peer`, either direction (None: no
    message with a modem yet), for keeping a conversation on one SIM."""
    async with db.transaction("read last modem of a peer") as connection:
        found = await connection.scalar(
            sa.select(messages.c.modem)
            .where(messages.c.peer == peer, messages.c.modem.is_not(None))
            .order_by(messages.c.pk.desc())
            .limit(1)
        )
    return None if found is None else str(found)
