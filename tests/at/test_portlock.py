"""One owner per serial port: the UUCP lock file and the exclusive open.

The end-to-end tests hold an emulated modem's pty the way the daemon does (open_transport in
this process) and start a second `smsgw modem info` / `smsgw run` on it: both must fail at
once naming this process's PID, and the modem must receive not a single byte from them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smsgw.at.portlock import PortInUse, PortLock, lock_path
from smsgw.at.transport import open_transport
from tests.faults.rig import emulated_modems, write_config

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "lock"
    directory.mkdir()
    monkeypatch.setenv("SMSGW_LOCK_DIR", str(directory))
    return directory


def test_the_lock_file_names_the_device_and_holds_the_pid(lock_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "sim800"
    link.symlink_to("/dev/null")
    lock = PortLock.acquire(str(link))
    try:
        assert lock.path == lock_dir / "LCK..null"  # the device behind the udev-style symlink
        assert (lock_dir / "LCK..null").read_text() == f"{os.getpid():10d}\n"
        with pytest.raises(PortInUse, match=f"port in use by PID {os.getpid()}"):
            PortLock.acquire("/dev/null")
    finally:
        lock.release()
    assert not (lock_dir / "LCK..null").exists()


def test_a_stale_lock_is_taken_over_and_a_live_one_is_not(lock_dir: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = lock_path("/dev/null", lock_dir)
    path.write_text(f"{dead.pid:10d}\n")
    PortLock.acquire("/dev/null").release()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(f"{live.pid:10d}\n")
        with pytest.raises(PortInUse) as refused:
            PortLock.acquire("/dev/null")
        assert refused.value.pid == live.pid
    finally:
        live.kill()
        live.wait()


def test_without_a_writable_lock_directory_the_open_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSGW_LOCK_DIR", str(tmp_path / "missing"))
    lock = PortLock.acquire("/dev/null")
    assert lock.path is None
    lock.release()


def _smsgw(*args: str, lock_dir: Path, state: Path) -> tuple[int, str, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSGW_")}
    env = clean | {"SMSGW_LOCK_DIR": str(lock_dir), "SMSGW_STATE_DIR": str(state)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "smsgw", *args], capture_output=True,
                          text=True, timeout=30, env=env, check=False)  # fmt: skip
    return proc.returncode, proc.stderr, time.monotonic() - started


async def test_a_second_process_on_a_held_port_fails_at_once_and_sends_nothing(
    lock_dir: Path, tmp_path: Path
) -> None:
    async with emulated_modems(tmp_path, ["sim0"]) as modems:
        emulator, wire = modems["sim0"]
        held = await open_transport(str(emulator.link))  # the daemon's side of the port
        try:
            rx_before = wire.rx_bytes
            config = write_config(tmp_path, webhook_url="http://127.0.0.1:9/hook",
                                  modems={"sim0": emulator.link})  # fmt: skip
            info = asyncio.to_thread(
                _smsgw, "modem", "info", "--port", str(emulator.link),
                lock_dir=lock_dir, state=tmp_path,
            )  # fmt: skip
            code, err, took = await info
            assert code == 1
            assert f"port in use by PID {os.getpid()}" in err
            assert took < 10
            run = asyncio.to_thread(
                _smsgw, "run", "--config", str(config), lock_dir=lock_dir, state=tmp_path
            )
            code, err, took = await run
            assert code == 1
            assert f"port in use by PID {os.getpid()}" in err
            assert took < 10
            await asyncio.sleep(0.2)
            assert wire.rx_bytes == rx_before == 0
        finally:
            await held.close()
    assert os.listdir(lock_dir) == []


async def test_a_tool_that_ignores_lock_files_meets_the_exclusive_open(
    lock_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with emulated_modems(tmp_path, ["sim0"]) as modems:
        emulator, _wire = modems["sim0"]
        held = await open_transport(str(emulator.link))
        try:
            elsewhere = tmp_path / "other-lock-dir"
            elsewhere.mkdir()
            monkeypatch.setenv("SMSGW_LOCK_DIR", str(elsewhere))
            with pytest.raises(ConnectionError, match="port in use by another program"):
                await open_transport(str(emulator.link))
        finally:
            await held.close()
