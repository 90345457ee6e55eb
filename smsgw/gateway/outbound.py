"""Outgoing queue: one worker per modem takes queued messages and sends them with TP-SRR.

Per message: `claim_next_outgoing` (→ `sending`, counted against the daily limit) → each part
goes to the modem and its TP-MR is recorded at once (`record_part_sent`, so a report that
arrives before the next part is accepted still matches) → `mark_sent`;
a `+CMS ERROR` → `mark_failed` with the cause, except a transient cause (network timeout, no
service, congestion, temporary failure: `smsgw.modem.reasons.TRANSIENT_CMS`), which sends
the part again with doubling pauses, up to `limits.send_retries` times, before it counts.
When the link died while a part was in the modem's hands (`SendFailed.uncertain`) the
message is failed as `interrupted`: it may have gone out, and repeating it silently could
double-send. A claimed message whose first part never reached the modem (it stopped being
READY right after the claim) is given back to the queue (`release_unsent_claim`), so another
READY modem, on any node, can send it; once a part is out, the rest wait for this modem
(they share its concatenation reference).

Auto-replies skip the claim transaction: while the worker is idle, the dispatcher may claim
the modem's next message in the same transaction that queues the reply (`reserve_send`, then
`hand_off`), so the webhook's answer reaches `AT+CMGS` after one commit instead of two. The
message is `sending` before it is handed over, as with the worker's own claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable

from smsgw import pdu
from smsgw.exceptions import ModemNotReady, PduError, SendFailed
from smsgw.gateway.render import render_status
from smsgw.modem import ModemState, ModemSupervisor
from smsgw.modem.reasons import is_transient_cms
from smsgw.store import Database, repository
from smsgw.store.types import MessageRecord, StatusTransition

log = logging.getLogger(__name__)

#: Safety-net re-check of the queue when nobody woke the worker (e.g. the UTC day rolled over
#: while the daily limit held sends back, or another node queued for this modem).
IDLE_POLL = 30.0
#: Pause after a database failure before trying again.
ERROR_PAUSE = 2.0
#: First pause before sending a part again after a transient +CMS ERROR; doubled each time.
RETRY_BACKOFF = 5.0


def failure_reason(error: SendFailed) -> str:
    """The short `error` of the `failed` sms_status: the +CMS cause when there is one."""
    if error.uncertain:
        return repository.INTERRUPTED
    if error.cms_code is not None:
        return f"+CMS ERROR: {error.cms_code}"
    return str(error)


class ModemWorker:
    """Sends this modem's queue, one message at a time, in order."""

    def __init__(
        self,
        db: Database,
        supervisor: ModemSupervisor,
        *,
        node: str,
        daily_limit: int | None,
        on_new_event: Callable[[], None],
        on_transition: Callable[[StatusTransition], None] = lambda _t: None,
        on_released: Callable[[MessageRecord], None] = lambda _m: None,
        idle_poll: float = IDLE_POLL,
        lease: datetime.timedelta = repository.DEFAULT_LEASE,
        send_retries: int = 3,
        retry_backoff: float = RETRY_BACKOFF,
    ) -> None:
        self._db = db
        self._supervisor = supervisor
        self.name = supervisor.modem_id
        self._node = node
        self._daily_limit = daily_limit
        self._on_new_event = on_new_event
        self._on_transition = on_transition
        self._on_released = on_released
        self._idle_poll = idle_poll
        self._lease = lease
        self._send_retries = send_retries
        self.retry_backoff = retry_backoff
        self._wakeup = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self._reserved = False
        self._handed_off: list[MessageRecord] = []

    def wake(self) -> None:
        """Something was queued for this modem (or any modem), or the modem became READY."""
        self._wakeup.set()

    def reserve_send(self) -> repository.SendClaim | None:
        """A claim another transaction may make for this worker, or None when the worker is
        busy, not READY, or already promised one. The caller must call `hand_off` after its
        transaction (also when it failed), with what it claimed."""
        if self._reserved or self._handed_off or not self.idle.is_set():
            return None
        if self._supervisor.state is not ModemState.READY:
            return None
        self._reserved = True
        return repository.SendClaim(
            modem=self.name, node=self._node, lease=self._lease, daily_limit=self._daily_limit
        )

    def hand_off(self, message: MessageRecord | None) -> None:
        """End a `reserve_send`: send `message` (claimed for this modem) next, at once."""
        self._reserved = False
        if message is not None:
            self._handed_off.append(message)
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                busy = await self.send_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: outgoing queue unavailable", self.name)
                await asyncio.sleep(ERROR_PAUSE)
                continue
            if not busy:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_poll):
                        await self._wakeup.wait()

    async def send_next(self) -> bool:
        """Claim and send one message; False when there was nothing to do (or not READY)."""
        if self._handed_off:
            # Already claimed for us; if the modem is no longer READY, `_send` gives it back.
            message: MessageRecord | None = self._handed_off.pop(0)
        elif self._supervisor.state is not ModemState.READY:
            return False
        else:
            message = await repository.claim_next_outgoing(
                self._db,
                modem=self.name,
                node=self._node,
                lease=self._lease,
                daily_limit=self._daily_limit,
            )
        if message is None:
            return False
        self.idle.clear()
        try:
            await self._send(message)
        finally:
            self.idle.set()
        return True

    async def _send(self, message: MessageRecord) -> None:
        try:
            parts = pdu.encode_submit(
                message.peer,
                message.text,
                srr=message.delivery_report,
                encoding=_encoding(message.encoding),
                validity=message.validity,
                flash=message.flash,
            )
        except PduError as error:
            await self._fail(message, f"cannot encode the message: {error}")
            return
        if len(parts) != message.parts:
            await self._fail(message, f"encoded into {len(parts)} parts, queued as {message.parts}")
            return
        references: list[int] = []
        for seq, part in enumerate(parts, start=1):
            if seq == 1 and await self._release_if_not_ready(message):
                return
            try:
                tp_mr = await self._send_part(message, part)
            except SendFailed as error:
                log.error("%s: message %s to %s, part %d/%d failed: %s", self.name, message.id,
                          message.peer, seq, len(parts), error)  # fmt: skip
                await self._fail(message, failure_reason(error))
                return
            except Exception:
                # Anything else after the part may have been written: report it, never guess.
                log.exception("%s: message %s, part %d/%d: unexpected failure while sending",
                              self.name, message.id, seq, len(parts))  # fmt: skip
                await self._fail(message, repository.INTERRUPTED)
                return
            # On record at once: a fast network reports a part before the next is accepted.
            await repository.record_part_sent(self._db, message.id, seq=seq, tp_mr=tp_mr)
            references.append(tp_mr)
        log.info(
            "%s: message %s to %s sent, TP-MR %s", self.name, message.id, message.peer, references
        )
        changes = await repository.mark_sent(self._db, message.id, render_status=render_status)
        self._announce(changes)

    async def _send_part(self, message: MessageRecord, part: pdu.EncodedPdu) -> int:
        """One part through the READY modem; its TP-MR. Waits while the modem is not READY:
        nothing was written then, so sending later (the remaining parts keep their
        concatenation reference) repeats nothing. A transient +CMS ERROR (the network did
        not accept the part, so nothing went out) is retried after a pause that doubles."""
        retries = 0
        while True:
            try:
                modem = self._supervisor.ready_modem()
            except ModemNotReady as error:
                log.warning("%s: %s; message %s waits", self.name, error, message.id)
                await self._wait_ready()
                continue
            try:
                (tp_mr,) = await modem.send_pdus([part])
            except SendFailed as error:
                if error.uncertain or not is_transient_cms(error.cms_code):
                    raise
                if retries >= self._send_retries:
                    raise
                pause = self.retry_backoff * 2**retries
                retries += 1
                log.warning("%s: message %s: %s; retry %d/%d in %g s", self.name, message.id,
                            error, retries, self._send_retries, pause)  # fmt: skip
                await asyncio.sleep(pause)
                continue
            return tp_mr

    async def _release_if_not_ready(self, message: MessageRecord) -> bool:
        """Nothing of `message` reached the modem and the modem is not READY: give it back."""
        if self._supervisor.state is ModemState.READY:
            return False
        reason = f"modem {self.name} is {self._supervisor.state.value}"
        if not await repository.release_unsent_claim(
            self._db, message.id, node=self._node, reason=reason
        ):
            return False
        log.warning("%s: %s; message %s queued again for another modem", self.name, reason,
                    message.id)  # fmt: skip
        self._on_released(message)
        return True

    async def _fail(self, message: MessageRecord, reason: str) -> None:
        changes = await repository.mark_failed(
            self._db, message.id, error=reason, render_status=render_status
        )
        self._announce(changes)

    async def _wait_ready(self) -> None:
        await self._supervisor.wait_state(ModemState.READY)

    def _announce(self, changes: list[StatusTransition]) -> None:
        for change in changes:
            self._on_transition(change)
        if changes:
            self._on_new_event()


def _encoding(stored: str | None) -> pdu.Encoding | None:
    """The alphabet chosen at enqueue time, so the parts sent are the parts counted."""
    if stored == "gsm7":
        return "gsm7"
    if stored == "ucs2":
        return "ucs2"
    if stored == "8bit":
        return "8bit"
    return None
