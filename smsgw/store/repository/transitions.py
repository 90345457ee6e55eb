"""Message-level status changes, each written with its history row and its `sms_status` event.

Kept in one place so every path (send worker, status report, start-up recovery) applies the
same rules: a final status is never left, `delivered` needs every part delivered, and the first
part that fails permanently fails the message.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from smsgw.models import MessageStatus, WebhookEventKind
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.repository._common import add_outbox_event, add_status_event
from smsgw.store.schema import message_parts, messages
from smsgw.store.types import PartStatus, StatusEventFactory, StatusTransition

FINAL_STATUSES = frozenset(
    {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.CANCELLED}
)


async def transition(
    connection: Connection,
    db: Database,
    message: sa.Row[Any],
    status: MessageStatus,
    *,
    now: datetime.datetime,
    error: str | None,
    render_status: StatusEventFactory,
) -> StatusTransition:
    """Move `message` (a row locked by the caller) to `status` and queue its event."""
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    if error is not None:
        values["error"] = error
    if status is MessageStatus.SENT:
        values["sent_at"] = now
    if status is not MessageStatus.SENDING:
        values["claimed_by"] = None
        values["claim_until"] = None
    await connection.execute(
        sa.update(messages).where(messages.c.pk == message.pk).values(**values)
    )
    await add_status_event(
        connection, message_pk=int(message.pk), status=status.value, at=now, detail=error
    )
    change = StatusTransition(
        message_id=message.id,
        peer=message.peer,
        modem=message.modem,
        status=status,
        at=now,
        parts=int(message.parts),
        error=error,
    )
    event = render_status(change)
    if event is not None:
        await add_outbox_event(
            connection,
            db,
            event,
            kind=WebhookEventKind.SMS_STATUS,
            peer=message.peer,
            modem=message.modem,
            message_pk=int(message.pk),
            now=now,
            ignore_duplicate=True,
        )
    return change


async def aggregate(
    connection: Connection,
    db: Database,
    message: sa.Row[Any],
    *,
    now: datetime.datetime,
    render_status: StatusEventFactory,
) -> list[StatusTransition]:
    """Derive the message status from its parts once it is `sent` (row locked by the caller)."""
    if message.status != MessageStatus.SENT.value:
        return []  # still sending (mark_sent aggregates later) or already final
    parts = (
        await connection.execute(
            sa.select(message_parts.c.seq, message_parts.c.status, message_parts.c.error)
            .where(message_parts.c.message_pk == message.pk)
            .order_by(message_parts.c.seq)
        )
    ).all()
    for part in parts:
        if part.status in (PartStatus.FAILED.value, PartStatus.EXPIRED.value):
            status = (
                MessageStatus.EXPIRED
                if part.status == PartStatus.EXPIRED.value
                else MessageStatus.FAILED
            )
            error = f"part {part.seq}: {part.error}" if len(parts) > 1 else part.error
            return [
                await transition(
                    connection,
                    db,
                    message,
                    status,
                    now=now,
                    error=error,
                    render_status=render_status,
                )
            ]
    if parts and all(part.status == PartStatus.DELIVERED.value for part in parts):
        return [
            await transition(
                connection,
                db,
                message,
                MessageStatus.DELIVERED,
                now=now,
                error=None,
                render_status=render_status,
            )
        ]
    return []
