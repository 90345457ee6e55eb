"""Recovery of sends a node could not finish: interrupted after a crash, or leases renewed
while the node is alive so other nodes can tell a slow send from a dead node's."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from smsgw.models import MessageStatus
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.notify import notify_queued
from smsgw.store.repository._common import add_status_event, for_update
from smsgw.store.repository.queueing import DEFAULT_LEASE
from smsgw.store.repository.sending import fail_in
from smsgw.store.schema import message_parts, messages
from smsgw.store.types import PartStatus, StatusEventFactory, StatusTransition

INTERRUPTED = "interrupted"


async def interrupt_stale_sends(
    db: Database, *, node: str, render_status: StatusEventFactory, resend: bool = False
) -> list[StatusTransition]:
    """Recover messages left in `sending` by a crash: this node's (call at start-up) and any
    node's whose claim lease expired (call periodically when several nodes share PostgreSQL).

    An `AT+CMGS` may already have reached the network, so they are never silently sent again:
    they fail with error `interrupted`, or with `resend=True` go back to the queue (a
    `requeued` history row says so).
    """
    now = db.clock()
    return await _interrupt(
        db,
        sa.or_(messages.c.claimed_by == node, messages.c.claim_until < now),
        now=now,
        render_status=render_status,
        resend=resend,
    )


async def interrupt_expired_sends(
    db: Database, *, render_status: StatusEventFactory, resend: bool = False
) -> list[StatusTransition]:
    """`interrupt_stale_sends` for other nodes only: messages whose claim lease ran out because
    the node sending them stopped renewing it (died, or lost the database for a whole lease).

    Every node calls this periodically, so a dead node's `sending` messages become
    `interrupted` about one lease after its last heartbeat. A live node's own sends are never
    touched: its heartbeat renews their leases (`renew_send_claims`).
    """
    now = db.clock()
    return await _interrupt(
        db, messages.c.claim_until < now, now=now, render_status=render_status, resend=resend
    )


async def _interrupt(
    db: Database,
    which: sa.ColumnElement[bool],
    *,
    now: datetime.datetime,
    render_status: StatusEventFactory,
    resend: bool,
) -> list[StatusTransition]:
    changes: list[StatusTransition] = []
    async with db.transaction("recover interrupted sends") as connection:
        rows = (
            await connection.execute(
                for_update(
                    sa.select(messages)
                    .where(messages.c.status == MessageStatus.SENDING.value, which)
                    .order_by(messages.c.pk),
                    db,
                    skip_locked=True,
                )
            )
        ).all()
        for message in rows:
            if resend:
                await _requeue(connection, db, message, now=now)
            else:
                changes += await fail_in(
                    connection, db, message, error=INTERRUPTED, now=now, render_status=render_status
                )
    return changes


async def renew_send_claims(
    db: Database, *, node: str, lease: datetime.timedelta = DEFAULT_LEASE
) -> int:
    """Extend the lease of every message `node` is sending (call it with the node heartbeat),
    so a long multipart send on a slow network is not taken for a dead node's."""
    now = db.clock()
    async with db.transaction("renew send claims") as connection:
        result = await connection.execute(
            sa.update(messages)
            .where(messages.c.status == MessageStatus.SENDING.value, messages.c.claimed_by == node)
            .values(claim_until=now + lease)
        )
        return int(result.rowcount)


async def _requeue(
    connection: Connection, db: Database, message: sa.Row[Any], *, now: datetime.datetime
) -> None:
    await connection.execute(
        sa.update(messages)
        .where(messages.c.pk == message.pk)
        .values(
            status=MessageStatus.QUEUED.value, claimed_by=None, claim_until=None, updated_at=now
        )
    )
    await connection.execute(
        sa.update(message_parts)
        .where(message_parts.c.message_pk == message.pk)
        .values(status=PartStatus.PENDING.value, tp_mr=None, sent_at=None)
    )
    await add_status_event(
        connection,
        message_pk=int(message.pk),
        status=MessageStatus.QUEUED.value,
        at=now,
        detail=f"requeued after interruption on node {message.claimed_by}",
    )
    await notify_queued(connection, db, message.modem)
