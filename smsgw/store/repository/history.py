"""Conversation history: the last N messages with one peer on one modem, oldest first."""

from __future__ import annotations

import sqlalchemy as sa

from smsgw.models import Direction, MessageStatus
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.schema import messages
from smsgw.store.types import HistoryItem

#: Built once (a fresh SELECT cost more CPU than running it); parameters `modem`,
#: `peer`, `limit`, and for the `_BEFORE` variant `before_pk` (exclusive).
_LAST_MESSAGES = (
    sa.select(
        messages.c.id,
        messages.c.direction,
        messages.c.text,
        messages.c.smsc_timestamp,
        messages.c.sent_at,
        messages.c.created_at,
    )
    .where(
        messages.c.modem == sa.bindparam("modem"),
        messages.c.peer == sa.bindparam("peer"),
        sa.or_(messages.c.status.is_(None), messages.c.status != MessageStatus.FAILED.value),
    )
    .order_by(messages.c.pk.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_LAST_MESSAGES_BEFORE = _LAST_MESSAGES.where(messages.c.pk < sa.bindparam("before_pk"))


async def load_history(
    connection: Connection, *, modem: str, peer: str, limit: int, before_pk: int | None
) -> list[HistoryItem]:
    """History inside an open transaction; `before_pk` excludes that message and later ones.

    Outgoing messages that failed never reached the peer, so they are left out; queued and
    sending ones are kept (an auto-reply still in the queue is part of the conversation).
    """
    if limit <= 0:
        return []
    if before_pk is None:
        statement, params = _LAST_MESSAGES, {"modem": modem, "peer": peer, "limit": limit}
    else:
        statement = _LAST_MESSAGES_BEFORE
        params = {"modem": modem, "peer": peer, "limit": limit, "before_pk": before_pk}
    rows = (await connection.execute(statement, params)).all()
    items = [
        HistoryItem(
            message_id=row.id,
            direction=Direction(row.direction),
            text=row.text,
            at=row.smsc_timestamp or row.sent_at or row.created_at,
        )
        for row in rows
    ]
    items.reverse()
    return items


async def conversation_history(
    db: Database, *, modem: str, peer: str, limit: int
) -> list[HistoryItem]:
    """The last `limit` messages exchanged with `peer` on `modem`, both directions, oldest first."""
    async with db.transaction("read conversation history") as connection:
        return await load_history(connection, modem=modem, peer=peer, limit=limit, before_pk=None)
