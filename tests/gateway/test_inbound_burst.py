"""A burst of stored SMS: the modem pipelines reads and commits, the store batches them, and
an entry leaves the SIM only after its own commit — also when sinks fail or the port vanishes.

Real pieces: the emulator's Device behind the in-memory line (`DeviceBridge`), the modem
supervisor, `Inbound` and SQLite on disk. The SIM's delete is observed at the emulator's
storage, so "deleted only after committed" is checked where it matters, not in our code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.emulator.device import DeviceOptions
from smsgw.emulator.storage import Storage
from smsgw.gateway.inbound import Inbound
from smsgw.modem.events import MessageReceived, ModemEvent
from smsgw.modem.supervisor import ModemSupervisor, SupervisorSettings
from smsgw.store import Database, open_database, upgrade
from smsgw.store.types import HistoryItem, NewEvent, ReceivedMessage
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import eventually

pytestmark = [pytest.mark.timeout(60)]

BURST = 40
#: Sinks that must have started before any may go on: proves the reads are pipelined (a
#: serial modem would wait for the first sink for ever) and makes them commit together.
GATE = 10


def _render(message: ReceivedMessage, _earlier: Sequence[HistoryItem]) -> NewEvent:
    return NewEvent(event_id=f"in.{message.id}", body=message.text.encode())


@dataclass
class Burst:
    """The gateway's inbound path with a gate in front of the store, and what the SIM saw."""

    bridge: DeviceBridge
    inbound: Inbound
    failing: frozenset[str] = frozenset()
    on_gate: Callable[[], None] = lambda: None
    started: list[str] = field(default_factory=list)
    committed: set[str] = field(default_factory=set)
    received: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    deleted_uncommitted: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def sink(self, event: ModemEvent) -> None:
        if not isinstance(event, MessageReceived):
            return
        text = event.message.text or ""
        self.started.append(text)
        if len(self.started) == GATE:
            self.on_gate()
            self.gate.set()
        await self.gate.wait()
        if text in self.failing:
            raise RuntimeError(f"store refused {text!r}")
        await self.inbound.on_message(event)
        self.committed.add(text)

    def watch_deletes(self, storage: Storage) -> None:
        """Record every `AT+CMGD` as the emulator's storage executes it."""
        delete = storage.delete

        def observed(index: int) -> None:
            with contextlib.suppress(Exception):
                text = _text(storage.get(index).pdu_hex)
                self.deleted.append(text)
                if text not in self.committed:
                    self.deleted_uncommitted.append(text)
            delete(index)

        storage.delete = observed  # type: ignore[method-assign]

    def on_sim(self) -> list[str]:
        return sorted(_text(entry.pdu_hex) for _, entry in self.bridge.device.storage("SM").items())


def _text(pdu_hex: str) -> str:
    message = pdu.decode(pdu_hex)
    assert isinstance(message, pdu.Deliver)
    return message.text or ""


@contextlib.asynccontextmanager
async def _database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'smsgw.db'}"
    await upgrade(url)
    db = open_database(url)
    try:
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def _running(
    tmp_path: Path, profile: str, *, failing: frozenset[str] = frozenset()
) -> AsyncIterator[Burst]:
    settings = SupervisorSettings(backoff_initial=0.05, backoff_max=0.2, sweep_interval=60)
    async with (
        _database(tmp_path) as db,
        DeviceBridge(profile, options=DeviceOptions(boot_scale=0.0)) as bridge,
    ):
        received: list[str] = []
        inbound = Inbound(
            db,
            render=_render,
            history_size=5,
            on_new_event=lambda: None,
            on_received=lambda message: received.append(message.text),
        )
        rig = Burst(bridge, inbound, failing=failing, received=received)
        rig.watch_deletes(bridge.device.storage("SM"))
        supervisor = ModemSupervisor(bridge.open, modem_id="m", sink=rig.sink, settings=settings)
        supervisor.start()
        try:
            async with asyncio.timeout(5):
                await supervisor.wait_ready()
            yield rig
        finally:
            await supervisor.stop()


def _texts() -> list[str]:
    return [f"burst {n:02d}" for n in range(BURST)]


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_a_burst_is_committed_in_batches_and_failed_parts_stay_on_the_sim(
    tmp_path: Path, profile: str
) -> None:
    failing = frozenset({"burst 03", "burst 17", "burst 38"})
    async with _running(tmp_path, profile, failing=failing) as rig:
        for n, text in enumerate(_texts()):
            rig.bridge.device.deliver(f"+4072100{n % 7:04d}", text)
        await eventually(lambda: len(rig.committed) == BURST - len(failing), within=20)
        await eventually(lambda: rig.on_sim() == sorted(failing))

        assert rig.deleted_uncommitted == []
        # One delete per committed entry, in arrival order; none for a failed sink.
        assert rig.deleted == [text for text in _texts() if text not in failing]
        assert sorted(rig.received) == sorted(rig.committed)
        commits = rig.inbound.commits
        assert commits.items == BURST - len(failing)
        assert commits.batches < commits.items  # parts read together shared transactions


async def test_an_unplug_mid_pipeline_loses_nothing_and_deletes_nothing_uncommitted(
    tmp_path: Path,
) -> None:
    async with _running(tmp_path, "sim800") as rig:
        # The port vanishes while GATE sinks are in flight and none has committed yet.
        rig.on_gate = lambda: rig.bridge.unplug(for_s=0.3)
        for n, text in enumerate(_texts()):
            rig.bridge.device.deliver(f"+4072100{n % 7:04d}", text)
        await eventually(lambda: rig.bridge.opens >= 2, within=10)  # replugged, re-initialised
        await eventually(lambda: rig.on_sim() == [], within=20)  # the sweep offered the rest

        assert rig.deleted_uncommitted == []
        assert sorted(rig.received) == _texts()  # every SMS stored exactly once
        assert sorted(rig.deleted) == _texts()  # each entry deleted once, after its commit
        # The sinks in flight at the unplug finished on their own; their re-read was a duplicate.
        assert len(rig.started) > BURST
