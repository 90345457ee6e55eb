"""sd_notify over a real AF_UNIX datagram socket, as systemd would listen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsgw.sdnotify import Notifier, keep_alive, watchdog_interval


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    # A short directory: AF_UNIX paths are limited to ~108 bytes.
    with tempfile.TemporaryDirectory(prefix="sdn") as directory:
        path = str(Path(directory) / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(5)
        try:
            yield sock, path
        finally:
            sock.close()


def receive(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode("utf-8").split("\n")


def test_ready_status_watchdog_and_stopping_are_sent(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("2 modems, API on 127.0.0.1:8080")
    assert receive(sock) == ["READY=1", "STATUS=2 modems, API on 127.0.0.1:8080"]
    assert notifier.status("sim800: no network")
    assert receive(sock) == ["STATUS=sim800: no network"]
    assert notifier.watchdog()
    assert receive(sock) == ["WATCHDOG=1"]
    assert notifier.stopping()
    assert receive(sock) == ["STOPPING=1"]


def test_abstract_namespace_socket() -> None:
    name = f"smsgw-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert receive(sock) == ["READY=1"]


def test_without_systemd_everything_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.watchdog_interval is None
    assert not notifier.ready()
    assert not notifier.watchdog()


def test_a_vanished_socket_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert not notifier.ready()
    assert "sd_notify" in caplog.text


def test_multiline_values_are_refused(listener: tuple[socket.socket, str]) -> None:
    _, path = listener
    with pytest.raises(ValueError, match="one line"):
        Notifier({"NOTIFY_SOCKET": path}).status("a\nREADY=1")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_the_deadline_for_this_process(
    env: dict[str, str], expected: float | None
) -> None:
    assert watchdog_interval(env) == expected
    assert Notifier(env).watchdog_interval == expected


@pytest.mark.timeout(10)
async def test_keep_alive_pings_only_while_healthy(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    sock.setblocking(False)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "40000"})  # ping every 20 ms
    healthy = True
    task = asyncio.create_task(keep_alive(notifier, lambda: healthy))
    try:
        await asyncio.sleep(0.2)
        pings = drain(sock)
        assert pings.count("WATCHDOG=1") >= 3
        healthy = False
        await asyncio.sleep(0.05)
        drain(sock)
        await asyncio.sleep(0.2)
        assert drain(sock) == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_keep_alive_returns_without_a_watchdog() -> None:
    await asyncio.wait_for(keep_alive(Notifier({"NOTIFY_SOCKET": "/nowhere"})), timeout=1)


def drain(sock: socket.socket) -> list[str]:
    received = []
    while True:
        try:
            received.append(sock.recv(4096).decode("utf-8"))
        except BlockingIOError:
            return received
