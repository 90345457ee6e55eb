"""Handing stored entries to the sink, and deleting each only after its own sink returned.

This is the at-least-once rule of the modem layer in one place: an entry leaves the SIM
(``AT+CMGD``) only once the sink (in the gateway: the store's commit, or the quarantine's for
an entry that cannot be decoded) returned normally for *that* entry, and entries are deleted
in the order they were read. A sink that raises leaves its entry in storage for the next
sweep; a sink interrupted by an unplug finishes on its own and nothing more is deleted, so its
entry is re-read later and recognised as a duplicate.

:class:`EntryHandover` is the serial form (sink, then delete). :class:`SinkWindow` pipelines
received messages (and undecodable entries): the next entry is read while the sinks of
earlier ones still run, up to :data:`SINK_WINDOW` of them, so line time and commit time
overlap and the store can commit parts that arrive together in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from smsgw import pdu
from smsgw.modem.entries import StoredEntries
from smsgw.modem.events import (
    MessageReceived,
    ModemEvent,
    StatusReportReceived,
    StoredSubmitFound,
    UndecodablePdu,
)
from smsgw.modem.values import EventSink, StoredMessage

__all__ = ["SINK_WINDOW", "EntryHandover", "SinkWindow", "received_message"]

log = logging.getLogger(__name__)

#: Sinks in flight at most while a burst is read. Big enough that the store's group commit
#: gets full batches, small enough that an unplug leaves little to re-read (re-reads are
#: recognised as duplicates anyway).
SINK_WINDOW = 48


def received_message(entry: StoredMessage) -> pdu.Deliver | None:
    """The entry's SMS-DELIVER, if that is what it holds (what a `SinkWindow` pipelines)."""
    return entry.message if isinstance(entry.message, pdu.Deliver) else None


class EntryHandover:
    """Sink calls for one modem's stored entries, and the deletes that follow them.

    `on_sink_done` is called whenever a pipelined sink finishes: the reader uses it to wake
    up and delete what got committed.
    """

    def __init__(
        self,
        modem_id: str,
        sink: EventSink,
        entries: StoredEntries,
        on_sink_done: Callable[[], None],
    ) -> None:
        self.modem_id = modem_id
        self.sink = sink
        self.entries = entries
        self._on_sink_done = on_sink_done
        #: Sinks started by a `SinkWindow`, kept referenced until done: they outlive a
        #: cancelled worker (unplug) and finish their commit on their own.
        self._running: set[asyncio.Task[bool]] = set()

    async def offer(self, entry: StoredMessage) -> bool:
        """Hand a stored entry to the sink; delete it once the sink returned.

        True when the entry was handed over and deleted. An undecodable entry is handed
        over like a good one (the sink keeps it aside) and deleted by the same rule, so such
        entries cannot fill the storage; stored SUBMITs are reported and left in storage.
        """
        message = entry.message
        event: ModemEvent
        if message is None:
            event = UndecodablePdu(
                self.modem_id, entry.pdu_hex, entry.error or "?", entry.storage, entry.index
            )
        elif isinstance(message, pdu.Submit):
            await self.sink(StoredSubmitFound(self.modem_id, message, entry.storage, entry.index))
            return False
        elif isinstance(message, pdu.Deliver):
            event = MessageReceived(
                self.modem_id, message, entry.pdu_hex, entry.storage, entry.index
            )
        else:
            event = StatusReportReceived(
                self.modem_id, message, entry.pdu_hex, entry.storage, entry.index
            )
        if not await self.deliver(event):
            return False
        await self.entries.delete_handled(entry)
        return True

    async def deliver(self, event: ModemEvent) -> bool:
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

    def start(self, event: ModemEvent) -> asyncio.Task[bool]:
        """Run the sink for `event` as a task of its own (a `SinkWindow`'s sink in flight).

        Being a separate task is what shields it: cancelling the worker does not cancel it,
        and the running set keeps it referenced until it has finished. So, unlike `deliver`,
        it needs no `asyncio.shield`, whose inner task would cost the message one more turn
        of the event loop before its commit starts.
        """
        task = asyncio.create_task(self._sink_task(event), name=f"{self.modem_id} sink")
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    async def _sink_task(self, event: ModemEvent) -> bool:
        """`deliver` without the shield: the body of a task started by `start`."""
        try:
            await self.sink(event)
        except Exception:
            log.exception("%s: event sink failed; entry left in storage", self.modem_id)
            return False
        return True

    def _finished(self, task: asyncio.Task[bool]) -> None:
        self._running.discard(task)
        self._on_sink_done()


class SinkWindow:
    """Sinks in flight for entries of the current storage, deleted in order once committed.

    `offer` starts the entry's sink as a task (see `EntryHandover.start`) and returns at
    once, so the caller can read the next entry while the store commits; when the window is
    full it first settles the oldest. `settle_head` waits for the oldest sink and deletes its
    entry only if that sink returned normally: a failed sink leaves exactly its own entry on
    the SIM. Deletes happen in offer order, one per read, and only for indexes this window
    read, so an index freed by a delete and reused by the SIM for a new SMS is never deleted
    unread from here. If the owner is cancelled (unplug), the pending sinks finish on their
    own and nothing more is deleted; their entries are re-read later and recognised as
    duplicates.
    """

    def __init__(self, handover: EntryHandover, limit: int = SINK_WINDOW) -> None:
        self._handover = handover
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
        """Like `EntryHandover.offer`, pipelined for received messages and undecodable
        entries: True when the entry's sink was started (or, for a status report, returned
        and the entry was deleted).

        Status reports and stored SUBMITs take the serial path: reports are rare, and two
        reports for one outgoing message must be applied in order. Undecodable entries are
        pipelined like messages: a flood of them (each kept aside in its own commit) must be
        read and deleted as fast as the good ones, or it fills the storage.
        """
        modem_id = self._handover.modem_id
        message = received_message(entry)
        event: ModemEvent
        if message is not None:
            event = MessageReceived(modem_id, message, entry.pdu_hex, entry.storage, entry.index)
        elif entry.message is None:
            event = UndecodablePdu(
                modem_id, entry.pdu_hex, entry.error or "?", entry.storage, entry.index
            )
        else:
            return await self._handover.offer(entry)
        while len(self._pending) >= self._limit:
            await self.settle_head()
        self._pending.append((entry, self._handover.start(event)))
        await self.settle_done()
        return True

    async def settle_done(self) -> None:
        """Delete the entries at the head whose sinks already finished, without waiting."""
        while self.head_done:
            await self.settle_head()

    async def settle_head(self) -> None:
        """Wait for the oldest sink; delete its entry if the sink returned normally."""
        entry, task = self._pending[0]
        if not task.done():  # (a finished one needs no wait: no extra turn of the loop)
            await asyncio.wait({task})  # not `await task`: cancelling us must not cancel it
        self._pending.popleft()
        if not task.cancelled() and task.result():
            await self._handover.entries.delete_handled(entry)

    async def drain(self) -> None:
        while self._pending:
            await self.settle_head()
