"""A scheduled message survives `kill -9` of a real `smsgw run`: the restarted daemon sends
it after its `send_at`, not before, and within a second."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import httpx
import pytest

from tests.faults.rig import Daemon, emulated_modems, until, write_config
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(90)


async def test_a_scheduled_send_survives_kill_9(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"]) as modems:
            emulator, _wire = modems["sim0"]
            config = write_config(tmp_path, webhook_url=server.url, modems={"sim0": emulator.link})
            daemon = Daemon(config, tmp_path / "daemon.log")
            await daemon.start()
            try:
                due = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=6)
                async with httpx.AsyncClient(timeout=10) as client:
                    await daemon.send(client, "+40722000050", "survives", send_at=due.isoformat())
                await daemon.kill()
                await asyncio.sleep(0.5)
                await daemon.start()
                left = (due - datetime.datetime.now(datetime.UTC)).total_seconds()
                assert left > 1, "the restart took too long for this test to mean anything"
                await asyncio.sleep(left - 0.5)
                assert emulator.sent() == []
                await until(lambda: len(emulator.sent()) == 1, within=5)
                (sent,) = emulator.sent()
                assert sent.text == "survives"
                lateness = sent.time.astimezone(datetime.UTC) - due
                assert datetime.timedelta(0) <= lateness <= datetime.timedelta(seconds=1)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
