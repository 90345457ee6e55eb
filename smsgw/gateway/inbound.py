"""Incoming SMS: modem part → store (with its webhook event) → only then off the SIM.

`Inbound.on_message` is awaited by the modem layer; returning normally is what allows the
modem to delete the entry from its storage, so it returns only after the part (and, when it
completes a message, the message and its `incoming_sms` event) is committed. Any failure
propagates: the entry stays on the SIM and the next sweep offers it again, and the store's
unique key on (modem, sender, SMSC time, concat ref/seq) makes that second offer harmless.

Parts go through a `GroupCommit`: the modem layer keeps several sinks in flight during a
burst, and the parts submitted while one transaction commits share the next one, so a burst
pays one fsync per batch instead of one per SMS. Each `on_message` still returns only after
its own part is committed, and announces (wakes the dispatcher, counts) only after that.

With a `DirectPost`, a part is stored with a claim on its message's event for this node's
dispatcher (when the dispatcher has room and nothing of that sender is in flight): the event
is handed to the dispatcher the moment the commit returns, so the POST does not wait for the
dispatcher to wake up and claim it in a second transaction (a second fsync).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from smsgw import pdu
from smsgw.models import OutboxEntry
from smsgw.modem.events import MessageReceived
from smsgw.store import Database, repository
from smsgw.store.group_commit import GroupCommit
from smsgw.store.types import (
    ClaimingPart,
    EventClaim,
    IncomingEventFactory,
    IncomingPart,
    PartStored,
    ReceivedMessage,
)

log = logging.getLogger(__name__)

#: How long the parts of a multipart message are waited for before it is delivered with the
#: missing parts marked: long enough for a slow SMSC, short enough that a lost part
#: does not hide the rest of the message for good (`reassembly_timeout`, default 10 min).
REASSEMBLY_TIMEOUT = datetime.timedelta(minutes=10)


def incoming_part(event: MessageReceived) -> IncomingPart:
    """The store's view of one received part (8-bit data becomes hex text, it has no text)."""
    message: pdu.Deliver = event.message
    text = message.text if message.text is not None else (message.data or b"").hex()
    concat = message.concat
    if message.truncated:
        log.warning(
            "%s: part from %s is truncated (TP-UDL longer than the PDU); stored as read",
            event.modem_id,
            message.number,
        )
    return IncomingPart(
        modem=event.modem_id,
        sender=message.number,
        smsc_timestamp=message.scts,
        text=text,
        encoding=message.encoding,
        concat_ref=concat.ref if concat is not None else None,
        concat_total=concat.total if concat is not None else 1,
        concat_seq=concat.seq if concat is not None else 1,
        storage_index=event.index,
    )


#: Keeps a part the store cannot take aside (`Quarantine.keep`): modem, raw PDU, why, storage
#: and index. Returning normally lets the modem delete the entry.
UnusablePartSink = Callable[[str, str, str, str | None, int | None], Awaitable[None]]


class EventHandover(Protocol):
    """The dispatcher's side of a direct hand-over (`smsgw.webhook.WebhookDispatcher`)."""

    def reserve(self, peer: str) -> bool: ...

    def hand_over(self, peer: str, entry: OutboxEntry | None) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class DirectPost:
    """New messages' events go to `dispatcher` straight from their commit, claimed with
    `claim` (this node, the outbox's lease)."""

    dispatcher: EventHandover
    claim: EventClaim


def _hand_over(dispatcher: EventHandover, peer: str, future: asyncio.Future[PartStored]) -> None:
    """Done-callback of a claiming part: runs even if the modem's sink was cancelled while
    the commit was under way, so a claimed event is never left waiting for its lease."""
    stored = None if future.cancelled() or future.exception() is not None else future.result()
    dispatcher.hand_over(peer, None if stored is None else stored.claimed)


class Inbound:
    """Stores received parts and delivers timed-out incomplete messages."""

    def __init__(
        self,
        db: Database,
        *,
        render: IncomingEventFactory,
        history_size: int,
        on_new_event: Callable[[], None],
        on_received: Callable[[ReceivedMessage], None] = lambda _message: None,
        reassembly_timeout: datetime.timedelta = REASSEMBLY_TIMEOUT,
        after_stored: Callable[[ReceivedMessage], Awaitable[None]] | None = None,
        on_unusable: UnusablePartSink | None = None,
        direct: DirectPost | None = None,
        on_handed_over: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_new_event` wakes the event sinks; after a direct hand-over `on_handed_over`
        is called instead (it wakes the other sinks: the webhook dispatcher has the event)."""
        self._db = db
        self._on_unusable = on_unusable
        self._render = render
        self._history_size = history_size
        self._on_new_event = on_new_event
        self._on_received = on_received
        self._after_stored = after_stored
        self._direct = direct
        self._on_handed_over = on_handed_over
        self.reassembly_timeout = reassembly_timeout
        #: Parts submitted while a commit runs share the next transaction (tests read its
        #: `batches`/`items`).
        self.commits: GroupCommit[IncomingPart | ClaimingPart, PartStored] = (
            repository.incoming_part_committer(db, render=render, history_size=history_size)
        )

    async def on_message(self, event: MessageReceived) -> None:
        """Commit the part; raise (keeping it on the SIM) if that is impossible."""
        try:
            part = incoming_part(event)
        except ValueError as error:
            # A part the store cannot key (no sender, bad concat header) would be offered for
            # ever: it is quarantined like an undecodable PDU (then deleted), or, without a
            # quarantine, left on the SIM for the operator.
            if self._on_unusable is None:
                log.error("%s: unusable incoming part left in storage: %s", event.modem_id, error)
                raise
            await self._on_unusable(
                event.modem_id, event.pdu_hex, f"unusable part: {error}", event.storage, event.index
            )
            return
        try:
            stored = await asyncio.shield(self._commit(part))
        except Exception:
            if event.storage is None:
                # Routed straight to us (+CMT), not on the SIM: nothing will offer it again.
                log.error("%s: SMS from %s routed without storage could not be stored: lost",
                          part.modem, part.sender)  # fmt: skip
            raise
        if not stored.is_new:
            log.info(
                "%s: part from %s seen again (SIM re-read), already stored",
                part.modem,
                part.sender,
            )
        if stored.message is not None:
            self._announce(stored.message, handed_over=stored.claimed is not None)
            await self._follow_up(stored.message)

    def _commit(self, part: IncomingPart) -> asyncio.Future[PartStored]:
        direct = self._direct
        if direct is None or not direct.dispatcher.reserve(part.sender):
            return self.commits.enqueue(part)
        future = self.commits.enqueue(ClaimingPart(part, direct.claim))
        future.add_done_callback(functools.partial(_hand_over, direct.dispatcher, part.sender))
        return future

    async def deliver_timed_out(self) -> int:
        """Deliver incomplete messages older than the reassembly timeout; how many."""
        messages = await repository.deliver_timed_out_parts(
            self._db,
            older_than=self.reassembly_timeout,
            render=self._render,
            history_size=self._history_size,
        )
        for message in messages:
            log.warning(
                "%s: message from %s delivered incomplete after %s; missing parts %s",
                message.modem,
                message.peer,
                self.reassembly_timeout,
                list(message.missing_parts),
            )
            self._announce(message)
            await self._follow_up(message)
        return len(messages)

    async def run_timeouts(self, interval: float) -> None:
        """Background loop: check for timed-out reassemblies every `interval` seconds."""
        while True:
            try:
                await self.deliver_timed_out()
            except Exception:
                log.exception("reassembly timeout check failed; retrying in %gs", interval)
            await asyncio.sleep(interval)

    async def _follow_up(self, message: ReceivedMessage) -> None:
        """What the gateway does itself with a stored message (opt-out keywords). The message
        is committed already: a failure here is logged, never a reason to read it again."""
        if self._after_stored is None:
            return
        try:
            await self._after_stored(message)
        except Exception:
            log.exception("%s: message %s stored, but acting on it failed", message.modem,
                          message.id)  # fmt: skip

    def _announce(self, message: ReceivedMessage, *, handed_over: bool = False) -> None:
        log.info(
            "%s: SMS %s from %s (%d part(s)) stored",
            message.modem,
            message.id,
            message.peer,
            message.parts,
        )
        self._on_received(message)
        if handed_over:
            self._on_handed_over()
        else:
            self._on_new_event()
