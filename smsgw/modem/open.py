"""Openers: how the supervisor gets a fresh transport each time it (re)connects."""

from __future__ import annotations

from smsgw.at.link import Transport
from smsgw.at.transport import DEFAULT_BAUD, open_transport
from smsgw.modem.supervisor import Opener


def serial_opener(port: str, *, baudrate: int = DEFAULT_BAUD) -> Opener:
    """An opener for a device path, a pty symlink or ``socket://host:port``."""

    async def open_port() -> Transport:
        return await open_transport(port, baudrate=baudrate)

    return open_port
