"""The database is on a read-only filesystem: the SMS stay on the SIM, the error says why.

A Raspberry Pi's SD card that starts failing is remounted read-only by the kernel; after the
next reboot `smsgw run` finds its state directory read-only. Linux refuses to remount a
filesystem read-only under a process holding a file open for writing, so this is the case
that can be reproduced for real: a tmpfs holding a migrated database is remounted read-only
while the daemon is down, SMS arrive on the modem meanwhile, and the daemon is started. It
must refuse to run with an error that names the read-only filesystem, must not touch the
modem's storage, and after the filesystem is writable again must deliver every message.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.faults.rig import Daemon, emulated_modems, tiny_tmpfs, until, write_config
from tests.faults.scale import counts_line
from tests.webhook.http_server import Answer, WebhookServer


def _remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_read_only_database_keeps_messages_on_the_sim(tmp_path: Path) -> None:
    messages = 5
    with tiny_tmpfs(tmp_path / "db") as disk, WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"]) as modems:
            emulator, _ = modems["sim0"]
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link},
                database=disk / "smsgw.db",
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")

            def arrived() -> set[str]:
                return {json.loads(r.body).get("message", "") for r in list(server.received)}

            try:
                await daemon.start()  # migrates the database, then a clean stop
                assert await daemon.stop() == 0, daemon.tail()
                texts = [f"while read-only {n}" for n in range(messages)]
                for text in texts:
                    await emulator.deliver("+40721000002", text)
                _remount(disk, "ro")
                await daemon.spawn()
                assert daemon.process is not None
                exit_code = await daemon.process.wait()
                log = daemon.tail(20_000)
                kept_on_sim = emulator.device.storage("SM").used
                _remount(disk, "rw")
                await daemon.start()
                await until(lambda: set(texts) <= arrived(), within=30, interval=0.05)
                await until(lambda: emulator.device.storage("SM").used == 0, within=10)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
    counts_line(
        "read-only database",
        injected=messages,
        kept_on_sim_while_read_only=kept_on_sim,
        delivered_after=len(set(texts) & arrived()),
        lost=len(set(texts) - arrived()),
    )
    assert exit_code == 1, log[-3000:]
    assert "mounted read-only" in log, log[-3000:]
    assert kept_on_sim == messages, "an SMS left the SIM without being stored"
