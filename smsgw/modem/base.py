"""The generic 27.005/27.007 modem: initialisation, health, sending and the inbound switch.

Dialects (:mod:`smsgw.modem.sim800`, :mod:`smsgw.modem.huawei`) subclass :class:`Modem`
and override class attributes or small hook methods only (`before_sim`, `is_reboot_urc`);
anything not overridden is the standards behaviour. A ``Modem`` drives an already-open
:class:`~smsgw.at.channel.AtChannel` and never opens or reopens ports: that is the
supervisor's job.

Where things live: the one-command questions (identity, signal, ``smsgw modem info``) are in
:class:`~smsgw.modem.queries.ModemQueries`, which ``Modem`` extends; everything the modem
announces by itself (new messages, reports, registration, reboot banners) is read by the
modem's :class:`~smsgw.modem.inbound.InboundReader`, started by `start_events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from smsgw import pdu
from smsgw.at import commands as cmd
from smsgw.at.channel import AtChannel
from smsgw.at.fields import split_fields, strip_prefix
from smsgw.at.messages import parse_cmgs
from smsgw.at.parser import Urc
from smsgw.at.storage import parse_cpms_set, parse_cpms_support
from smsgw.at.value_lists import CnmiSupport, parse_cnmi_support
from smsgw.exceptions import (
    AtCommandError,
    AtConnectionLost,
    AtError,
    AtResponseError,
    CmeError,
    CmsError,
    PduError,
    SendFailed,
    SimError,
)
from smsgw.modem.calls import CallWatcher, hang_up_with
from smsgw.modem.inbound import InboundReader
from smsgw.modem.queries import ModemQueries
from smsgw.modem.reasons import cms_reason
from smsgw.modem.ussd import UssdClient
from smsgw.modem.values import (
    Cnmi,
    EventSink,
    Identity,
    ModemInfo,
    ModemSettings,
    StoredMessage,
    discard_events,
)

__all__ = [
    "EventSink",
    "Identity",
    "Modem",
    "ModemInfo",
    "ModemSettings",
    "StoredMessage",
    "discard_events",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# +CMS/+CME codes meaning "the SMS part of the firmware is not up yet, ask again soon"
# (SIM800 before "SMS Ready"; SIM busy right after PIN entry).
_NOT_YET_CMS = frozenset({302, 310, 313, 314, 500})
_NOT_YET_CME = frozenset({3, 14, 515, 100})


class Modem(ModemQueries):
    """A generic 27.005/27.007 modem in PDU mode; see the module docstring."""

    #: CNMI settings tried in order, each only if ``AT+CNMI=?`` lists its values.
    cnmi_candidates: tuple[Cnmi, ...] = (
        (2, 1, 0, 2, 0),
        (2, 1, 0, 1, 0),
        (1, 1, 0, 2, 0),
        (1, 1, 0, 1, 0),
        (2, 1, 0, 0, 0),
        (1, 1, 0, 0, 0),
    )
    #: Message storage, in order of preference, picked from ``AT+CPMS=?``.
    storage_preference: tuple[str, ...] = ("SM", "ME", "MT")
    #: URC names that mean the module (re)booted (PROTOCOL.md §2.1, §2.3).
    reboot_urcs: frozenset[str] = frozenset({"RDY", "SMS Ready", "Call Ready", "^SYSSTART"})
    #: USSD requests and answers as packed GSM-7 hex (Huawei ^USSDMODE=1, §3.3.8).
    ussd_packed = False
    #: Reject a call with ``AT+CHUP`` (27.007; ``ATH`` if refused), else with ``ATH``.
    hang_up_with_chup = True

    def __init__(
        self,
        channel: AtChannel,
        *,
        modem_id: str = "modem",
        sink: EventSink | None = None,
        settings: ModemSettings | None = None,
    ) -> None:
        super().__init__(channel, modem_id=modem_id)
        self.sink: EventSink = sink or discard_events
        self.settings = settings or ModemSettings()
        self.storage: str | None = None
        self.cnmi: Cnmi | None = None
        self.reboot_detected = asyncio.Event()
        self._reboot_reason = ""
        self._cnma_needed: bool | None = None
        #: ``AT+CSMS=1`` accepted: routed ``+CMT``/``+CDS`` wait for our ``AT+CNMA``, and an
        #: unacknowledged one goes back to the network, which offers it again later.
        self.acknowledges_routed = False
        self._echoes_after_init = 0
        self.inbound = InboundReader(self)
        self.ussd = UssdClient(self)
        self.calls = CallWatcher(self)

    def start_events(self) -> None:
        """Listen for URCs and start the inbound worker (idempotent)."""
        self.inbound.start()
        self.ussd.start()
        self.calls.start()

    async def close(self) -> None:
        """Stop listening; does not close the channel."""
        self.ussd.stop()
        await self.calls.stop()
        await self.inbound.stop()

    async def restart_radio(self, *, pause: float = 2.0) -> None:
        """``AT+CFUN=0`` then ``AT+CFUN=1``: the radio off and on again, which re-attaches a
        module stuck off the network without resetting it (SMS settings survive)."""
        await self.run(cmd.functionality(0))
        await asyncio.sleep(pause)
        await self.run(cmd.functionality(1))
        self.last_registration = None  # unknown until the network answers again

    async def hang_up(self) -> None:
        """Reject the call that is ringing (``AT+CHUP`` or ``ATH``, per dialect)."""
        await hang_up_with(self, chup=self.hang_up_with_chup)

    @property
    def reboot_reason(self) -> str:
        return self._reboot_reason

    # ------------------------------------------------------------------ initialisation
    async def initialise(self) -> None:
        """PROTOCOL.md §4: echo off, numeric errors, SIM, PDU mode, storage, indications.

        Raises :class:`~smsgw.exceptions.SimError` for SIM problems (a rejected PIN is
        entered exactly once) and :class:`~smsgw.exceptions.ModemError` otherwise.
        """
        self.initialised = False
        self.reboot_detected.clear()
        await self.run(cmd.echo(False))
        await self.run(cmd.error_mode(1))
        await self.before_sim()
        await self.unlock_sim()
        await self._until_ready(lambda: self.run(cmd.message_format(False)))
        await self._until_ready(self.select_storage)
        await self.select_indications()
        with contextlib.suppress(AtCommandError, CmeError, CmsError):
            await self.run(cmd.registration_reports(1))
        with contextlib.suppress(AtCommandError, CmeError, CmsError):
            await self.run(cmd.caller_id(True))  # +CLIP after each RING names the caller
        with contextlib.suppress(AtCommandError, CmeError, CmsError, AtResponseError):
            await self.registration()  # from here on +CREG URCs keep it current
        self.own_number = await self.read_own_number()
        self.initialised = True
        self._echoes_after_init = self.channel.echoes
        self.start_events()

    async def before_sim(self) -> None:
        """Dialect hook run right after ``ATE0``/``AT+CMEE=1`` (Huawei: ``AT^CURC=0``)."""

    async def unlock_sim(self) -> None:
        state = await self._until_ready(self.sim_state)
        if state == "READY":
            return
        if state == "SIM PIN":
            pin = self.settings.pin
            if pin is None:
                raise SimError("the SIM asks for a PIN and none is configured", retryable=False)
            try:
                await self.run(cmd.pin_enter(pin))
            except CmeError as exc:
                raise SimError(
                    f"the SIM rejected the configured PIN ({exc}); not retried, "
                    "fix the PIN before the SIM locks",
                    retryable=False,
                ) from exc
            state = await self._until_ready(self._sim_ready_after_pin)
            if state == "READY":
                return
        if state == "NOT INSERTED":
            raise SimError("no SIM card inserted", retryable=True)
        raise SimError(f"the SIM is not usable: {state}", retryable=False)

    async def _sim_ready_after_pin(self) -> str:
        state = await self.sim_state()
        if state == "SIM PIN":
            raise CmeError(14, "SIM busy")  # still settling: _until_ready asks again
        return state

    async def select_storage(self) -> None:
        """Pick the receive storage from ``AT+CPMS=?`` and select it for all three memories."""
        supported: tuple[tuple[str, ...], ...] = ()
        with contextlib.suppress(AtCommandError, CmeError, CmsError, AtResponseError):
            supported = parse_cpms_support((await self.run(cmd.storage_support())).first("+CPMS"))
        storage = self.settings.storage or self._preferred_storage(supported)
        self.storage = storage
        reply = await self.run(cmd.storage_select(storage, storage, storage))
        with contextlib.suppress(AtResponseError):
            uses = parse_cpms_set(reply.first("+CPMS"))
            log.info(
                "%s: storage %s: %d/%d used", self.modem_id, storage, uses[0].used, uses[0].total
            )

    def _preferred_storage(self, supported: tuple[tuple[str, ...], ...]) -> str:
        if not supported:
            return self.storage_preference[0]
        first = supported[0]
        for name in self.storage_preference:
            if name in first:
                return name
        return first[0] if first else self.storage_preference[0]

    async def select_indications(self) -> None:
        """Choose ``AT+CNMI`` from ``AT+CNMI=?`` and this dialect's candidates (§3.3, §2.10)."""
        support: CnmiSupport | None = None
        with contextlib.suppress(AtCommandError, CmeError, CmsError, AtResponseError):
            support = parse_cnmi_support((await self.run(cmd.indication_support())).first("+CNMI"))
        candidates = [
            c
            for c in self.cnmi_candidates
            if (support is None or support.allows(*c))
            and (self.settings.request_status_reports or c[3] == 0)
        ]
        if any(c[1] in (2, 3) or c[3] == 1 for c in candidates):
            await self._ask_for_acknowledgements()
        for candidate in candidates:
            try:
                await self.run(cmd.indications(*candidate))
            except (AtCommandError, CmeError, CmsError) as exc:
                log.info("%s: AT+CNMI=%s refused: %s", self.modem_id, candidate, exc)
                continue
            self.cnmi = candidate
            return
        self.cnmi = None
        log.warning(
            "%s: no new-message indication accepted; relying on storage sweeps", self.modem_id
        )

    async def _ask_for_acknowledgements(self) -> None:
        """``AT+CSMS=1`` (27.005 §3.2.1, phase 2+) before routing PDUs directly: the modem
        then holds each ``+CMT``/``+CDS`` until ``AT+CNMA``, which is sent only after the
        sink returned (the report is committed). A report routed while smsgw is down or
        failing is refused to the network instead of being lost, and offered again later
        (§3.4.4). Without it (refused), the modem acknowledges by itself: that report is lost.
        """
        try:
            await self.run(cmd.message_service(1))
        except (AtCommandError, CmeError, CmsError) as exc:
            log.info(
                "%s: AT+CSMS=1 refused (%s): a status report routed while smsgw is not "
                "listening is lost",
                self.modem_id,
                exc,
            )
            return
        self.acknowledges_routed = True
        self._cnma_needed = True

    async def _until_ready(self, action: Callable[[], Awaitable[_T]]) -> _T:
        """Retry ``action`` while the modem says "not yet" (SIM busy, SMS not ready)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.ready_timeout
        while True:
            try:
                return await action()
            except (CmsError, CmeError) as exc:
                codes = _NOT_YET_CMS if isinstance(exc, CmsError) else _NOT_YET_CME
                if exc.code not in codes or loop.time() >= deadline:
                    raise
            except AtCommandError:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(self.settings.retry_pause)

    # ------------------------------------------------------------------ health and reboots
    async def health_check(self, *, within: float = cmd.DEFAULT_TIMEOUT) -> None:
        """One command that also notices a silent reboot: ``AT+CNMI?`` must still show what
        we set (a reset firmware is back to its defaults). Sets :attr:`reboot_detected`."""
        query = cmd.attention() if self.cnmi is None else cmd.indication_query()
        reply = await self.run(dataclasses.replace(query, timeout=within))
        if self.cnmi is None:
            return
        if self.channel.echoes > self._echoes_after_init:
            self.note_reboot("settings lost (command echo is back on)")
            return
        with contextlib.suppress(AtResponseError):
            fields = split_fields(strip_prefix(reply.first("+CNMI"), "+CNMI"))
            current = tuple(int(f) for f in fields[:5] if f.isascii() and f.isdigit())
            if current and current != self.cnmi[: len(current)]:
                self.note_reboot(f"settings lost (AT+CNMI? -> {','.join(map(str, current))})")

    def is_reboot_urc(self, urc: Urc) -> bool:
        """Dialect hook: does this URC mean the module has just booted?"""
        return urc.name in self.reboot_urcs or (urc.name == "+CFUN" and urc.args == "1")

    def note_reboot(self, reason: str) -> None:
        """Record that the module reset by itself; the supervisor, waiting on
        :attr:`reboot_detected`, emits ``RebootDetected`` and initialises it again."""
        if not self.initialised or self.reboot_detected.is_set():
            return
        log.warning("%s: reboot detected (%s)", self.modem_id, reason)
        self._reboot_reason = reason
        self.reboot_detected.set()

    # ------------------------------------------------------------------ sending
    async def send_sms(
        self,
        number: str,
        text: str,
        *,
        srr: bool | None = None,
        validity: timedelta | datetime | None = None,
        flash: bool = False,
        encoding: pdu.Encoding | None = None,
    ) -> list[int]:
        """Send every part of ``text``; returns the TP-MR of each part, in order.

        ``srr`` defaults to ``settings.request_status_reports``. Errors raise
        :class:`~smsgw.exceptions.SendFailed` with the references already accepted.
        """
        request = self.settings.request_status_reports if srr is None else srr
        try:
            parts = pdu.encode_submit(
                number, text, srr=request, validity=validity, flash=flash, encoding=encoding
            )
        except PduError as exc:
            raise SendFailed(f"cannot encode the message: {exc}", parts=0) from exc
        return await self.send_pdus(parts)

    async def send_pdus(self, parts: Sequence[pdu.EncodedPdu]) -> list[int]:
        references: list[int] = []
        for number, part in enumerate(parts, start=1):
            where = f"part {number}/{len(parts)}"
            try:
                reply = await self.run(cmd.send_pdu(part.hex, part.tpdu_length))
                references.append(parse_cmgs(reply.first("+CMGS")))
            except CmsError as exc:
                raise SendFailed(
                    f"{where} refused: {cms_reason(exc.code, exc.text)}",
                    parts=len(parts),
                    references=tuple(references),
                    cms_code=exc.code,
                ) from exc
            except (AtConnectionLost, AtError, AtResponseError) as exc:
                # The PDU may have reached the network: say so instead of guessing.
                raise SendFailed(
                    f"{where}: outcome unknown ({exc})",
                    parts=len(parts),
                    references=tuple(references),
                    uncertain=not isinstance(exc, AtCommandError | CmeError),
                ) from exc
        return references

    # ------------------------------------------------------------------ inbound
    async def sweep(self) -> int:
        """Offer every stored DELIVER / STATUS-REPORT to the sink, deleting each after its
        sink returned; see :meth:`InboundReader.sweep`. Returns how many were handed over."""
        return await self.inbound.sweep()

    async def acknowledge_routed(self) -> None:
        """``AT+CNMA`` after a routed PDU, unless the modem said it does not expect one."""
        if self._cnma_needed is False:
            return
        try:
            await self.run(cmd.acknowledge())
            self._cnma_needed = True
        except (CmsError, AtCommandError) as exc:
            if self.acknowledges_routed:
                # Too late (the modem gave up waiting): the network offers it again, and
                # applying a report or part twice is harmless. Keep acknowledging.
                log.warning("%s: AT+CNMA refused (%s); it will come again", self.modem_id, exc)
                return
            log.debug("%s: AT+CNMA not expected (%s)", self.modem_id, exc)
            self._cnma_needed = False
