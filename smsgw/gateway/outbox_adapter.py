"""The webhook dispatcher's `Outbox` Protocol over the store's outbox functions.

Claims are one store transaction each. Outcomes (`complete`, `retry_later`, `dead_letter`,
`drop`) go through the store's `OutcomeRecorder`: those arriving together (a burst of webhook
answers) share one transaction, and each call still returns only after its own outcome is
committed. `complete` of an `incoming_sms` event queues the webhook's auto-reply in the same
transaction (cut to `limits.max_parts` at a part boundary, subject to the per-peer hourly loop
protection), so a crash can neither lose the reply nor post the event again after the reply was
queued. When that modem's worker is idle, the reply is also claimed for it in that transaction
and handed over, which saves a second commit before `AT+CMGS` (see `smsgw.gateway.outbound`).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Sequence, Set

from smsgw import pdu
from smsgw.exceptions import PduError
from smsgw.gateway import telemetry
from smsgw.gateway.outbound import ModemWorker
from smsgw.models import OutboxEntry
from smsgw.store import Database, repository
from smsgw.store.types import EventClaim, MessageRecord, OutboxState, ReplyOutcome, ReplyRequest

log = logging.getLogger(__name__)

#: Default for how long a claim may stay unfinished before another dispatcher may take the
#: event (the daemon passes `node.lease`, same default).
MIN_CLAIM_LEASE = datetime.timedelta(minutes=2)


def cut_reply(text: str, max_parts: int) -> tuple[ReplyRequest, bool]:
    """The reply as it will be sent: at most `max_parts` parts, cut at a part boundary.

    Returns the request and whether it was cut. The alphabet is fixed here and reused when
    sending, so the parts counted are the parts sent even if the cut removed every character
    that needed UCS-2.
    """
    # Bound the work (and the codec's 255-part ceiling) before splitting: no part holds
    # more than 160 characters.
    candidate = text[: max_parts * 160]
    try:
        encoding, parts = pdu.split_text(candidate)
    except PduError:
        candidate = text[: max_parts * 33]  # astral UCS-2: 33 characters per part at worst
        encoding, parts = pdu.split_text(candidate)
    cut = len(parts) > max_parts or len(candidate) < len(text)
    kept = parts[:max_parts]
    return ReplyRequest(text="".join(kept), parts=len(kept), encoding=encoding), cut


class StoreOutbox:
    """`smsgw.webhook.Outbox` backed by the database; `node` names this process's claims.

    Every finishing call passes `node`: when this node's lease ran out and another node took
    the event over, the late result is ignored instead of releasing the other node's claim.
    """

    def __init__(
        self,
        db: Database,
        *,
        node: str,
        max_parts: int,
        replies_per_peer_per_hour: int,
        webhook_timeout: float = 10.0,
        lease: datetime.timedelta = MIN_CLAIM_LEASE,
        on_reply_queued: Callable[[MessageRecord], None] = lambda _message: None,
        worker_for: Callable[[str], ModemWorker | None] = lambda _modem: None,
        is_keyword: Callable[[str], bool] = lambda _text: False,
    ) -> None:
        self._db = db
        self._node = node
        self._max_parts = max_parts
        self._replies_per_hour = replies_per_peer_per_hour
        # `lease` is the node's (`node.lease`): how long other nodes wait before posting what
        # a silent node had claimed; never shorter than three webhook timeouts, so a slow but
        # live POST is not doubled.
        self._lease = max(lease, datetime.timedelta(seconds=3 * webhook_timeout))
        self._on_reply_queued = on_reply_queued
        self._worker_for = worker_for
        self._is_keyword = is_keyword
        self.outcomes = repository.OutcomeRecorder(
            db, node=node, replies_per_peer_per_hour=replies_per_peer_per_hour
        )

    @property
    def event_claim(self) -> EventClaim:
        """A claim for this node with the lease its own claims take, for events claimed in
        the transaction that creates them (`smsgw.gateway.inbound.DirectPost`)."""
        return EventClaim(node=self._node, lease=self._lease)

    async def claim_due(
        self, now: datetime.datetime, *, exclude_peers: Set[str], limit: int
    ) -> Sequence[OutboxEntry]:
        # `now` is the dispatcher's clock; the store reads the same clock (the daemon gives
        # both one), so it is not passed twice.
        del now
        return await repository.claim_due_events(
            self._db, node=self._node, limit=limit, lease=self._lease, exclude_peers=exclude_peers
        )

    async def next_due_at(self, *, exclude_peers: Set[str]) -> datetime.datetime | None:
        return await repository.next_event_due_at(self._db, exclude_peers=exclude_peers)

    async def complete(self, entry: OutboxEntry, http_status: int, reply_text: str | None) -> None:
        if not entry.kind.can_reply:
            if reply_text is not None:
                log.warning("event %s is %s: reply ignored", entry.event_id, entry.kind.value)
            await self.outcomes.finish(repository.Finished(entry.id, OutboxState.DELIVERED))
            return
        reply = None
        if reply_text is not None and self._is_keyword(_incoming_text(entry)):
            log.info(
                "auto-reply to %s (event %s) not sent: the message was an opt-out keyword, "
                "answered by its confirmation",
                entry.peer,
                entry.event_id,
            )
            reply_text = None
        if reply_text is not None:
            reply, cut = cut_reply(reply_text, self._max_parts)
            if cut:
                log.warning(
                    "auto-reply to %s (event %s) cut to %d part(s) (limits.max_parts): "
                    "%d of %d characters kept",
                    entry.peer,
                    entry.event_id,
                    reply.parts,
                    len(reply.text),
                    len(reply_text),
                )
        worker = self._idle_worker(entry) if reply is not None else None
        claim = worker.reserve_send() if worker is not None else None
        claimed = None
        try:
            completed = await self.outcomes.complete_incoming(entry.id, reply, claim=claim)
            claimed, result = completed.claimed, completed.result
        finally:
            if worker is not None and claim is not None:
                worker.hand_off(claimed)
        if result.outcome is ReplyOutcome.SUPPRESSED:
            log.warning(
                "auto-reply to %s suppressed: limits.replies_per_peer_per_hour (%d) reached",
                entry.peer,
                self._replies_per_hour,
            )
        elif result.outcome is ReplyOutcome.OPTED_OUT:
            log.warning(
                "auto-reply to %s (event %s) dropped: the number is on the opt-out list",
                entry.peer,
                entry.event_id,
            )
            telemetry.optout_refused("reply")
        elif result.outcome is ReplyOutcome.QUEUED and result.message is not None:
            self._on_reply_queued(result.message)

    def _idle_worker(self, entry: OutboxEntry) -> ModemWorker | None:
        """The worker of the modem the reply will leave through (the one that received the
        message, which the entry carries), so the reply can be claimed for it at once."""
        return None if entry.modem is None else self._worker_for(entry.modem)

    async def retry_later(
        self, entry: OutboxEntry, next_attempt_at: datetime.datetime, error: str
    ) -> None:
        await self.outcomes.finish(repository.RetryLater(entry.id, next_attempt_at, error))

    async def dead_letter(self, entry: OutboxEntry, error: str) -> None:
        await self.outcomes.finish(repository.Finished(entry.id, OutboxState.DEAD, error))

    async def drop(self, entry: OutboxEntry, reason: str) -> None:
        await self.outcomes.finish(repository.Finished(entry.id, OutboxState.DROPPED, reason))


def _incoming_text(entry: OutboxEntry) -> str:
    """The text of the incoming SMS an `incoming_sms` event carries (our own JSON)."""
    try:
        body = json.loads(entry.body)
    except ValueError:
        return ""
    text = body.get("message") if isinstance(body, dict) else None
    return text if isinstance(text, str) else ""
