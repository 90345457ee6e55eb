"""The database's disk fills up: the SMS stays on the SIM, the log says why, nothing is lost.

The database lives on a 16 MB tmpfs mounted for the test (root only; skipped otherwise).
After the daemon is READY a filler file takes every free byte, so SQLite's next write fails
with SQLITE_FULL, a real ENOSPC, not a mock. Messages that arrive then must not be deleted
from the modem's storage and must not reach the webhook; once the filler is removed the
periodic sweep must deliver every one of them.

An event whose POST went out but whose outcome could not be written (the disk filled in
between) keeps its claim until the claim lease ends, and holds its peer's later events
(per-peer order) that long: `node.lease`, 2 min by default, compressed here to 5 s (6 s with
the 2 s webhook timeout) so the test measures the recovery instead of waiting it out.

A read-only remount cannot be done under a running daemon (Linux refuses `remount,ro`,
EBUSY, while the database is open for writing); test_readonly_db.py covers the other case, a
filesystem that is read-only when the daemon starts (an SD card remounted read-only by the
kernel before a reboot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

import pytest

from tests.faults.rig import Daemon, emulated_modems, tiny_tmpfs, until, write_config
from tests.faults.scale import counts_line
from tests.webhook.http_server import Answer, WebhookServer


def fill(directory: Path) -> Path:
    """Take every free byte of the filesystem; the filler's path."""
    filler = directory / "filler"
    with filler.open("wb") as sink:
        with contextlib.suppress(OSError):
            while True:
                sink.write(b"\0" * 65536)
                sink.flush()
        with contextlib.suppress(OSError):
            os.fsync(sink.fileno())
    return filler


async def _disk_full(tmp_path: Path, messages: int) -> None:
    with tiny_tmpfs(tmp_path / "db") as disk, WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"]) as modems:
            emulator, _ = modems["sim0"]
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link},
                modem_extra='sweep_interval = "2s"', database=disk / "smsgw.db",
                node_extra='heartbeat_interval = "1s"\nlease = "5s"',
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")

            def arrived() -> set[str]:
                return {json.loads(r.body).get("message", "") for r in list(server.received)}

            try:
                await daemon.start()
                await emulator.deliver("+40721000001", "before")
                await until(lambda: "before" in arrived(), within=10)
                filler = await asyncio.to_thread(fill, disk)
                texts = [f"full {n}" for n in range(messages)]
                for text in texts:
                    await emulator.deliver("+40721000001", text)
                await asyncio.sleep(3.0)  # CMTI handling and one sweep, all failing
                kept_on_sim = emulator.device.storage("SM").used
                leaked = set(texts) & arrived()
                log = daemon.tail(200_000)
                filler.unlink()
                await until(lambda: set(texts) <= arrived(), within=30, interval=0.05)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
    counts_line(
        "disk full",
        injected=messages,
        kept_on_sim_while_full=kept_on_sim,
        delivered_while_full=len(leaked),
        delivered_after=len(set(texts) & arrived()),
        lost=len(set(texts) - arrived()),
    )
    assert kept_on_sim == messages, "an SMS left the SIM without being stored"
    assert not leaked
    assert "database or disk is full" in log, log[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_disk_full_keeps_messages_on_the_sim(tmp_path: Path) -> None:
    await _disk_full(tmp_path, messages=5)


@pytest.mark.faults
@pytest.mark.timeout(300)
async def test_disk_full_with_a_full_sim(tmp_path: Path) -> None:
    await _disk_full(tmp_path, messages=45)
