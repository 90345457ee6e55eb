"""Auto-replies: a delivered `incoming_sms` (or `incoming_call`) event and the reply its
webhook answered with, recorded in one transaction (queued, or suppressed by the per-peer
hourly limit). A call's reply goes to the caller; it has no incoming message to point at, so
it is told apart by its idempotency key (`call-reply:<event id>`), and counts against the
same per-peer limit as SMS auto-replies."""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import MessageStatus, WebhookEventKind
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.repository._common import add_status_event
from smsgw.store.repository.optouts import is_opted_out_in
from smsgw.store.repository.outbox import claim_params, still_claimed
from smsgw.store.repository.queueing import enqueue_in
from smsgw.store.schema import message_parts, messages, suppressed_replies, webhook_outbox
from smsgw.store.types import (
    Enqueued,
    MessageRecord,
    OutboxState,
    PartStatus,
    ReplyOutcome,
    ReplyRequest,
    ReplyResult,
)

#: Idempotency key prefix of the SMS answering an `incoming_call` event.
CALL_REPLY_PREFIX = "call-reply:"
#: A caller an SMS can go back to (a withheld caller's peer is not a number).
_DIALLABLE = re.compile(r"\+?[0-9]{3,20}")


def _deliver_statement(*, with_node: bool) -> sa.Update:
    return (
        sa.update(webhook_outbox)
        .where(*still_claimed(with_node=with_node))
        .values(
            state=OutboxState.DELIVERED.value,
            attempts=webhook_outbox.c.attempts + 1,
            delivered_at=sa.bindparam("now"),
            finished_at=sa.bindparam("now"),
            claimed_by=None,
            claim_until=None,
        )
        .returning(
            webhook_outbox.c.kind,
            webhook_outbox.c.message_pk,
            webhook_outbox.c.event_id,
            webhook_outbox.c.peer,
            webhook_outbox.c.modem,
        )
    )


# `complete_incoming_in`'s statements, built once (it runs for every incoming message).
#: Parameters `now` and `still_claimed`'s.
_DELIVER = _deliver_statement(with_node=False)
_DELIVER_CHECKING_NODE = _deliver_statement(with_node=True)
_EVENT_PK = sa.select(webhook_outbox.c.pk).where(webhook_outbox.c.pk == sa.bindparam("entry_id"))
_REPLIED_MESSAGE = sa.select(messages.c.pk, messages.c.id, messages.c.peer, messages.c.modem).where(
    messages.c.pk == sa.bindparam("message_pk")
)
#: Auto-replies sent to `peer` since `since`.
_RECENT_REPLIES = (
    sa.select(sa.func.count())
    .select_from(messages)
    .where(
        messages.c.peer == sa.bindparam("peer"),
        sa.or_(
            messages.c.reply_to_pk.is_not(None),
            messages.c.idempotency_key.like(CALL_REPLY_PREFIX + "%"),
        ),
        messages.c.created_at > sa.bindparam("since"),
    )
)
_INSERT_SUPPRESSED_REPLY = sa.insert(suppressed_replies)


async def complete_incoming_in(
    connection: Connection,
    db: Database,
    entry_id: int,
    *,
    reply: ReplyRequest | None,
    replies_per_peer_per_hour: int,
    node: str | None,
) -> ReplyResult:
    """Mark the `incoming_sms` event `entry_id` delivered and queue `reply` to its sender,
    inside the caller's transaction.

    The reply goes to the sender through the modem that received the message. When the peer
    already got `replies_per_peer_per_hour` auto-replies in the last hour (two bots
    ping-ponging through a paid SIM), the reply is recorded as suppressed instead.
    With `node`, an event another node has claimed since is left alone (`ALREADY_DONE`).
    """
    now = db.clock()
    # One conditional UPDATE ... RETURNING marks the event delivered and reads what the reply
    # needs; only when it matched nothing is the row read again, to tell "already finished"
    # (or taken over by another node) from "no such event".
    done = (
        await connection.execute(
            _DELIVER_CHECKING_NODE if node is not None else _DELIVER,
            {**claim_params(entry_id, node), "now": now},
        )
    ).one_or_none()
    if done is None:
        exists = await connection.scalar(_EVENT_PK, {"entry_id": entry_id})
        if exists is None:
            raise StoreError(f"no webhook event {entry_id}")
        return ReplyResult(outcome=ReplyOutcome.ALREADY_DONE, message=None)
    if reply is None:
        return ReplyResult(outcome=ReplyOutcome.NO_REPLY, message=None)
    if done.kind == WebhookEventKind.INCOMING_CALL.value:
        return await _reply_to_caller(connection, db, done, reply, replies_per_peer_per_hour)
    if done.kind != WebhookEventKind.INCOMING_SMS.value or done.message_pk is None:
        raise StoreError(f"webhook event {entry_id} is not an incoming_sms event")
    incoming = (await connection.execute(_REPLIED_MESSAGE, {"message_pk": done.message_pk})).one()
    opted_out = await is_opted_out_in(connection, incoming.peer)
    if not opted_out and await _over_hourly_limit(
        connection,
        modem=incoming.modem,
        peer=incoming.peer,
        text=reply.text,
        in_reply_to_pk=incoming.pk,
        limit=replies_per_peer_per_hour,
        now=now,
    ):
        return ReplyResult(outcome=ReplyOutcome.SUPPRESSED, message=None)
    queued = await _queue_reply(
        connection,
        db,
        reply,
        peer=incoming.peer,
        modem=incoming.modem,
        idempotency_key=f"auto-reply:{done.event_id}",
        reply_to=incoming,
    )
    if opted_out:
        refused = await _refuse(connection, queued.message, now)
        return ReplyResult(outcome=ReplyOutcome.OPTED_OUT, message=refused)
    return ReplyResult(outcome=ReplyOutcome.QUEUED, message=queued.message)


async def _over_hourly_limit(
    connection: Connection,
    *,
    modem: str,
    peer: str,
    text: str,
    in_reply_to_pk: int | None,
    limit: int,
    now: datetime.datetime,
    note: str = "",
) -> bool:
    """True when `peer` already got `limit` auto-replies in the last hour; the reply is then
    recorded as suppressed instead (two bots ping-ponging through a paid SIM)."""
    recent = await connection.scalar(
        _RECENT_REPLIES, {"peer": peer, "since": now - datetime.timedelta(hours=1)}
    )
    if int(recent or 0) < limit:
        return False
    await connection.execute(
        _INSERT_SUPPRESSED_REPLY,
        {
            "modem": modem,
            "peer": peer,
            "text": text,
            "in_reply_to_pk": in_reply_to_pk,
            "reason": f"{recent} auto-replies to this number in the last hour "
            f"(limit {limit}){note}",
            "created_at": now,
        },
    )
    return True


async def _queue_reply(
    connection: Connection,
    db: Database,
    reply: ReplyRequest,
    *,
    peer: str,
    modem: str,
    idempotency_key: str,
    reply_to: sa.Row[Any, Any, Any, Any] | None,
) -> Enqueued:
    """Queue the webhook's `reply` to `peer` from `modem`, linked to the message it answers."""
    return await enqueue_in(
        connection,
        db,
        peer=peer,
        text=reply.text,
        parts=reply.parts,
        encoding=reply.encoding,
        modem=modem,
        delivery_report=reply.delivery_report,
        idempotency_key=idempotency_key,
        reply_to_pk=int(reply_to.pk) if reply_to is not None else None,
        reply_to_id=str(reply_to.id) if reply_to is not None else None,
    )


async def _reply_to_caller(
    connection: Connection,
    db: Database,
    done: sa.Row[Any],
    reply: ReplyRequest,
    replies_per_peer_per_hour: int,
) -> ReplyResult:
    """Queue the `incoming_call` event's reply to the caller, from the modem that was called
    (nothing for a withheld number, or above the per-peer hourly limit: logged by the caller)."""
    if done.modem is None or not _DIALLABLE.fullmatch(str(done.peer)):
        return ReplyResult(outcome=ReplyOutcome.NO_REPLY, message=None)
    if await is_opted_out_in(connection, str(done.peer)):
        return ReplyResult(outcome=ReplyOutcome.OPTED_OUT, message=None)
    if await _over_hourly_limit(
        connection,
        modem=str(done.modem),
        peer=str(done.peer),
        text=reply.text,
        in_reply_to_pk=None,
        limit=replies_per_peer_per_hour,
        now=db.clock(),
        note="; answer to a call",
    ):
        return ReplyResult(outcome=ReplyOutcome.SUPPRESSED, message=None)
    queued = await _queue_reply(
        connection,
        db,
        reply,
        peer=str(done.peer),
        modem=str(done.modem),
        idempotency_key=CALL_REPLY_PREFIX + str(done.event_id),
        reply_to=None,
    )
    return ReplyResult(outcome=ReplyOutcome.QUEUED, message=queued.message)


#: The `error` of an auto-reply dropped because its recipient opted out.
OPTED_OUT_ERROR = "not sent: the recipient opted out (STOP)"


async def _refuse(
    connection: Connection, queued: MessageRecord, now: datetime.datetime
) -> MessageRecord:
    """Record the webhook's reply to an opted-out number as a `failed` message that says why,
    so the conversation shows what the webhook wanted to send and that nothing went out."""
    pk = int(
        (
            await connection.execute(sa.select(messages.c.pk).where(messages.c.id == queued.id))
        ).scalar_one()
    )
    failed = MessageStatus.FAILED.value
    await connection.execute(
        sa.update(messages)
        .where(messages.c.pk == pk)
        .values(status=failed, error=OPTED_OUT_ERROR, updated_at=now)
    )
    await connection.execute(
        sa.update(message_parts)
        .where(message_parts.c.message_pk == pk)
        .values(status=PartStatus.FAILED.value, error=OPTED_OUT_ERROR)
    )
    await add_status_event(connection, message_pk=pk, status=failed, at=now, detail=OPTED_OUT_ERROR)
    return dataclasses.replace(queued, status=MessageStatus.FAILED, error=OPTED_OUT_ERROR)
