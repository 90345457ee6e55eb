"""The pipelined window keeps at-least-once: each entry is deleted only after its own sink
returned, deletes follow the read order whatever order the commits finish in, and an entry
whose sink failed stays in storage (and does not hold back the ones behind it)."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from smsgw import pdu
from smsgw.modem.entries import StoredEntries, decode_entry
from smsgw.modem.events import MessageReceived, ModemEvent, UndecodablePdu
from smsgw.modem.handover import EntryHandover, SinkWindow
from smsgw.modem.values import StoredMessage

pytestmark = [pytest.mark.timeout(10)]

SCTS = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)


class RecordedDeletes(StoredEntries):
    """Storage whose deletes are only recorded (no modem behind it)."""

    def __init__(self) -> None:  # no super().__init__: nothing is read from a modem here
        self.deleted: list[int] = []

    async def delete_handled(self, entry: StoredMessage) -> None:
        self.deleted.append(entry.index)


class GatedSink:
    """Each message's sink waits for its own gate; texts listed in `failing` raise."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.failing = failing

    async def __call__(self, event: ModemEvent) -> None:
        assert isinstance(event, MessageReceived)
        text = event.message.text or ""
        await self.gates.setdefault(text, asyncio.Event()).wait()
        if text in self.failing:
            raise RuntimeError("commit failed")

    def release(self, text: str) -> None:
        self.gates.setdefault(text, asyncio.Event()).set()


def _entry(index: int) -> StoredMessage:
    [part] = pdu.encode_deliver("+40721000001", f"m{index}", SCTS)
    return decode_entry("SM", index, 0, part.hex)


async def _settle(window: SinkWindow) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    await window.settle_done()


async def test_deletes_follow_the_read_order_and_wait_for_each_own_commit() -> None:
    sink, entries = GatedSink(failing=frozenset({"m2"})), RecordedDeletes()
    window = SinkWindow(EntryHandover("m", sink, entries, lambda: None))
    for index in (1, 2, 3):
        assert await window.offer(_entry(index))  # started, not yet committed
    assert entries.deleted == []

    sink.release("m3")  # the last commit returns first: nothing may be deleted yet
    await _settle(window)
    assert entries.deleted == []

    sink.release("m1")
    await _settle(window)
    assert entries.deleted == [1]

    sink.release("m2")  # m2's commit fails: it stays, m3 (committed) goes
    await _settle(window)
    await window.drain()
    assert entries.deleted == [1, 3]
    assert window.empty


async def test_a_full_window_settles_its_oldest_entry_before_starting_another() -> None:
    sink, entries = GatedSink(), RecordedDeletes()
    window = SinkWindow(EntryHandover("m", sink, entries, lambda: None), limit=2)
    await window.offer(_entry(1))
    await window.offer(_entry(2))
    third = asyncio.create_task(window.offer(_entry(3)))
    await asyncio.sleep(0.01)
    assert not third.done()  # waits for m1's commit, the oldest
    sink.release("m1")
    assert await third
    assert entries.deleted == [1]
    sink.release("m2")
    sink.release("m3")
    await window.drain()
    assert entries.deleted == [1, 2, 3]


async def test_undecodable_entries_are_pipelined_and_deleted_after_their_own_sink() -> None:
    """A flood of undecodable entries must leave storage as fast as good ones: their sinks
    (the quarantine's commits) run in the window too, and a failed one stays."""
    started: list[int] = []
    gates: dict[int, asyncio.Event] = {}

    async def sink(event: ModemEvent) -> None:
        assert isinstance(event, UndecodablePdu)
        assert event.index is not None
        started.append(event.index)
        await gates.setdefault(event.index, asyncio.Event()).wait()
        if event.index == 2:
            raise RuntimeError("commit failed")

    entries = RecordedDeletes()
    window = SinkWindow(EntryHandover("m", sink, entries, lambda: None))
    for index in (1, 2, 3):
        bad = decode_entry("SM", index, 0, f"0011{index:02X}")
        assert bad.message is None
        assert await window.offer(bad)
    await asyncio.sleep(0)
    assert started == [1, 2, 3]  # all three in flight before any commit returned
    assert entries.deleted == []
    for index in (3, 2, 1):
        gates.setdefault(index, asyncio.Event()).set()
    await window.drain()
    assert entries.deleted == [1, 3]
