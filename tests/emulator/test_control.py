"""The control socket protocol: every command, and bad requests answered, never crashing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def modem(tmp_path: Path) -> AsyncIterator[EmulatedModem]:
    options = DeviceOptions(noise_interval=0, boot_scale=0)
    async with EmulatedModem(
        "sim800", tmp_path / "m", control=tmp_path / "m.ctl", options=options
    ) as emulated:
        yield emulated


async def ask(path: Path, *requests: bytes) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    answers = []
    try:
        for request in requests:
            writer.write(request + b"\n")
            await writer.drain()
            answers.append(json.loads(await reader.readline()))
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


async def test_bad_requests_get_error_answers(modem: EmulatedModem) -> None:
    assert modem.control_path is not None
    answers = await ask(
        modem.control_path,
        b"not json",
        b"[1, 2]",
        b'{"cmd": "explode"}',
        b'{"cmd": "deliver", "sender": 5, "text": "x"}',
        b'{"cmd": "deliver", "pdu": "ZZ"}',
        b'{"cmd": "urc", "line": "RING", "at": "sometime"}',
        b'{"cmd": "unplug", "for_s": "soon"}',
        b'{"cmd": "garbage", "hex": "XYZ"}',
        b'{"cmd": "status"}',
    )
    assert [a["ok"] for a in answers] == [False] * 8 + [True]
    assert all(isinstance(a["error"], str) and a["error"] for a in answers[:8])
    assert answers[-1]["profile"] == "sim800"


async def test_fault_commands_change_the_device(modem: EmulatedModem) -> None:
    assert modem.control_path is not None
    answers = await ask(
        modem.control_path,
        b'{"cmd": "unresponsive", "on": true}',
        b'{"cmd": "fail_send", "cause": 38}',
        b'{"cmd": "unplug"}',
    )
    assert all(a["ok"] for a in answers)
    assert modem.device.faults.unresponsive
    assert modem.pty_name is None
    assert not modem.link.exists()
    assert (await ask(modem.control_path, b'{"cmd": "replug"}'))[0]["ok"]
    assert modem.link.is_symlink()


async def test_a_real_file_at_the_link_or_socket_path_is_never_replaced(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    with pytest.raises(FileExistsError):
        async with EmulatedModem("sim800", precious):
            pass
    with pytest.raises(FileExistsError):
        async with EmulatedModem("sim800", tmp_path / "m", control=precious):
            pass
    assert precious.read_text() == "keep me"
    assert not (tmp_path / "m").exists()
