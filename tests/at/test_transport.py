"""The pyserial-asyncio transport on a real pty and on a loopback socket."""

from __future__ import annotations

import asyncio
import os

import pytest

from smsgw.at import commands as c
from smsgw.at.channel import AtChannel
from smsgw.at.transport import open_transport
from smsgw.exceptions import AtConnectionLost

pytestmark = pytest.mark.timeout(20)


async def _read_exactly(fd: int, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < size:
        data += await loop.run_in_executor(None, os.read, fd, size - len(data))
    return data


async def test_pty_round_trip_and_loss() -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    transport = await open_transport(path, baudrate=115200)
    try:
        assert transport.description == path
        await transport.write(b"AT\r")
        assert await _read_exactly(master, 3) == b"AT\r"
        os.write(master, b"\r\nOK\r\n")
        received = b""
        while not received.endswith(b"OK\r\n"):
            received += await transport.read()
        assert received == b"\r\nOK\r\n"
        os.close(master)
        os.close(slave)

        async def read_until_lost() -> None:
            while True:
                await asyncio.wait_for(transport.read(), 5)

        with pytest.raises(AtConnectionLost):
            await read_until_lost()
    finally:
        await transport.close()


async def test_channel_over_pty() -> None:
    master, slave = os.openpty()
    transport = await open_transport(os.ttyname(slave))
    channel = AtChannel(transport)
    channel.start()
    loop = asyncio.get_running_loop()

    def answer() -> None:
        data = os.read(master, 100)
        if data.startswith(b"AT+CSQ"):
            os.write(master, b"AT+CSQ\r\r\n+CSQ: 20,0\r\n\r\nOK\r\n")

    loop.add_reader(master, answer)
    try:
        reply = await channel.execute(c.signal_quality())
        assert reply.lines == ("+CSQ: 20,0",)
    finally:
        loop.remove_reader(master)
        await channel.close()
        os.close(master)
        os.close(slave)


async def test_missing_device_is_a_connection_error(tmp_path: object) -> None:
    with pytest.raises(AtConnectionLost, match="cannot open"):
        await open_transport("/dev/does-not-exist-smsgw")


async def test_socket_url() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readuntil(b"\r")
        writer.write(line + b"\r\nOK\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = await open_transport(f"socket://127.0.0.1:{port}")
    try:
        await transport.write(b"AT\r")
        received = b""
        while not received.endswith(b"OK\r\n"):
            received += await transport.read()
        assert received == b"AT\r\r\nOK\r\n"
        with pytest.raises(AtConnectionLost):
            await transport.read()
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()


async def test_bad_socket_url() -> None:
    with pytest.raises(AtConnectionLost, match="host:port"):
        await open_transport("socket://nowhere")
