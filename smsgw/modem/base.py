"""The generic 27.005/27.007 modem: initialisation, SMS operations and URC handling.

Dialects (:mod:`smsgw.modem.sim800`, :mod:`smsgw.modem.huawei`) subclass :class:`Modem`
and override class attributes or small hook methods only; anything not overridden is the
standards behaviour. A ``Modem`` drives an already-open :class:`~smsgw.at.channel.AtChannel`
and never opens or reopens ports: that is the supervisor's job.

Inbound flow (one worker task, so events leave in arrival order):

* ``+CMTI: <mem>,<i>`` / ``+CDSI: <mem>,<i>`` -> ``AT+CMGR=<i>`` -> event -> the sink ->
  ``AT+CMGD=<i>`` once the sink returned. Two AT commands per received part (bench target).
  Pipelined (:class:`_Window`): while several indications are queued, the next entry is read
  while the sinks of earlier ones (the store's commits) are still running, up to
  :data:`SINK_WINDOW` of them; each entry is deleted only after *its* sink returned, in
  arrival order. Serially, line time and commit time add up; pipelined they overlap, and
  the store can commit the parts that arrive together in one transaction.
* ``+CMT``/``+CDS`` (PDU routed directly) -> event -> ``AT+CNMA`` when the modem expects it.
* ``+CREG`` -> :class:`RegistrationChanged`; boot banners -> :class:`RebootDetected`.
* :meth:`Modem.sweep` (``AT+CMGL=4``) offers every stored DELIVER / STATUS-REPORT the same
  way, so messages whose URC was lost, or that arrived while we were down, are not left
  behind; stored SUBMITs are reported, not deleted.

Storage indexes are always the ones the modem reported (``+CMTI``, ``+CMGL``), never
computed, so zero- and one-based firmwares behave the same (PROTOCOL.md §3.3.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from smsgw import pdu
from smsgw.at import commands as cmd
from smsgw.at import responses as resp
from smsgw.at.channel import AtChannel, Reply
from smsgw.at.parser import Urc
from smsgw.exceptions import (
    AtCommandError,
    AtConnectionLost,
    AtError,
    AtResponseError,
    CmeError,
    CmsError,
    ModemError,
    PduError,
    SendFailed,
    SimError,
)
from smsgw.modem.events import (
    MessageReceived,
    ModemEvent,
    RegistrationChanged,
    StatusReportReceived,
    StorageAlmostFull,
    StoredSubmitFound,
    UndecodablePdu,
)
from smsgw.modem.reasons import cms_reason

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

EventSink = Callable[[ModemEvent], Awaitable[None]]
_T = TypeVar("_T")
Cnmi = tuple[int, int, int, int, int]

# +CMS/+CME codes meaning "the SMS part of the firmware is not up yet, ask again soon"
# (SIM800 before "SMS Ready"; SIM busy right after PIN entry).
_NOT_YET_CMS = frozenset({302, 310, 313, 314, 500})
_NOT_YET_CME = frozenset({3, 14, 515, 100})
_INVALID_INDEX = frozenset({321})
_INDEX = re.compile(r"^[0-9]{1,5}$")

#: Sinks in flight at most while a burst is read (see :class:`_Window`). Big enough that
#: the store's group commit gets full batches, small enough that an unplug leaves little to
#: re-read (re-reads are recognised as duplicates anyway).
SINK_WINDOW = 48


async def discard_events(event: ModemEvent) -> None:
    """The default sink: log and drop (used by `smsgw modem info`)."""
    log.debug("event without a consumer: %r", event)


@dataclass(frozen=True)
class ModemSettings:
    """Behaviour knobs; the defaults are what a gateway wants."""

    pin: str | None = None
    storage: str | None = None
    """Force a message storage (``"SM"``, ``"ME"``); default: the dialect's preference."""
    request_status_reports: bool = True
    ready_timeout: float = 20.0
    """How long to keep asking while the SIM / SMS service is still starting."""
    retry_pause: float = 0.5


@dataclass(frozen=True)
class Identity:
    manufacturer: str
    model: str
    revision: str | None = None
    imei: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """One entry of modem storage; ``message`` is None when the PDU did not decode."""

    storage: str
    index: int
    stat: int | None
    pdu_hex: str
    message: pdu.Pdu | None
    error: str | None = None


@dataclass(frozen=True)
class ModemInfo:
    """Everything ``smsgw modem info`` prints; fields are None when the modem would not say."""

    dialect: str
    identity: Identity
    sim: str | None
    operator: str | None
    signal_dbm: int | None
    signal_rssi: int | None
    registration: str | None
    storage: list[resp.StorageUse]
    storage_support: tuple[tuple[str, ...], ...]
    cnmi_support: str | None
    service_center: str | None
    own_number: str | None = None

    def as_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["storage"] = [dataclasses.asdict(s) for s in self.storage]
        return data


@dataclass
class _Work:
    kind: str  # "stored", "routed", "registration"
    name: str = ""
    storage: str | None = None
    index: int | None = None
    text: str = ""


class Modem:
    """A generic 27.005/27.007 modem in PDU mode; see the module docstring."""

    dialect = "generic"
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

    def __init__(
        self,
        channel: AtChannel,
        *,
        modem_id: str = "modem",
        sink: EventSink | None = None,
        settings: ModemSettings | None = None,
    ) -> None:
        self.channel = channel
        self.modem_id = modem_id
        self.sink: EventSink = sink or discard_events
        self.settings = settings or ModemSettings()
        self.identity: Identity | None = None
        #: The SIM's own number (``AT+CNUM`` at initialisation); None when it stores none.
        self.own_number: str | None = None
        self.storage: str | None = None
        self.cnmi: Cnmi | None = None
        self.reboot_detected = asyncio.Event()
        self._reboot_reason = ""
        self._queue: deque[_Work] = deque()
        self._queued = asyncio.Event()
        #: Sinks started by a `_Window`, kept referenced until done: they outlive a cancelled
        #: worker (unplug) and finish their commit on their own.
        self._running_sinks: set[asyncio.Task[bool]] = set()
        #: Read-then-delete sequences by index (sweep, +CMTI) take turns: see `sweep`.
        self._storage_turn = asyncio.Lock()
        self._worker: asyncio.Task[None] | None = None
        self._remove_handler: Callable[[], None] | None = None
        self._cnma_needed: bool | None = None
        #: ``AT+CSMS=1`` accepted: routed ``+CMT``/``+CDS`` wait for our ``AT+CNMA``, and an
        #: unacknowledged one goes back to the network, which offers it again later.
        self.acknowledges_routed = False
        self._initialised = False
        self._echoes_after_init = 0

    # ------------------------------------------------------------------ plumbing
    async def run(self, command: cmd.Command) -> Reply:
        return await self.channel.execute(command)

    def start_events(self) -> None:
        """Listen for URCs and start the inbound worker (idempotent)."""
        if self._remove_handler is None:
            self._remove_handler = self.channel.add_urc_handler(self._on_urc)
        if self._worker is None:
            self._worker = asyncio.create_task(self._work_loop(), name=f"{self.modem_id} inbound")

    async def close(self) -> None:
        """Stop listening; does not close the channel."""
        if self._remove_handler is not None:
            self._remove_handler()
            self._remove_handler = None
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    @property
    def reboot_reason(self) -> str:
        return self._reboot_reason

    # ------------------------------------------------------------------ probing
    async def probe(self, *, within: float = 10.0, interval: float = 0.5) -> None:
        """Send ``AT`` until it answers ``OK`` (autobauding SIM800 sends no banner, §2.2).

        From the second attempt on, ESC goes first: a modem that does not answer may still
        sit in the ``AT+CMGS`` prompt of a process killed mid-send (``kill -9``, power cut of
        the host only), and would otherwise never answer again.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quick = dataclasses.replace(cmd.attention(), timeout=max(0.2, min(1.0, within)))
        first = True
        while True:
            if not first:
                await self.channel.escape()
            first = False
            try:
                await self.run(quick)
                return
            except (AtCommandError, CmeError, CmsError):
                return  # it answered; a firmware that says ERROR to AT is still alive
            except AtError as exc:
                if isinstance(exc, AtConnectionLost) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(interval)

    async def identify(self) -> Identity:
        """``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN``; only the first two are required."""
        maker = resp.parse_identity(list((await self.run(cmd.manufacturer())).lines), "+CGMI")
        model = resp.parse_identity(list((await self.run(cmd.model())).lines), "+CGMM")
        revision = await self._optional_identity(cmd.revision(), "+CGMR")
        imei = await self._optional_identity(cmd.imei(), "+CGSN")
        self.identity = Identity(maker, model, revision, imei)
        return self.identity

    async def _optional_identity(self, command: cmd.Command, prefix: str) -> str | None:
        try:
            return resp.parse_identity(list((await self.run(command)).lines), prefix)
        except (AtCommandError, CmeError, CmsError, AtResponseError):
            return None

    # ------------------------------------------------------------------ initialisation
    async def initialise(self) -> None:
        """PROTOCOL.md §4: echo off, numeric errors, SIM, PDU mode, storage, indications.

        Raises :class:`~smsgw.exceptions.SimError` for SIM problems (a rejected PIN is
        entered exactly once) and :class:`~smsgw.exceptions.ModemError` otherwise.
        """
        self._initialised = False
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
        self.own_number = await self.read_own_number()
        self._initialised = True
        self._echoes_after_init = self.channel.echoes
        self.start_events()

    async def before_sim(self) -> None:
        """Dialect hook run right after ``ATE0``/``AT+CMEE=1`` (Huawei: ``AT^CURC=0``)."""

    async def sim_state(self) -> str:
        try:
            reply = await self.run(cmd.pin_query())
        except CmeError as exc:
            if exc.code == 10:
                return "NOT INSERTED"
            raise
        return resp.parse_cpin(reply.first("+CPIN"))

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
            supported = resp.parse_cpms_support(
                (await self.run(cmd.storage_support())).first("+CPMS")
            )
        storage = self.settings.storage or self._preferred_storage(supported)
        self.storage = storage
        reply = await self.run(cmd.storage_select(storage, storage, storage))
        with contextlib.suppress(AtResponseError):
            uses = resp.parse_cpms_set(reply.first("+CPMS"))
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
        support: resp.CnmiSupport | None = None
        with contextlib.suppress(AtCommandError, CmeError, CmsError, AtResponseError):
            support = resp.parse_cnmi_support(
                (await self.run(cmd.indication_support())).first("+CNMI")
            )
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

    # ------------------------------------------------------------------ queries
    async def signal(self) -> resp.Signal:
        return resp.parse_csq((await self.run(cmd.signal_quality())).first("+CSQ"))

    async def registration(self) -> resp.Registration:
        line = (await self.run(cmd.registration_query())).first("+CREG")
        return resp.parse_creg(line, solicited=True)

    async def operator(self) -> resp.Operator:
        return resp.parse_cops((await self.run(cmd.operator_query())).first("+COPS"))

    async def storage_use(self) -> list[resp.StorageUse]:
        return resp.parse_cpms_query((await self.run(cmd.storage_query())).first("+CPMS"))

    async def read_own_number(self) -> str | None:
        """The SIM's number via ``AT+CNUM``; None when the SIM stores none, the firmware does
        not know the command, or its answer makes no sense (logged: never fatal)."""
        try:
            return resp.parse_cnum((await self.run(cmd.subscriber_number())).lines)
        except (AtCommandError, CmeError, CmsError) as exc:
            log.debug("%s: no own number: %s", self.modem_id, exc)
        except AtResponseError as exc:
            log.warning("%s: ignoring an unreadable AT+CNUM answer: %s", self.modem_id, exc)
        return None

    async def service_center(self) -> str | None:
        return resp.parse_csca((await self.run(cmd.service_center_query())).first("+CSCA"))

    async def info(self) -> ModemInfo:
        """Collect what ``smsgw modem info`` shows; each query may fail on its own."""
        identity = self.identity or await self.identify()
        support_line = await self._optional(lambda: self._first(cmd.storage_support(), "+CPMS"))
        cnmi_line = await self._optional(lambda: self._first(cmd.indication_support(), "+CNMI"))
        smsc = await self._optional(self.service_center)
        own_number = self.own_number if self._initialised else await self.read_own_number()
        static = ModemInfo(
            dialect=self.dialect,
            identity=identity,
            sim=None,
            operator=None,
            signal_dbm=None,
            signal_rssi=None,
            registration=None,
            storage=[],
            storage_support=resp.parse_cpms_support(support_line) if support_line else (),
            cnmi_support=resp.strip_prefix(cnmi_line, "+CNMI") if cnmi_line else None,
            service_center=smsc,
            own_number=own_number,
        )
        return await self.refresh_info(static)

    async def refresh_info(self, previous: ModemInfo) -> ModemInfo:
        """`previous` with what changes while the modem runs read again: SIM state, operator,
        signal, registration and storage use (5 commands instead of `info`'s 8).

        The gateway refreshes every minute for the API, the UI's signal graph and the
        metrics; identity, supported storages and indications, SMSC and own number do not
        change without a reconnect (which reads them afresh), so re-asking would only make
        the idle serial line busier.
        """
        sim = await self._optional(self.sim_state)
        operator = await self._optional(self.operator)
        signal = await self._optional(self.signal)
        registration = await self._optional(self.registration)
        storage = await self._optional(self.storage_use) or []
        return dataclasses.replace(
            previous,
            sim=sim,
            operator=operator.name if operator else None,
            signal_dbm=signal.dbm if signal else None,
            signal_rssi=signal.rssi if signal else None,
            registration=registration.description if registration else None,
            storage=storage,
        )

    async def _optional(self, query: Callable[[], Awaitable[_T]]) -> _T | None:
        """The answer to one informational query, or None when the modem refuses it."""
        try:
            return await query()
        except (AtCommandError, CmeError, CmsError, AtResponseError) as exc:
            log.debug("%s: %s", self.modem_id, exc)
            return None

    async def _first(self, command: cmd.Command, prefix: str) -> str:
        return (await self.run(command)).first(prefix)

    async def health_check(self, *, within: float = cmd.DEFAULT_TIMEOUT) -> None:
        """One command that also notices a silent reboot: ``AT+CNMI?`` must still show what
        we set (a reset firmware is back to its defaults). Sets :attr:`reboot_detected`."""
        query = cmd.attention() if self.cnmi is None else cmd.indication_query()
        reply = await self.run(dataclasses.replace(query, timeout=within))
        if self.cnmi is None:
            return
        if self.channel.echoes > self._echoes_after_init:
            self._note_reboot("settings lost (command echo is back on)")
            return
        with contextlib.suppress(AtResponseError):
            fields = resp.split_fields(resp.strip_prefix(reply.first("+CNMI"), "+CNMI"))
            current = tuple(int(f) for f in fields[:5] if f.isascii() and f.isdigit())
            if current and current != self.cnmi[: len(current)]:
                self._note_reboot(f"settings lost (AT+CNMI? -> {','.join(map(str, current))})")

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
                references.append(resp.parse_cmgs(reply.first("+CMGS")))
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

    # ------------------------------------------------------------------ storage
    async def read(self, index: int) -> StoredMessage:
        """``AT+CMGR=<index>`` in the current storage."""
        reply = await self.run(cmd.read_message(index))
        header = resp.parse_cmgr_header(reply.first("+CMGR"))
        position = next(i for i, ln in enumerate(reply.lines) if ln.upper().startswith("+CMGR"))
        body = reply.lines[position + 1 : position + 2]
        if not body:
            raise AtResponseError("+CMGR PDU line", " | ".join(reply.lines))
        return self._stored(self.storage or "?", index, header.stat, body[0])

    async def list_stored(self) -> list[StoredMessage]:
        """``AT+CMGL=4``: everything in the current storage (DELIVER, SUBMIT, REPORT)."""
        reply = await self.run(cmd.list_messages(4))
        entries: list[StoredMessage] = []
        header: resp.ListedMessage | None = None
        for line in reply.lines:
            if line.upper().startswith("+CMGL"):
                try:
                    header = resp.parse_cmgl_header(line)
                except AtResponseError as exc:
                    log.warning("%s: %s", self.modem_id, exc)
                    header = None
            elif header is not None:
                entries.append(self._stored(self.storage or "?", header.index, header.stat, line))
                header = None
        return entries

    def _stored(self, storage: str, index: int, stat: int | None, pdu_hex: str) -> StoredMessage:
        try:
            return StoredMessage(storage, index, stat, pdu_hex, pdu.decode(pdu_hex))
        except PduError as exc:
            return StoredMessage(storage, index, stat, pdu_hex, None, str(exc))

    async def delete(self, index: int) -> None:
        await self.run(cmd.delete_message(index))

    async def sweep(self) -> int:
        """Offer every stored DELIVER / STATUS-REPORT to the sink (then delete it).

        Returns how many entries were handed over. Called at start and periodically.
        Holds the storage turn for the whole pass: a +CMTI handler running alongside could
        otherwise delete index k after this sweep freed it and the SIM reused it for a new
        SMS (deleted unread: lost); the listing stays valid because nothing else deletes.
        """
        handed = 0
        async with self._storage_turn:
            window = _Window(self)
            for entry in await self.list_stored():
                if await window.offer(entry):
                    handed += 1
            await window.drain()
        await self._check_storage_use()
        return handed

    async def _check_storage_use(self) -> None:
        with contextlib.suppress(AtError, AtResponseError):
            for use in (await self.storage_use())[:1]:
                if use.total and use.used * 5 >= use.total * 4:
                    await self.sink(
                        StorageAlmostFull(self.modem_id, use.memory or "?", use.used, use.total)
                    )

    async def _offer(self, entry: StoredMessage) -> bool:
        """Hand a stored entry to the sink; delete it once the sink returned."""
        message = entry.message
        event: ModemEvent
        if message is None:
            event = UndecodablePdu(
                self.modem_id, entry.pdu_hex, entry.error or "?", entry.storage, entry.index
            )
            await self.sink(event)
            return False
        if isinstance(message, pdu.Submit):
            await self.sink(StoredSubmitFound(self.modem_id, message, entry.storage, entry.index))
            return False
        if isinstance(message, pdu.Deliver):
            event = MessageReceived(
                self.modem_id, message, entry.pdu_hex, entry.storage, entry.index
            )
        else:
            event = StatusReportReceived(
                self.modem_id, message, entry.pdu_hex, entry.storage, entry.index
            )
        if not await self._deliver(event):
            return False
        await self._delete_offered(entry)
        return True

    async def _deliver(self, event: ModemEvent) -> bool:
        """Await the sink; False (and the entry stays in storage) when it raised.

        The sink is shielded: when the port vanishes the worker is cancelled, and a sink
        cancelled half-way through its commit would abandon the database transaction with
        SQLite's write lock held (every other writer then waits out the busy timeout, which
        the unplug fault test saw as a 5 s READY). It finishes on its own instead; no delete
        follows, so the entry stays on the SIM and its re-read is recognised as a duplicate.
        """
        try:
            await asyncio.shield(self.sink(event))
        except Exception:
            log.exception("%s: event sink failed; entry left in storage", self.modem_id)
            return False
        return True

    def _start_sink(self, event: ModemEvent) -> asyncio.Task[bool]:
        """Run `_deliver(event)` as a task of its own (a `_Window`'s sink in flight).

        Being a separate task is what shields it: cancelling the worker does not cancel it,
        and `_running_sinks` keeps it referenced until it has finished.
        """
        task = asyncio.create_task(self._deliver(event), name=f"{self.modem_id} sink")
        self._running_sinks.add(task)
        task.add_done_callback(self._sink_finished)
        return task

    def _sink_finished(self, task: asyncio.Task[bool]) -> None:
        self._running_sinks.discard(task)
        self._queued.set()  # wakes `_read_stored_burst` waiting for "a sink or an indication"

    @staticmethod
    def take_message(entry: StoredMessage) -> pdu.Deliver | None:
        """The entry's SMS-DELIVER, if that is what it holds (what `_Window` pipelines)."""
        return entry.message if isinstance(entry.message, pdu.Deliver) else None

    async def _delete_offered(self, entry: StoredMessage) -> None:
        """``AT+CMGD`` of an entry whose sink returned; an index already gone is fine."""
        try:
            await self.delete(entry.index)
        except CmsError as exc:
            if exc.code not in _INVALID_INDEX:
                raise

    # ------------------------------------------------------------------ URCs
    def _on_urc(self, urc: Urc) -> None:
        """Runs inside the channel's reader: classify and queue, never block."""
        if urc.name in ("+CMTI", "+CDSI"):
            fields = resp.split_fields(urc.args)
            if len(fields) < 2 or not _INDEX.match(fields[-1]):
                log.warning("%s: unusable %s", self.modem_id, urc.line)
                return
            index = int(fields[-1])
            storage = fields[0].strip('" ') or None
            self._put(_Work("stored", urc.name, storage, index))
        elif urc.name in ("+CMT", "+CDS") and urc.pdu is not None:
            self._put(_Work("routed", urc.name, text=urc.pdu))
        elif urc.name == "+CREG":
            self._put(_Work("registration", text=urc.line))
        elif self.is_reboot_urc(urc):
            self._note_reboot(urc.line)

    def _put(self, work: _Work) -> None:
        self._queue.append(work)
        self._queued.set()

    def is_reboot_urc(self, urc: Urc) -> bool:
        """Dialect hook: does this URC mean the module has just booted?"""
        return urc.name in self.reboot_urcs or (urc.name == "+CFUN" and urc.args == "1")

    def _note_reboot(self, reason: str) -> None:
        if not self._initialised or self.reboot_detected.is_set():
            return
        log.warning("%s: reboot detected (%s)", self.modem_id, reason)
        self._reboot_reason = reason
        self.reboot_detected.set()  # the supervisor emits RebootDetected and re-initialises

    async def _next_work(self) -> _Work:
        while not self._queue:
            self._queued.clear()
            await self._queued.wait()
        return self._queue.popleft()

    async def _work_loop(self) -> None:
        while True:
            work = await self._next_work()
            try:
                if work.kind == "stored":
                    assert work.index is not None
                    await self._read_stored_burst(work.storage, work.index)
                else:
                    await self._handle(work)
            except AtConnectionLost:
                return  # the supervisor sees the loss too and restarts everything
            except (AtError, ModemError, AtResponseError) as exc:
                log.warning("%s: could not handle %s: %s", self.modem_id, work, exc)
            except Exception:  # a sink bug must not stop inbound processing
                log.exception("%s: event sink failed on %s", self.modem_id, work)

    async def _handle(self, work: _Work) -> None:
        """Work other than stored-message indications (those go to `_read_stored_burst`)."""
        if work.kind == "routed":
            await self._routed(work.name, work.text)
        elif work.kind == "registration":
            registration = resp.parse_creg(work.text)
            await self.sink(RegistrationChanged(self.modem_id, registration))

    async def _read_stored_burst(self, storage: str | None, index: int) -> None:
        """Read this indication's entry and every stored-message indication queued behind
        it, the sinks pipelined in a :class:`_Window`; return once all are settled.

        Holds the storage turn throughout (never interleaved with a sweep). An entry in
        another storage (Huawei's "SR" for ``+CDSI``) is read the serial way, after the
        window is drained, since ``AT+CMGD`` acts on the currently selected storage. Other
        work (``+CMT``, ``+CREG``) waits until the burst is settled, so events still leave in
        arrival order.
        """
        async with self._storage_turn:
            window = _Window(self)
            try:
                while True:
                    if storage is not None and self.storage is not None and storage != self.storage:
                        await window.drain()
                        await self._read_stored_now(storage, index)
                    else:
                        await self._read_into(window, storage, index)
                    # Nothing to read: delete what got committed, until an indication comes.
                    while not window.empty and not self._stored_work_queued():
                        if window.head_done:
                            await window.settle_head()
                        else:
                            self._queued.clear()
                            await self._queued.wait()  # a sink finished or a URC came
                    if not self._stored_work_queued():
                        break
                    work = self._queue.popleft()
                    assert work.index is not None
                    storage, index = work.storage, work.index
                await window.drain()
            except AtConnectionLost:
                raise  # sinks in flight finish on their own; nothing more is deleted
            except (AtError, ModemError, AtResponseError):
                await window.drain()  # the entries already committed still go
                raise

    def _stored_work_queued(self) -> bool:
        return bool(self._queue) and self._queue[0].kind == "stored"

    async def _read_into(self, window: _Window, storage: str | None, index: int) -> None:
        """``AT+CMGR=<index>`` in the current storage and hand the entry to `window`."""
        if window.holds(index):
            # The SIM announced an index whose earlier entry is not deleted yet (a repeated
            # indication). Deleting that one first makes this read see what the index holds
            # *now*, and keeps one read per delete (else a later delete could hit a new SMS).
            await window.drain()
        entry = await self._read_announced(storage, index)
        if entry is not None:
            await window.offer(entry)

    async def _read_announced(self, storage: str | None, index: int) -> StoredMessage | None:
        """Read the entry a URC announced; None when it is already gone (deleted meanwhile,
        e.g. by a sweep that saw it first)."""
        try:
            entry = await self.read(index)
        except CmsError as exc:
            if exc.code in _INVALID_INDEX:
                log.debug("%s: index %d already gone", self.modem_id, index)
                return None
            raise
        return entry if storage is None else dataclasses.replace(entry, storage=storage)

    async def _read_stored_now(self, storage: str | None, index: int) -> None:
        switched = storage is not None and storage != self.storage and self.storage is not None
        if switched:
            assert storage is not None
            await self.run(cmd.storage_select(storage))
        try:
            entry = await self._read_announced(storage, index)
            if entry is not None:
                await self._offer(entry)
        finally:
            if switched and self.storage is not None:
                await self.run(cmd.storage_select(self.storage))

    async def _routed(self, name: str, pdu_hex: str) -> None:
        event: ModemEvent
        try:
            message = pdu.decode(pdu_hex)
        except PduError as exc:
            event = UndecodablePdu(self.modem_id, pdu_hex, str(exc))
        else:
            if isinstance(message, pdu.Deliver):
                event = MessageReceived(self.modem_id, message, pdu_hex)
            elif isinstance(message, pdu.StatusReport):
                event = StatusReportReceived(self.modem_id, message, pdu_hex)
            else:
                event = UndecodablePdu(self.modem_id, pdu_hex, f"unexpected SUBMIT in {name}")
        await self.sink(event)
        await self._acknowledge()

    async def _acknowledge(self) -> None:
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


class _Window:
    """Sinks in flight for entries of the current storage, deleted in order once committed.

    `offer` starts the entry's sink as a task (see `Modem._start_sink`) and returns at once,
    so the caller can read the next entry while the store commits; when :data:`SINK_WINDOW`
    sinks are pending it first settles the oldest. `settle_head` waits for the oldest sink
    and deletes its entry only if that sink returned normally: a failed sink leaves exactly
    its own entry on the SIM. Deletes happen in offer order, one per read, and only for
    indexes this window read: the reused-index hazard of `Modem.sweep` cannot arise from
    here. If the owner is cancelled (unplug), the pending sinks finish on their own and
    nothing more is deleted; their entries are re-read later and recognised as duplicates.
    """

    def __init__(self, modem: Modem, limit: int = SINK_WINDOW) -> None:
        self._modem = modem
        self._limit = limit
        self._pending: deque[tuple[StoredMessage, asyncio.Task[bool]]] = deque()

    @property
    def empty(self) -> bool:
        return not self._pending

    @property
    def head_done(self) -> bool:
        """The oldest sink has finished (`settle_head` will not wait)."""
        return bool(self._pending) and self._pending[0][1].done()

    def holds(self, index: int) -> bool:
        return any(entry.index == index for entry, _ in self._pending)

    async def offer(self, entry: StoredMessage) -> bool:
        """Like `Modem._offer`, pipelined for received messages: True when the entry's sink
        was started (or, for a status report, returned and the entry was deleted).

        Status reports, undecodable entries and stored SUBMITs take the serial path: reports
        are rare, and two reports for one outgoing message must be applied in order.
        """
        message = self._modem.take_message(entry)
        if message is None:
            return await self._modem._offer(entry)
        while len(self._pending) >= self._limit:
            await self.settle_head()
        event = MessageReceived(
            self._modem.modem_id, message, entry.pdu_hex, entry.storage, entry.index
        )
        self._pending.append((entry, self._modem._start_sink(event)))
        await self.settle_done()
        return True

    async def settle_done(self) -> None:
        """Delete the entries at the head whose sinks already finished, without waiting."""
        while self.head_done:
            await self.settle_head()

    async def settle_head(self) -> None:
        """Wait for the oldest sink; delete its entry if the sink returned normally."""
        entry, task = self._pending[0]
        await asyncio.wait({task})  # not `await task`: cancelling us must not cancel it
        self._pending.popleft()
        if not task.cancelled() and task.result():
            await self._modem._delete_offered(entry)

    async def drain(self) -> None:
        while self._pending:
            await self.settle_head()
