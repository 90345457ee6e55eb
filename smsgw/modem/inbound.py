"""The inbound pipeline: from unsolicited result codes to events, in arrival order.

One worker task per modem takes the typed work items (:mod:`smsgw.modem.work`) the URC
handler queued, so events leave in the order the modem announced them:

* ``+CMTI: <mem>,<i>`` / ``+CDSI: <mem>,<i>`` -> ``AT+CMGR=<i>`` -> event -> the sink ->
  ``AT+CMGD=<i>`` once the sink returned. Two AT commands per received part. While several
  indications are queued they are read as a burst through a
  :class:`~smsgw.modem.handover.SinkWindow`: the next entry is read while the sinks of the
  earlier ones (the store's commits) still run, and each entry is deleted only after *its*
  sink returned, in arrival order.
* ``+CMT``/``+CDS`` (PDU routed directly) -> event -> ``AT+CNMA`` when the modem expects it.
* ``+CREG`` -> :class:`~smsgw.modem.events.RegistrationChanged`; boot banners make the
  modem note a reboot (the supervisor re-initialises).
* :meth:`InboundReader.sweep` (``AT+CMGL=4``) offers every stored DELIVER / STATUS-REPORT
  the same way, so messages whose URC was lost, or that arrived while we were down, are not
  left behind; stored SUBMITs are reported, not deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from smsgw import pdu
from smsgw.at.network import parse_creg
from smsgw.at.parser import Urc
from smsgw.exceptions import AtConnectionLost, AtError, AtResponseError, ModemError, PduError
from smsgw.modem.entries import StoredEntries
from smsgw.modem.events import (
    MessageReceived,
    ModemEvent,
    RegistrationChanged,
    StatusReportReceived,
    StorageAlmostFull,
    UndecodablePdu,
)
from smsgw.modem.handover import EntryHandover, SinkWindow
from smsgw.modem.work import (
    ROUTED_PDUS,
    STORED_INDICATIONS,
    RegistrationReport,
    RoutedPdu,
    StoredIndication,
    Work,
)

if TYPE_CHECKING:
    from smsgw.modem.base import Modem

__all__ = ["InboundReader"]

log = logging.getLogger(__name__)


class InboundReader:
    """Reads what the modem announces and hands it to the modem's sink; see the module doc."""

    def __init__(self, modem: Modem) -> None:
        self._modem = modem
        self.modem_id = modem.modem_id
        self.entries = StoredEntries(modem)
        self._handover = EntryHandover(modem.modem_id, modem.sink, self.entries, self._wake)
        self._queue: deque[Work] = deque()
        self._queued = asyncio.Event()
        #: Read-then-delete sequences by index (sweep, +CMTI) take turns: see `sweep`.
        self._storage_turn = asyncio.Lock()
        self._worker: asyncio.Task[None] | None = None
        self._remove_handler: Callable[[], None] | None = None

    def start(self) -> None:
        """Listen for URCs and start the worker (idempotent)."""
        if self._remove_handler is None:
            self._remove_handler = self._modem.channel.add_urc_handler(self.on_urc)
        if self._worker is None:
            self._worker = asyncio.create_task(self._work_loop(), name=f"{self.modem_id} inbound")

    async def stop(self) -> None:
        """Stop listening and cancel the worker; sinks in flight finish on their own."""
        if self._remove_handler is not None:
            self._remove_handler()
            self._remove_handler = None
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    # ------------------------------------------------------------------ URCs
    def on_urc(self, urc: Urc) -> None:
        """Runs inside the channel's reader: classify and queue, never block."""
        work: Work
        if urc.name in STORED_INDICATIONS:
            indication = StoredIndication.from_urc(urc)
            if indication is None:
                log.warning("%s: unusable %s", self.modem_id, urc.line)
                return
            work = indication
        elif urc.name in ROUTED_PDUS and urc.pdu is not None:
            work = RoutedPdu(urc.name, urc.pdu)
        elif urc.name == "+CREG":
            work = RegistrationReport(urc.line)
        else:
            if self._modem.is_reboot_urc(urc):
                self._modem.note_reboot(urc.line)
            return
        self._queue.append(work)
        self._wake()

    def _wake(self) -> None:
        """A URC was queued or a pipelined sink finished: the worker has something to do."""
        self._queued.set()

    async def _next_work(self) -> Work:
        while not self._queue:
            self._queued.clear()
            await self._queued.wait()
        return self._queue.popleft()

    async def _work_loop(self) -> None:
        while True:
            work = await self._next_work()
            try:
                match work:
                    case StoredIndication():
                        await self._read_stored_burst(work)
                    case RoutedPdu():
                        await self._routed(work)
                    case RegistrationReport():
                        registration = parse_creg(work.line)
                        self._modem.last_registration = registration
                        await self._modem.sink(RegistrationChanged(self.modem_id, registration))
            except AtConnectionLost:
                return  # the supervisor sees the loss too and restarts everything
            except (AtError, ModemError, AtResponseError) as exc:
                log.warning("%s: could not handle %s: %s", self.modem_id, work, exc)
            except Exception:  # a sink bug must not stop inbound processing
                log.exception("%s: event sink failed on %s", self.modem_id, work)

    # ------------------------------------------------------------------ stored entries
    async def _read_stored_burst(self, first: StoredIndication) -> None:
        """Read this indication's entry and every stored-message indication queued behind
        it, the sinks pipelined in a :class:`SinkWindow`; return once all are settled.

        Holds the storage turn throughout (never interleaved with a sweep). An entry in
        another storage (Huawei's "SR" for ``+CDSI``) is read the serial way, after the
        window is drained, since ``AT+CMGD`` acts on the currently selected storage. Other
        work (``+CMT``, ``+CREG``) waits until the burst is settled, so events still leave in
        arrival order.
        """
        async with self._storage_turn:
            window = SinkWindow(self._handover)
            indication = first
            try:
                while True:
                    if self.entries.is_elsewhere(indication.storage):
                        await window.drain()
                        await self._read_elsewhere(indication)
                    else:
                        await self._read_into(window, indication)
                    # Nothing to read: delete what got committed, until an indication comes.
                    while not window.empty and not self._stored_work_queued():
                        if window.head_done:
                            await window.settle_head()
                        else:
                            self._queued.clear()
                            await self._queued.wait()  # a sink finished or a URC came
                    if not self._stored_work_queued():
                        break
                    queued = self._queue.popleft()
                    assert isinstance(queued, StoredIndication)
                    indication = queued
                await window.drain()
            except AtConnectionLost:
                raise  # sinks in flight finish on their own; nothing more is deleted
            except (AtError, ModemError, AtResponseError):
                await window.drain()  # the entries already committed still go
                raise

    def _stored_work_queued(self) -> bool:
        return bool(self._queue) and isinstance(self._queue[0], StoredIndication)

    async def _read_into(self, window: SinkWindow, indication: StoredIndication) -> None:
        """``AT+CMGR=<index>`` in the current storage and hand the entry to `window`."""
        if window.holds(indication.index):
            # The SIM announced an index whose earlier entry is not deleted yet (a repeated
            # indication). Deleting that one first makes this read see what the index holds
            # *now*, and keeps one read per delete (else a later delete could hit a new SMS).
            await window.drain()
        entry = await self.entries.read_announced(indication.storage, indication.index)
        if entry is not None:
            await window.offer(entry)

    async def _read_elsewhere(self, indication: StoredIndication) -> None:
        """Read, hand over and delete an entry of another storage, switching to it."""
        async with self.entries.switched_to(indication.storage):
            entry = await self.entries.read_announced(indication.storage, indication.index)
            if entry is not None:
                await self._handover.offer(entry)

    async def sweep(self) -> int:
        """Offer every stored DELIVER / STATUS-REPORT to the sink (then delete it).

        Returns how many entries were handed over. Called at start and periodically.
        Holds the storage turn for the whole pass: a +CMTI handler running alongside could
        otherwise delete index k after this sweep freed it and the SIM reused it for a new
        SMS (deleted unread: lost); the listing stays valid because nothing else deletes.
        """
        handed = 0
        async with self._storage_turn:
            window = SinkWindow(self._handover)
            for entry in await self.entries.list_all():
                if await window.offer(entry):
                    handed += 1
            await window.drain()
        await self._check_storage_use()
        return handed

    async def _check_storage_use(self) -> None:
        with contextlib.suppress(AtError, AtResponseError):
            for use in (await self._modem.storage_use())[:1]:
                if use.total and use.used * 5 >= use.total * 4:
                    await self._modem.sink(
                        StorageAlmostFull(self.modem_id, use.memory or "?", use.used, use.total)
                    )

    # ------------------------------------------------------------------ routed PDUs
    async def _routed(self, work: RoutedPdu) -> None:
        event: ModemEvent
        try:
            message = pdu.decode(work.pdu_hex)
        except PduError as exc:
            event = UndecodablePdu(self.modem_id, work.pdu_hex, str(exc))
        else:
            if isinstance(message, pdu.Deliver):
                event = MessageReceived(self.modem_id, message, work.pdu_hex)
            elif isinstance(message, pdu.StatusReport):
                event = StatusReportReceived(self.modem_id, message, work.pdu_hex)
            else:
                event = UndecodablePdu(
                    self.modem_id, work.pdu_hex, f"unexpected SUBMIT in {work.urc}"
                )
        await self._modem.sink(event)
        await self._modem.acknowledge_routed()
