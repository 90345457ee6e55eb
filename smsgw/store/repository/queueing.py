"""The outgoing queue: enqueue a message, claim the next one for a modem, give a claim back.

A claim marks the message `sending` before its first `AT+CMGS`, so after a crash it is reported
`interrupted` (`recovery`) instead of being silently sent twice.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
from typing import Any

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import Direction, MessageStatus, SendOptions
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.ids import new_id
from smsgw.store.notify import notify_queued
from smsgw.store.repository._common import (
    add_status_event,
    for_update,
    insert_or_ignore,
    message_row,
    to_record,
)
from smsgw.store.repository._common import reply_to_id as _reply_to_id
from smsgw.store.repository.limits import count_send, count_today, uncount_send
from smsgw.store.schema import message_parts, messages
from smsgw.store.types import Enqueued, MessageRecord, PartStatus

DEFAULT_LEASE = datetime.timedelta(minutes=10)
_NO_OPTIONS = SendOptions()


async def enqueue_outgoing(
    db: Database,
    *,
    peer: str,
    text: str,
    parts: int,
    encoding: str,
    modem: str | None = None,
    delivery_report: bool = True,
    idempotency_key: str | None = None,
    options: SendOptions | None = None,
) -> Enqueued:
    """Queue a message (API send). `modem` None: any modem may send it.

    With an `idempotency_key` already used, nothing is queued and the earlier message is
    returned with `created=False` (whatever its text: the key identifies the request).
    With `options.send_at` in the future the message is `scheduled` instead of `queued`:
    no modem may claim it until `release_due_scheduled` queues it.
    """
    async with db.transaction("queue outgoing message") as connection:
        return await enqueue_in(
            connection,
            db,
            peer=peer,
            text=text,
            parts=parts,
            encoding=encoding,
            modem=modem,
            delivery_report=delivery_report,
            idempotency_key=idempotency_key,
            reply_to_pk=None,
            options=options,
        )


_MESSAGE_BY_PK = sa.select(messages).where(messages.c.pk == sa.bindparam("message_pk"))


async def enqueue_in(
    connection: Connection,
    db: Database,
    *,
    peer: str,
    text: str,
    parts: int,
    encoding: str,
    modem: str | None,
    delivery_report: bool,
    idempotency_key: str | None,
    reply_to_pk: int | None,
    reply_to_id: str | None = None,
    options: SendOptions | None = None,
) -> Enqueued:
    """`enqueue_outgoing` inside an open transaction (also used for auto-replies).

    `reply_to_id` is the public id of `reply_to_pk` when the caller already has it (the
    auto-reply path read the incoming message anyway): one SELECT less per reply."""
    if parts < 1:
        raise StoreError(f"an outgoing message needs at least one part, got {parts}")
    now = db.clock()
    options = options or _NO_OPTIONS
    scheduled = options.send_at is not None and options.send_at > now
    status = MessageStatus.SCHEDULED if scheduled else MessageStatus.QUEUED
    values: dict[str, Any] = {
        "id": new_id(now),
        "direction": Direction.OUT.value,
        "peer": peer,
        "modem": modem,
        "text": text,
        "encoding": encoding,
        "parts": parts,
        "created_at": now,
        "updated_at": now,
        "status": status.value,
        "idempotency_key": idempotency_key,
        "delivery_report": delivery_report,
        "reply_to_pk": reply_to_pk,
        "send_at": options.send_at,
        "validity_s": (
            None if options.validity is None else math.ceil(options.validity.total_seconds())
        ),
        "flash": options.flash,
    }
    pk = await insert_or_ignore(connection, db, messages, values, ["idempotency_key"])
    if pk is None:
        existing = (
            await connection.execute(
                sa.select(messages).where(messages.c.idempotency_key == idempotency_key)
            )
        ).one()
        reply_to = await _reply_to_id(connection, existing.reply_to_pk)
        return Enqueued(message=to_record(existing, reply_to=reply_to), created=False)
    await connection.execute(
        sa.insert(message_parts),
        [
            {
                "message_pk": pk,
                "seq": seq,
                "status": PartStatus.PENDING.value,
                "modem": modem,
                "recipient": peer,
            }
            for seq in range(1, parts + 1)
        ],
    )
    detail = None if options.send_at is None else f"send at {options.send_at.isoformat()}"
    await add_status_event(connection, message_pk=pk, status=status.value, at=now, detail=detail)
    # Also for a scheduled message: every node's scheduler re-reads its next due time.
    await notify_queued(connection, db, modem)
    row = (await connection.execute(_MESSAGE_BY_PK, {"message_pk": pk})).one()
    if reply_to_id is None:
        reply_to_id = await _reply_to_id(connection, reply_to_pk)
    return Enqueued(message=to_record(row, reply_to=reply_to_id), created=True)


async def claim_next_outgoing(
    db: Database,
    *,
    modem: str,
    node: str,
    lease: datetime.timedelta = DEFAULT_LEASE,
    daily_limit: int | None = None,
) -> MessageRecord | None:
    """Take the oldest queued message this modem may send and mark it `sending`.

    Eligible: queued for this modem, or for any modem (then it becomes bound to this one).
    Counts it in today's (UTC) counter for the modem; with `daily_limit` reached, claims
    nothing. On PostgreSQL concurrent claimers skip each other's rows (SKIP LOCKED), so a
    message is claimed once; `claimed_by`/`claim_until` let others recover it if this node dies.
    """
    async with db.transaction("claim outgoing message") as connection:
        return await claim_in(
            connection,
            db,
            SendClaim(modem=modem, node=node, lease=lease, daily_limit=daily_limit),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class SendClaim:
    """Who claims a modem's next message: the arguments of `claim_next_outgoing`, so another
    transaction (the one that queues an auto-reply) can claim for an idle worker."""

    modem: str
    node: str
    lease: datetime.timedelta = DEFAULT_LEASE
    daily_limit: int | None = None


@functools.cache
def _next_queued(dialect: str) -> sa.Select[int]:
    """The oldest queued message for the `modem` parameter or for any modem, built once per
    dialect; PostgreSQL skips rows another claimer holds."""
    return for_update(
        sa.select(messages.c.pk)
        .where(
            messages.c.status == MessageStatus.QUEUED.value,
            sa.or_(messages.c.modem == sa.bindparam("modem"), messages.c.modem.is_(None)),
        )
        .order_by(messages.c.pk)
        .limit(1),
        dialect,
        skip_locked=True,
    )


#: Parameters: `message_pk`, `claim_modem` (binds the message), `node`, `lease_until`, `now`.
_CLAIM_MESSAGE = (
    sa.update(messages)
    .where(messages.c.pk == sa.bindparam("message_pk"))
    .values(
        status=MessageStatus.SENDING.value,
        modem=sa.bindparam("claim_modem"),
        claimed_by=sa.bindparam("node"),
        claim_until=sa.bindparam("lease_until"),
        updated_at=sa.bindparam("now"),
    )
    .returning(*messages.c)
)


async def claim_in(connection: Connection, db: Database, claim: SendClaim) -> MessageRecord | None:
    """`claim_next_outgoing` inside an open transaction."""
    now = db.clock()
    modem, node = claim.modem, claim.node
    if claim.daily_limit is not None and await count_today(connection, modem, now) >= (
        claim.daily_limit
    ):
        return None
    candidate = (
        await connection.execute(_next_queued(db.dialect), {"modem": modem})
    ).scalar_one_or_none()
    if candidate is None:
        return None
    # UPDATE ... RETURNING: the claimed row without a SELECT after the UPDATE.
    row = (
        await connection.execute(
            _CLAIM_MESSAGE,
            {
                "message_pk": candidate,
                "claim_modem": modem,
                "node": node,
                "lease_until": now + claim.lease,
                "now": now,
            },
        )
    ).one()
    # The parts keep the binding they were queued with (NULL: any modem) until each is
    # sent (`record_part_sent` stamps the modem), so `release_unsent_claim` can tell an
    # unbound message from one queued for this modem.
    await add_status_event(
        connection,
        message_pk=int(candidate),
        status=MessageStatus.SENDING.value,
        at=now,
        detail=f"claimed by node {node} for modem {modem}",
    )
    await count_send(connection, db, modem, now)
    return to_record(row, reply_to=await _reply_to_id(connection, row.reply_to_pk))


async def release_unsent_claim(db: Database, message_id: str, *, node: str, reason: str) -> bool:
    """Give back a claimed message none of whose parts reached the modem (it stopped being
    READY between the claim and the first AT+CMGS): queued again, bound as it was queued
    (an unbound API send can then go out through any READY modem of any node, instead of
    waiting for this one), and not counted in this modem's daily total.

    False (nothing changed) unless `node` holds the claim and no part was sent.
    """
    now = db.clock()
    async with db.transaction("release unsent claim") as connection:
        message = await message_row(connection, db, message_id, lock=True)
        if message.status != MessageStatus.SENDING.value or message.claimed_by != node:
            return False
        parts = (
            await connection.execute(
                sa.select(message_parts.c.status, message_parts.c.modem)
                .where(message_parts.c.message_pk == message.pk)
                .order_by(message_parts.c.seq)
            )
        ).all()
        if any(part.status != PartStatus.PENDING.value for part in parts):
            return False
        queued_for = parts[0].modem if parts else message.modem
        await connection.execute(
            sa.update(messages)
            .where(messages.c.pk == message.pk)
            .values(
                status=MessageStatus.QUEUED.value,
                modem=queued_for,
                claimed_by=None,
                claim_until=None,
                updated_at=now,
            )
        )
        if message.modem is not None:
            await uncount_send(connection, message.modem, now)
        await add_status_event(
            connection,
            message_pk=int(message.pk),
            status=MessageStatus.QUEUED.value,
            at=now,
            detail=f"released by node {node}: {reason}",
        )
        await notify_queued(connection, db, queued_for)
        return True


async def queue_depths(db: Database) -> dict[str | None, int]:
    """Outgoing messages waiting or being sent, per modem (None: not bound to a modem yet);
    the API picks the least-loaded ready modem from this plus `daily_count`."""
    async with db.transaction("read queue depths") as connection:
        rows = (
            await connection.execute(
                sa.select(messages.c.modem, sa.func.count())
                .where(
                    messages.c.status.in_([MessageStatus.QUEUED.value, MessageStatus.SENDING.value])
                )
                .group_by(messages.c.modem)
            )
        ).all()
    return {modem: int(count) for modem, count in rows}
