"""Scheduled messages with two nodes on one PostgreSQL: a message scheduled through one node
is sent once, by whichever node's modem claims it, within a second of its send_at; when the
scheduling node is gone, the other node sends it on time (woken by NOTIFY when it was
scheduled, not by a poll)."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest

from smsgw.gateway import Gateway, daemon, operations
from smsgw.gateway.send_options import check_send_options
from smsgw.store.types import Enqueued
from tests.gateway.helpers import emulators, eventually, fast_supervisors
from tests.scaleout.nodes import node_settings

pytestmark = pytest.mark.timeout(60)

ALLOWED_LATENESS = datetime.timedelta(seconds=1)


async def _schedule(gateway: Gateway, to: str, text: str, at: datetime.datetime) -> Enqueued:
    options = check_send_options(now=gateway.db.clock(), send_at=at.isoformat())
    outgoing = operations.check_outgoing(
        gateway.settings, to=to, text=text, modem=None, options=options
    )
    return await operations.send(gateway, outgoing, delivery_report=False, idempotency_key=None)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def test_two_nodes_send_each_scheduled_message_once_on_time(
    pg_migrated_url: str, tmp_path: Path
) -> None:
    async with (
        emulators(tmp_path, "a0", "b0") as modems,
        Gateway(node_settings(pg_migrated_url, "pi-a", {"a0": tmp_path / "a0"}),
                supervisor_settings=fast_supervisors) as node_a,
        Gateway(node_settings(pg_migrated_url, "pi-b", {"b0": tmp_path / "b0"}),
                supervisor_settings=fast_supervisors) as node_b,
    ):  # fmt: skip
        await asyncio.wait_for(node_a.supervisor("a0").wait_ready(), 15)
        await asyncio.wait_for(node_b.supervisor("b0").wait_ready(), 15)
        due = _now() + datetime.timedelta(seconds=2)
        for n in range(10):
            await _schedule(node_a if n % 2 else node_b, f"+4072200006{n}", f"m{n}", due)

        def sent() -> list[str]:
            return [m.text for emulator in modems.values() for m in emulator.sent()]

        await eventually(lambda: len(sent()) == 10, within=6)
        await asyncio.sleep(0.5)
        assert sorted(sent()) == sorted(f"m{n}" for n in range(10))
        for emulator in modems.values():
            for message in emulator.sent():
                lateness = message.time.astimezone(datetime.UTC) - due
                assert datetime.timedelta(0) <= lateness <= ALLOWED_LATENESS


async def test_the_surviving_node_sends_what_the_other_scheduled(
    pg_migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers poll once a minute and the scheduler's safety re-read is minutes away: only the
    # NOTIFY sent when the message was scheduled can tell node b in time.
    monkeypatch.setattr(daemon, "SHARED_DB_POLL", 60.0)
    async with (
        emulators(tmp_path, "b0") as modems,
        Gateway(
            node_settings(pg_migrated_url, "pi-b", {"b0": tmp_path / "b0"}),
            supervisor_settings=fast_supervisors,
        ) as node_b,
    ):
        await asyncio.wait_for(node_b.supervisor("b0").wait_ready(), 15)
        await asyncio.sleep(0.5)  # b's scheduler read an empty schedule and sleeps
        due = _now() + datetime.timedelta(seconds=2)
        async with Gateway(node_settings(pg_migrated_url, "api-only", {})) as front:
            await _schedule(front, "+40722000070", "from a node that left", due)
        assert modems["b0"].sent() == []
        await eventually(lambda: len(modems["b0"].sent()) == 1, within=4)
        (message,) = modems["b0"].sent()
        lateness = message.time.astimezone(datetime.UTC) - due
        assert datetime.timedelta(0) <= lateness <= ALLOWED_LATENESS
