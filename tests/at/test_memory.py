"""The in-memory line and its fault injection."""

from __future__ import annotations

import pytest

from smsgw.at.memory import Faults, MemoryLine
from smsgw.exceptions import AtConnectionLost

pytestmark = pytest.mark.timeout(10)


async def _drain(line: MemoryLine) -> bytes:
    line.disconnect()
    data = b""
    while True:
        try:
            data += await line.host.read()
        except AtConnectionLost:
            return data


async def test_chunking_preserves_bytes_and_order() -> None:
    line = MemoryLine(Faults(chunk_size=1))
    line.to_host(b"\r\nOK\r\n")
    assert await line.host.read() == b"\r"
    assert await _drain(line) == b"\nOK\r\n"


async def test_drop_and_corrupt_are_seeded() -> None:
    sent = b"0123456789" * 20
    outputs = []
    for _ in range(2):
        line = MemoryLine(Faults(chunk_size=4, drop_rate=0.3, corrupt_rate=0.3, seed=5))
        line.to_host(sent)
        outputs.append(await _drain(line))
    assert outputs[0] == outputs[1]
    assert outputs[0] != sent
    assert len(outputs[0]) < len(sent)


async def test_urcs_go_at_line_boundaries_but_never_inside_two_line_urcs() -> None:
    line = MemoryLine(Faults(urcs=(b"RING",), urc_rate=1.0))
    line.to_host(b"\r\n+CMT: ,23\r\n")
    line.to_host(b"0791AA\r\n")
    received = await _drain(line)
    assert b"+CMT: ,23\r\n0791AA\r\n" in received
    assert received.startswith(b"RING\r\n")
    assert received.endswith(b"0791AA\r\nRING\r\n")


async def test_host_writes_are_seen_by_the_device_until_disconnect() -> None:
    line = MemoryLine()
    seen: list[bytes] = []
    line.on_host_write = seen.append
    await line.host.write(b"AT\r")
    assert seen == [b"AT\r"]
    assert line.written == [b"AT\r"]
    await line.host.close()
    with pytest.raises(AtConnectionLost):
        await line.host.write(b"AT\r")


def test_fault_values_are_validated() -> None:
    with pytest.raises(ValueError, match="drop_rate"):
        Faults(drop_rate=2.0)
    with pytest.raises(ValueError, match="negative"):
        Faults(chunk_size=-1)
