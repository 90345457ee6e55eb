"""The webhook outbox: durable events, claimed per peer in order, retried, dead-lettered.

Per-peer order: an event is claimable only while it is the oldest *pending* event of its peer,
so a peer's events are posted one at a time in creation order even with several dispatchers
(or several nodes). A claim is a lease (`claimed_by`, `claim_until`): if the dispatcher dies,
the event becomes claimable again when the lease runs out.

Outcomes in bulk: `OutcomeRecorder` records what the dispatcher learned from each POST
(delivered with its auto-reply, retry, dead letter, 410) through a `GroupCommit`, so the answers
of a burst share a few transactions (one fsync each) instead of one each; every caller still
returns only after its own outcome is committed, which is what keeps a peer's next event
unclaimed until then. The single-call functions (`complete_event`, ...) are the same operations
in a transaction of their own.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgw.exceptions import StoreError
from smsgw.models import OutboxEntry, WebhookEventKind
from smsgw.store.database import Database
from smsgw.store.group_commit import GroupCommit
from smsgw.store.repository._common import add_outbox_event, to_outbox_entry
from smsgw.store.repository.outgoing import SendClaim, claim_in, enqueue_in
from smsgw.store.schema import messages, suppressed_replies, webhook_outbox
from smsgw.store.types import (
    DeadLetter,
    MessageRecord,
    NewEvent,
    OutboxState,
    ReplyOutcome,
    ReplyRequest,
    ReplyResult,
)

DEFAULT_CLAIM_LEASE = datetime.timedelta(minutes=2)

_PENDING = OutboxState.PENDING.value


async def enqueue_event(
    db: Database, event: NewEvent, *, kind: WebhookEventKind, peer: str
) -> OutboxEntry | None:
    """Queue a standalone event (no message change with it); None if `event_id` exists."""
    now = db.clock()
    async with db.transaction("queue webhook event") as connection:
        pk = await add_outbox_event(
            connection,
            db,
            event,
            kind=kind,
            peer=peer,
            message_pk=None,
            now=now,
            ignore_duplicate=True,
        )
        if pk is None:
            return None
        row = (
            await connection.execute(sa.select(webhook_outbox).where(webhook_outbox.c.pk == pk))
        ).one()
        return to_outbox_entry(row)


def _head_of_peer(*, excluding: bool) -> list[sa.ColumnElement[bool]]:
    """Pending, the oldest pending event of its peer, and (`excluding`) not for a peer in the
    `excluded_peers` parameter.

    A separate statement without the exclusion, rather than an empty `NOT IN` list, keeps the
    common no-exclusion query as simple as before.
    """
    earlier = webhook_outbox.alias("earlier")
    conditions: list[sa.ColumnElement[bool]] = [
        webhook_outbox.c.state == _PENDING,
        ~sa.exists().where(
            earlier.c.state == _PENDING,
            earlier.c.peer == webhook_outbox.c.peer,
            earlier.c.pk < webhook_outbox.c.pk,
        ),
    ]
    if excluding:
        conditions.append(
            webhook_outbox.c.peer.not_in(sa.bindparam("excluded_peers", expanding=True))
        )
    return conditions


@functools.cache
def _claimable_events(dialect: str, *, excluding: bool) -> sa.Select[int]:
    """The claim's SELECT, built once per dialect and variant (`_head_of_peer`); parameters
    `now`, `limit` (and `excluded_peers`). PostgreSQL skips rows another claimer holds."""
    statement = (
        sa.select(webhook_outbox.c.pk)
        .where(
            *_head_of_peer(excluding=excluding),
            webhook_outbox.c.next_attempt_at <= sa.bindparam("now"),
            sa.or_(
                webhook_outbox.c.claim_until.is_(None),
                webhook_outbox.c.claim_until < sa.bindparam("now"),
            ),
        )
        .order_by(webhook_outbox.c.pk)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=webhook_outbox)
    return statement


#: Parameters: `claimed_pks` (from `_claimable_events`), `node`, `lease_until`.
_CLAIM_EVENTS = (
    sa.update(webhook_outbox)
    .where(webhook_outbox.c.pk.in_(sa.bindparam("claimed_pks", expanding=True)))
    .values(claimed_by=sa.bindparam("node"), claim_until=sa.bindparam("lease_until"))
    .returning(*webhook_outbox.c)
)


def _excluded(exclude_peers: Collection[str]) -> dict[str, list[str]]:
    """The `excluded_peers` parameter of a statement built with `excluding=True`."""
    return {"excluded_peers": list(exclude_peers)}


async def claim_due_events(
    db: Database,
    *,
    node: str,
    limit: int = 16,
    lease: datetime.timedelta = DEFAULT_CLAIM_LEASE,
    exclude_peers: Collection[str] = (),
) -> list[OutboxEntry]:
    """Claim up to `limit` due events, at most one per peer (the peer's oldest pending one),
    none for `exclude_peers` (those the caller is still posting), oldest first.

    The lease should exceed the webhook timeout; finish each event with one of
    `complete_event`, `complete_incoming_event`, `schedule_retry`, `dead_letter`, `drop_event`.
    """
    now = db.clock()
    async with db.transaction("claim webhook events") as connection:
        statement = _claimable_events(db.dialect, excluding=bool(exclude_peers))
        params: dict[str, object] = {"now": now, "limit": limit}
        if exclude_peers:
            params.update(_excluded(exclude_peers))
        pks = list((await connection.execute(statement, params)).scalars())
        if not pks:
            return []
        # UPDATE ... RETURNING instead of UPDATE then SELECT: one statement less per claim
        # (SQLite >= 3.35 and PostgreSQL both have it). RETURNING has no order: sort here.
        rows = (
            await connection.execute(
                _CLAIM_EVENTS, {"claimed_pks": pks, "node": node, "lease_until": now + lease}
            )
        ).all()
        return [to_outbox_entry(row) for row in sorted(rows, key=lambda row: int(row.pk))]


async def release_event_claims(db: Database, *, node: str) -> int:
    """At start-up: make the events `node` had claimed when it died claimable at once.

    A node name belongs to one process at a time, so its claims found at start are left over
    from a crash; without this they would wait for the whole lease. Returns how many."""
    async with db.transaction("release webhook event claims") as connection:
        result = await connection.execute(
            sa.update(webhook_outbox)
            .where(webhook_outbox.c.state == _PENDING, webhook_outbox.c.claimed_by == node)
            .values(claimed_by=None, claim_until=None)
        )
        return int(result.rowcount or 0)


def _next_due(*, excluding: bool) -> sa.Select[datetime.datetime, datetime.datetime | None]:
    ready_at = sa.case(
        (
            webhook_outbox.c.claim_until > webhook_outbox.c.next_attempt_at,
            webhook_outbox.c.claim_until,
        ),
        else_=webhook_outbox.c.next_attempt_at,
    )
    return (
        sa.select(webhook_outbox.c.next_attempt_at, webhook_outbox.c.claim_until)
        .where(*_head_of_peer(excluding=excluding))
        .order_by(ready_at)
        .limit(1)
    )


# Built once: the dispatcher asks after every batch of a burst.
_NEXT_DUE = _next_due(excluding=False)
_NEXT_DUE_EXCLUDING = _next_due(excluding=True)


async def next_event_due_at(
    db: Database, *, exclude_peers: Collection[str] = ()
) -> datetime.datetime | None:
    """When the earliest claimable head-of-peer event becomes due (a leased one: when its
    lease ends), or None when nothing is pending; lets the dispatcher sleep until then."""
    statement = _NEXT_DUE_EXCLUDING if exclude_peers else _NEXT_DUE
    async with db.transaction("find next due webhook event") as connection:
        rows = (
            await connection.execute(statement, _excluded(exclude_peers) if exclude_peers else {})
        ).all()
    if not rows:
        return None
    next_attempt_at: datetime.datetime = rows[0].next_attempt_at
    claim_until: datetime.datetime | None = rows[0].claim_until
    return next_attempt_at if claim_until is None else max(next_attempt_at, claim_until)


def _still_claimed(*, with_node: bool) -> list[sa.ColumnElement[bool]]:
    """The event `entry_id` (a parameter) is pending and, `with_node`, not claimed by another
    node than the `node` parameter.

    With several nodes, a dispatcher whose lease ran out (a POST slower than the lease, a
    stalled process) may finish after another node claimed the event again; its late result
    must not release the other node's claim, or a third node could post it too and the peer's
    next event could overtake it. `node=None` (tests, one-process tools) skips the check.
    """
    conditions = [
        webhook_outbox.c.pk == sa.bindparam("entry_id"),
        webhook_outbox.c.state == _PENDING,
    ]
    if with_node:
        conditions.append(
            sa.or_(
                webhook_outbox.c.claimed_by.is_(None),
                webhook_outbox.c.claimed_by == sa.bindparam("node"),
            )
        )
    return conditions


def _claim_params(entry_id: int, node: str | None) -> dict[str, object]:
    """The parameters of `_still_claimed` (`node` only when checked)."""
    return {"entry_id": entry_id} if node is None else {"entry_id": entry_id, "node": node}


@functools.cache
def _finish_statement(*, with_node: bool, delivered: bool, with_error: bool) -> sa.Update:
    """`_finish_in`'s UPDATE, built once per variant; parameters `new_state`, `now` (and
    `error`) besides `_still_claimed`'s. Without `with_error`, `last_error` is left as is."""
    values: dict[str, object] = {
        "state": sa.bindparam("new_state"),
        "attempts": webhook_outbox.c.attempts + 1,
        "finished_at": sa.bindparam("now"),
        "claimed_by": None,
        "claim_until": None,
    }
    if delivered:
        values["delivered_at"] = sa.bindparam("now")
    if with_error:
        values["last_error"] = sa.bindparam("error")
    return sa.update(webhook_outbox).where(*_still_claimed(with_node=with_node)).values(values)


async def _finish_in(
    connection: AsyncConnection,
    db: Database,
    entry_id: int,
    state: OutboxState,
    *,
    node: str | None,
    error: str | None = None,
) -> bool:
    statement = _finish_statement(
        with_node=node is not None,
        delivered=state is OutboxState.DELIVERED,
        with_error=error is not None,
    )
    params = _claim_params(entry_id, node)
    params.update(new_state=state.value, now=db.clock())
    if error is not None:
        params["error"] = error
    result = await connection.execute(statement, params)
    return bool(result.rowcount == 1)


async def _finish(
    db: Database,
    entry_id: int,
    what: str,
    state: OutboxState,
    *,
    node: str | None,
    error: str | None = None,
) -> bool:
    async with db.transaction(what) as connection:
        return await _finish_in(connection, db, entry_id, state, node=node, error=error)


async def complete_event(db: Database, entry_id: int, *, node: str | None = None) -> bool:
    """The webhook accepted the event (2xx). False if it was no longer pending (or, with
    `node`, no longer claimed by that node)."""
    return await _finish(db, entry_id, "complete webhook event", OutboxState.DELIVERED, node=node)


async def dead_letter(db: Database, entry_id: int, *, error: str, node: str | None = None) -> bool:
    """Give up after `max_age`; the event stays visible (`list_dead_letters`)."""
    return await _finish(
        db, entry_id, "dead-letter webhook event", OutboxState.DEAD, node=node, error=error
    )


async def drop_event(
    db: Database, entry_id: int, *, error: str = "410 Gone", node: str | None = None
) -> bool:
    """The webhook answered 410 Gone: never try this event again."""
    return await _finish(
        db, entry_id, "drop webhook event", OutboxState.DROPPED, node=node, error=error
    )


async def schedule_retry(
    db: Database,
    entry_id: int,
    *,
    next_attempt_at: datetime.datetime,
    error: str,
    node: str | None = None,
) -> bool:
    """A failed attempt: count it, remember why, release the claim until `next_attempt_at`."""
    async with db.transaction("schedule webhook retry") as connection:
        return await _retry_in(
            connection, entry_id, next_attempt_at=next_attempt_at, error=error, node=node
        )


def _retry_statement(*, with_node: bool) -> sa.Update:
    return (
        sa.update(webhook_outbox)
        .where(*_still_claimed(with_node=with_node))
        .values(
            attempts=webhook_outbox.c.attempts + 1,
            next_attempt_at=sa.bindparam("retry_at"),
            last_error=sa.bindparam("error"),
            claimed_by=None,
            claim_until=None,
        )
    )


#: Parameters `retry_at`, `error`, and `_still_claimed`'s.
_RETRY = _retry_statement(with_node=False)
_RETRY_CHECKING_NODE = _retry_statement(with_node=True)


async def _retry_in(
    connection: AsyncConnection,
    entry_id: int,
    *,
    next_attempt_at: datetime.datetime,
    error: str,
    node: str | None,
) -> bool:
    statement = _RETRY_CHECKING_NODE if node is not None else _RETRY
    params = _claim_params(entry_id, node)
    params.update(retry_at=next_attempt_at, error=error)
    result = await connection.execute(statement, params)
    return bool(result.rowcount == 1)


async def complete_incoming_event(
    db: Database,
    entry_id: int,
    *,
    reply: ReplyRequest | None,
    replies_per_peer_per_hour: int,
    node: str | None = None,
) -> ReplyResult:
    """The webhook accepted an `incoming_sms` event; queue its auto-reply in the same
    transaction, so a crash can neither lose the reply nor post the event again after it.

    The reply goes to the sender through the modem that received the message. When the peer
    already got `replies_per_peer_per_hour` auto-replies in the last hour (two bots
    ping-ponging through a paid SIM), the reply is recorded as suppressed instead.
    With `node`, an event another node has claimed since is left alone (`ALREADY_DONE`).
    """
    async with db.transaction("complete incoming webhook event") as connection:
        return await _complete_incoming_in(
            connection,
            db,
            entry_id,
            reply=reply,
            replies_per_peer_per_hour=replies_per_peer_per_hour,
            node=node,
        )


def _deliver_statement(*, with_node: bool) -> sa.Update:
    return (
        sa.update(webhook_outbox)
        .where(*_still_claimed(with_node=with_node))
        .values(
            state=OutboxState.DELIVERED.value,
            attempts=webhook_outbox.c.attempts + 1,
            delivered_at=sa.bindparam("now"),
            finished_at=sa.bindparam("now"),
            claimed_by=None,
            claim_until=None,
        )
        .returning(webhook_outbox.c.kind, webhook_outbox.c.message_pk, webhook_outbox.c.event_id)
    )


# `_complete_incoming_in`'s statements, built once (it runs for every incoming message).
#: Parameters `now` and `_still_claimed`'s.
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
        messages.c.reply_to_pk.is_not(None),
        messages.c.created_at > sa.bindparam("since"),
    )
)
_INSERT_SUPPRESSED_REPLY = sa.insert(suppressed_replies)


async def _complete_incoming_in(
    connection: AsyncConnection,
    db: Database,
    entry_id: int,
    *,
    reply: ReplyRequest | None,
    replies_per_peer_per_hour: int,
    node: str | None,
) -> ReplyResult:
    now = db.clock()
    # One conditional UPDATE ... RETURNING marks the event delivered and reads what the reply
    # needs; only when it matched nothing is the row read again, to tell "already finished"
    # (or taken over by another node) from "no such event".
    done = (
        await connection.execute(
            _DELIVER_CHECKING_NODE if node is not None else _DELIVER,
            {**_claim_params(entry_id, node), "now": now},
        )
    ).one_or_none()
    if done is None:
        exists = await connection.scalar(_EVENT_PK, {"entry_id": entry_id})
        if exists is None:
            raise StoreError(f"no webhook event {entry_id}")
        return ReplyResult(outcome=ReplyOutcome.ALREADY_DONE, message=None)
    if reply is None:
        return ReplyResult(outcome=ReplyOutcome.NO_REPLY, message=None)
    if done.kind != WebhookEventKind.INCOMING_SMS.value or done.message_pk is None:
        raise StoreError(f"webhook event {entry_id} is not an incoming_sms event")
    incoming = (await connection.execute(_REPLIED_MESSAGE, {"message_pk": done.message_pk})).one()
    recent = await connection.scalar(
        _RECENT_REPLIES, {"peer": incoming.peer, "since": now - datetime.timedelta(hours=1)}
    )
    if int(recent or 0) >= replies_per_peer_per_hour:
        await connection.execute(
            _INSERT_SUPPRESSED_REPLY,
            {
                "modem": incoming.modem,
                "peer": incoming.peer,
                "text": reply.text,
                "in_reply_to_pk": incoming.pk,
                "reason": f"{recent} auto-replies to this number in the last hour "
                f"(limit {replies_per_peer_per_hour})",
                "created_at": now,
            },
        )
        return ReplyResult(outcome=ReplyOutcome.SUPPRESSED, message=None)
    queued = await enqueue_in(
        connection,
        db,
        peer=incoming.peer,
        text=reply.text,
        parts=reply.parts,
        encoding=reply.encoding,
        modem=incoming.modem,
        delivery_report=reply.delivery_report,
        idempotency_key=f"auto-reply:{done.event_id}",
        reply_to_pk=int(incoming.pk),
        reply_to_id=str(incoming.id),
    )
    return ReplyResult(outcome=ReplyOutcome.QUEUED, message=queued.message)


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
                state=_PENDING,
                next_attempt_at=now,
                finished_at=None,
                claimed_by=None,
                claim_until=None,
            )
        )
        return bool(result.rowcount == 1)


async def outbox_counts(db: Database) -> dict[OutboxState, int]:
    """How many events are in each state (for metrics)."""
    async with db.transaction("count webhook events") as connection:
        rows = (
            await connection.execute(
                sa.select(webhook_outbox.c.state, sa.func.count()).group_by(webhook_outbox.c.state)
            )
        ).all()
    counts = dict.fromkeys(OutboxState, 0)
    for state, count in rows:
        counts[OutboxState(state)] = int(count)
    return counts


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """The event is done: `DELIVERED` (no auto-reply possible), `DEAD` or `DROPPED`."""

    entry_id: int
    state: OutboxState
    error: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RetryLater:
    """The attempt failed; the event stays pending until `next_attempt_at`."""

    entry_id: int
    next_attempt_at: datetime.datetime
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class IncomingDelivered:
    """An `incoming_sms` event was accepted; `reply` is its auto-reply (or None).

    With `claim`, the reply's modem worker is idle: when a reply is queued for `claim.modem`,
    that modem's next message (the reply, unless older ones wait) is claimed for it in the
    same transaction. That saves the worker's own claim transaction (a BEGIN/COMMIT and an
    fsync) between the webhook's answer and the `AT+CMGS`, and keeps the rule that a
    message is `sending`, and so reported `interrupted` after a crash, before it is sent.
    """

    entry_id: int
    reply: ReplyRequest | None
    claim: SendClaim | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class IncomingCompleted:
    """What `OutcomeRecorder.complete_incoming` did: the reply's fate, and the message claimed
    for `IncomingDelivered.claim` (None: nothing claimed; the worker claims as usual)."""

    result: ReplyResult
    claimed: MessageRecord | None


EventOutcome = Finished | RetryLater | IncomingDelivered


class OutcomeRecorder:
    """Records webhook outcomes for `node`, many per transaction (see the module docstring).

    Each method returns once its outcome is committed, with the same result as the matching
    single-call function (`False` / `ALREADY_DONE` when the event was no longer this node's).
    A batch that fails is retried one outcome at a time, so one bad outcome (an event that
    vanished, a reply to a status event) fails only its own caller.
    """

    def __init__(
        self,
        db: Database,
        *,
        node: str | None,
        replies_per_peer_per_hour: int,
        max_batch: int = 100,
    ) -> None:
        self._db = db
        self._node = node
        self._replies_per_hour = replies_per_peer_per_hour
        self.group: GroupCommit[EventOutcome, bool | IncomingCompleted] = GroupCommit(
            db, "record webhook outcomes", self._apply, max_batch=max_batch
        )

    async def _apply(
        self, connection: AsyncConnection, outcome: EventOutcome
    ) -> bool | IncomingCompleted:
        if isinstance(outcome, IncomingDelivered):
            result = await _complete_incoming_in(
                connection,
                self._db,
                outcome.entry_id,
                reply=outcome.reply,
                replies_per_peer_per_hour=self._replies_per_hour,
                node=self._node,
            )
            claimed = None
            claim, queued = outcome.claim, result.message
            if claim is not None and queued is not None and queued.modem == claim.modem:
                claimed = await claim_in(connection, self._db, claim)
            return IncomingCompleted(result, claimed)
        if isinstance(outcome, RetryLater):
            return await _retry_in(
                connection,
                outcome.entry_id,
                next_attempt_at=outcome.next_attempt_at,
                error=outcome.error,
                node=self._node,
            )
        return await _finish_in(
            connection,
            self._db,
            outcome.entry_id,
            outcome.state,
            node=self._node,
            error=outcome.error,
        )

    async def finish(self, outcome: Finished | RetryLater) -> bool:
        """Record a final state or a retry; False if the event was no longer ours/pending."""
        result = await self.group.submit(outcome)
        assert isinstance(result, bool)
        return result

    async def complete_incoming(
        self, entry_id: int, reply: ReplyRequest | None, *, claim: SendClaim | None = None
    ) -> IncomingCompleted:
        """`complete_incoming_event`, batched; with `claim`, see `IncomingDelivered`."""
        result = await self.group.submit(IncomingDelivered(entry_id, reply, claim))
        assert isinstance(result, IncomingCompleted)
        return result
