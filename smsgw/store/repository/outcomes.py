"""Webhook outcomes in bulk: what the dispatcher learned from each POST, many per commit.

`OutcomeRecorder` records each outcome (delivered with its auto-reply, retry, dead letter, 410)
through a `GroupCommit`, so the answers of a burst share a few transactions (one fsync each)
instead of one each; every caller still returns only after its own outcome is committed, which
is what keeps a peer's next event unclaimed until then.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools

import sqlalchemy as sa

from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.group_commit import GroupCommit
from smsgw.store.repository.outbox import claim_params, still_claimed
from smsgw.store.repository.queueing import SendClaim, claim_in
from smsgw.store.repository.replies import complete_incoming_in
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import MessageRecord, OutboxState, ReplyRequest, ReplyResult


@functools.cache
def _finish_statement(*, with_node: bool, delivered: bool, with_error: bool) -> sa.Update:
    """`_finish_in`'s UPDATE, built once per variant; parameters `new_state`, `now` (and
    `error`) besides `still_claimed`'s. Without `with_error`, `last_error` is left as is."""
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
    return sa.update(webhook_outbox).where(*still_claimed(with_node=with_node)).values(values)


async def _finish_in(
    connection: Connection,
    db: Database,
    entry_id: int,
    state: OutboxState,
    *,
    node: str | None,
    error: str | None = None,
) -> bool:
    """Put the event in its final `state`, counting the attempt; False if it was no longer
    pending (or, with `node`, claimed by another node since)."""
    statement = _finish_statement(
        with_node=node is not None,
        delivered=state is OutboxState.DELIVERED,
        with_error=error is not None,
    )
    params = claim_params(entry_id, node)
    params.update(new_state=state.value, now=db.clock())
    if error is not None:
        params["error"] = error
    result = await connection.execute(statement, params)
    return bool(result.rowcount == 1)


def _retry_statement(*, with_node: bool) -> sa.Update:
    return (
        sa.update(webhook_outbox)
        .where(*still_claimed(with_node=with_node))
        .values(
            attempts=webhook_outbox.c.attempts + 1,
            next_attempt_at=sa.bindparam("retry_at"),
            last_error=sa.bindparam("error"),
            claimed_by=None,
            claim_until=None,
        )
    )


#: Parameters `retry_at`, `error`, and `still_claimed`'s.
_RETRY = _retry_statement(with_node=False)
_RETRY_CHECKING_NODE = _retry_statement(with_node=True)


async def _retry_in(
    connection: Connection,
    entry_id: int,
    *,
    next_attempt_at: datetime.datetime,
    error: str,
    node: str | None,
) -> bool:
    """A failed attempt: count it, remember why, release the claim until `next_attempt_at`."""
    statement = _RETRY_CHECKING_NODE if node is not None else _RETRY
    params = claim_params(entry_id, node)
    params.update(retry_at=next_attempt_at, error=error)
    result = await connection.execute(statement, params)
    return bool(result.rowcount == 1)


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

    Each method returns once its outcome is committed (`False` / `ALREADY_DONE` when the event
    was no longer this node's, or no longer pending).
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
        self, connection: Connection, outcome: EventOutcome
    ) -> bool | IncomingCompleted:
        if isinstance(outcome, IncomingDelivered):
            result = await complete_incoming_in(
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
        """The webhook accepted an `incoming_sms` event: mark it delivered and queue its
        auto-reply (`reply`) in the same transaction (`replies.complete_incoming_in`), so a
        crash can neither lose the reply nor post the event again after it. With `claim`, see
        `IncomingDelivered`."""
        result = await self.group.submit(IncomingDelivered(entry_id, reply, claim))
        assert isinstance(result, IncomingCompleted)
        return result
