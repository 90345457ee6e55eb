"""History for `smsgw export`: every message, oldest first, read in chunks.

An async iterator over short transactions (one per chunk of `chunk` rows, the next chunk
starting after the last key seen), so exporting years of history holds neither the whole
table in memory nor a read transaction open for the length of the export.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import sqlalchemy as sa

from smsgw.store.database import Database
from smsgw.store.repository._common import to_record
from smsgw.store.schema import messages
from smsgw.store.types import MessageRecord

__all__ = ["iter_history"]

CHUNK = 500


async def iter_history(
    db: Database,
    *,
    since: datetime.datetime | None = None,
    peer: str | None = None,
    chunk: int = CHUNK,
) -> AsyncIterator[MessageRecord]:
    """Messages (both directions) created at or after `since`, with `peer` if given, in the
    order they were stored."""
    replied = messages.alias("replied")
    base = (
        sa.select(messages, replied.c.id.label("reply_to_id"))
        .outerjoin(replied, replied.c.pk == messages.c.reply_to_pk)
        .order_by(messages.c.pk)
        .limit(chunk)
    )
    if since is not None:
        base = base.where(messages.c.created_at >= since)
    if peer is not None:
        base = base.where(messages.c.peer == peer)
    after = 0
    while True:
        async with db.transaction("export history") as connection:
            rows = (await connection.execute(base.where(messages.c.pk > after))).all()
        for row in rows:
            yield to_record(row, reply_to=row.reply_to_id)
        if len(rows) < chunk:
            return
        after = int(rows[-1].pk)
