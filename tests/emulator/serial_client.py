"""A minimal raw pyserial client for observing the emulator from the host side."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import serial


class RawClient:
    """Opens the emulator's link like any serial program and reads bytes with deadlines."""

    def __init__(self, link: Path) -> None:
        self.port = serial.Serial(str(link), 115200, timeout=0.05)
        self.buffer = b""

    def close(self) -> None:
        self.port.close()

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self.port.write, data)

    async def read_until(self, marker: bytes, within: float = 3.0) -> bytes:
        """Bytes up to and including `marker`; TimeoutError with what was seen otherwise."""
        deadline = time.monotonic() + within
        while marker not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {marker!r} within {within}s; got {self.buffer!r}")
            self.buffer += await asyncio.to_thread(self.port.read, 4096)
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    async def read_for(self, seconds: float) -> bytes:
        """Everything that arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.buffer += await asyncio.to_thread(self.port.read, 4096)
        data, self.buffer = self.buffer, b""
        return data

    async def write_until_it_fails(self, attempts: int = 20) -> None:
        """Keep talking to the port; a vanished device raises SerialException."""
        for _ in range(attempts):
            await self.write(b"AT\r")
            await self.read_for(0.05)

    async def command(self, line: str, within: float = 3.0) -> bytes:
        """Send one command and return the reply through its final result line."""
        await self.write(line.encode() + b"\r")
        data = b""
        while True:
            data += await self.read_until(b"\r\n", within)
            for final in (b"OK\r\n", b"ERROR\r\n", b"ERROR: ", b"COMMAND NOT SUPPORT\r\n"):
                if final in data and data.endswith(b"\r\n"):
                    return data
