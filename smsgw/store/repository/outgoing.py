"""Outgoing queue: enqueue, claim for a modem, record each part, finish; crash recovery."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgw.exceptions import StoreError
from smsgw.models import Direction, MessageStatus
from smsgw.store.database import Database
from smsgw.store.ids import new_id
from smsgw.store.notify import notify_queued
from smsgw.store.repository._common import (
    add_status_event,
    dialect_insert,
    for_update,
    insert_or_ignore,
    message_row,
    to_record,
)
from smsgw.store.repository._common import reply_to_id as _reply_to_id
from smsgw.store.repository.transitions import FINAL_STATUSES, aggregate, transition
from smsgw.store.schema import daily_counters, message_parts, messages
from smsgw.store.types import (
    Enqueued,
    MessageRecord,
    PartStatus,
    StatusEventFactory,
    StatusTransition,
)

INTERRUPTED = "interrupted"

DEFAULT_LEASE = datetime.timedelta(minutes=10)


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
) -> Enqueued:
    """Queue a message (API send). `modem` None: any modem may send it.

    With an `idempotency_key` already used, nothing is queued and the earlier message is
    returned with `created=False` (whatever its text: the key identifies the request).
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
        )


_MESSAGE_BY_PK = sa.select(messages).where(messages.c.pk == sa.bindparam("message_pk"))


async def enqueue_in(
    connection: AsyncConnection,
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
) -> Enqueued:
    """`enqueue_outgoing` inside an open transaction (also used for auto-replies).

    `reply_to_id` is the public id of `reply_to_pk` when the caller already has it (the
    auto-reply path read the incoming message anyway): one SELECT less per reply."""
    if parts < 1:
        raise StoreError(f"an outgoing message needs at least one part, got {parts}")
    now = db.clock()
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
        "status": MessageStatus.QUEUED.value,
        "idempotency_key": idempotency_key,
        "delivery_report": delivery_report,
        "reply_to_pk": reply_to_pk,
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
    await add_status_event(connection, message_pk=pk, status=MessageStatus.QUEUED.value, at=now)
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


async def claim_in(
    connection: AsyncConnection, db: Database, claim: SendClaim
) -> MessageRecord | None:
    """`claim_next_outgoing` inside an open transaction."""
    now = db.clock()
    modem, node = claim.modem, claim.node
    if claim.daily_limit is not None and await _count_today(connection, modem, now) >= (
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
    await _count_send(connection, db, modem, now)
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
            await connection.execute(
                sa.update(daily_counters)
                .where(
                    daily_counters.c.modem == message.modem,
                    daily_counters.c.day == now.astimezone(datetime.UTC).date(),
                    daily_counters.c.count > 0,
                )
                .values(count=daily_counters.c.count - 1)
            )
        await add_status_event(
            connection,
            message_pk=int(message.pk),
            status=MessageStatus.QUEUED.value,
            at=now,
            detail=f"released by node {node}: {reason}",
        )
        await notify_queued(connection, db, queued_for)
        return True


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
        return await _fail(
            connection, db, message, error=error, now=now, render_status=render_status
        )


async def _fail(
    connection: AsyncConnection,
    db: Database,
    message: sa.Row[Any],
    *,
    error: str,
    now: datetime.datetime,
    render_status: StatusEventFactory,
) -> list[StatusTransition]:
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
                changes += await _fail(
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
    connection: AsyncConnection, db: Database, message: sa.Row[Any], *, now: datetime.datetime
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


async def daily_count(db: Database, modem: str, *, day: datetime.date | None = None) -> int:
    """Messages `modem` started sending on `day` (UTC; today by default), for the daily limit."""
    now = db.clock()
    async with db.transaction("read daily counter") as connection:
        return await _count_on(connection, modem, day if day is not None else now.date())


async def _count_today(connection: AsyncConnection, modem: str, now: datetime.datetime) -> int:
    return await _count_on(connection, modem, now.astimezone(datetime.UTC).date())


_DAILY_COUNT = sa.select(daily_counters.c.count).where(
    daily_counters.c.modem == sa.bindparam("modem"), daily_counters.c.day == sa.bindparam("day")
)


async def _count_on(connection: AsyncConnection, modem: str, day: datetime.date) -> int:
    count = await connection.scalar(_DAILY_COUNT, {"modem": modem, "day": day})
    return int(count or 0)


@functools.cache
def _count_send_statement(dialect: str) -> sa.Insert:
    """Add one to today's counter (parameters `modem`, `day`, `count`=1), built per dialect."""
    return dialect_insert(dialect, daily_counters).on_conflict_do_update(
        index_elements=["modem", "day"], set_={"count": daily_counters.c.count + 1}
    )


async def _count_send(
    connection: AsyncConnection, db: Database, modem: str, now: datetime.datetime
) -> None:
    await connection.execute(
        _count_send_statement(db.dialect),
        {"modem": modem, "day": now.astimezone(datetime.UTC).date(), "count": 1},
    )
