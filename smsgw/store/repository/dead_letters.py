"""Dead letters: events given up after `max_age`, kept visible and retried on request."""

from __future__ import annotations

import sqlalchemy as sa

from smsgw.store.database import Database
from smsgw.store.repository._common import to_outbox_entry
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import DeadLetter, OutboxState


async def list_dead_letters(
    db: Database, *, limit: int = 100, before: int | None = None
) -> list[DeadLetter]:
    """Dead-lettered events, newest first; page with `before` = the last entry's id."""
    async with db.transaction("list dead-lettered webhook events") as connection:
        statement = (
            sa.select(webhook_outbox)
            .where(webhook_outbox.c.state == OutboxState.DEAD.value)
            .order_by(webhook_outbox.c.pk.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(webhook_outbox.c.pk < before)
        rows = (await connection.execute(statement)).all()
        return [
            DeadLetter(
                entry=to_outbox_entry(row), last_error=row.last_error, dead_at=row.finished_at
            )
            for row in rows
        ]


async def retry_dead_letter(db: Database, entry_id: int) -> bool:
    """Make a dead-lettered event pending and due now (False if it is not dead).

    Its `created_at` is kept, so the dispatcher's `max_age` rule gives it exactly one more
    attempt: delivered if the webhook is back, dead again if not.
    """
    now = db.clock()
    async with db.transaction("retry dead-lettered webhook event") as connection:
        result = await connection.execute(
            sa.update(webhook_outbox)
            .where(
                webhook_outbox.c.pk == entry_id, webhook_outbox.c.state == OutboxState.DEAD.value
            )
            .values(
                state=OutboxState.PENDING.value,
                next_attempt_at=now,
                finished_at=None,
                claimed_by=None,
                claim_until=None,
            )
        )
        return bool(result.rowcount == 1)
