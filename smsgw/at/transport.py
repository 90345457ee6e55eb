"""The real byte transport: pyserial-asyncio on a device path, also ptys and sockets.

This is the only module that imports pyserial. It exposes :func:`open_transport`, which
returns a :class:`~smsgw.at.link.Transport`: bytes in, bytes out, and
:class:`~smsgw.exceptions.AtConnectionLost` as the single way of saying "the port is gone"
(USB unplug, pty closed, remote end hung up), whatever pyserial or the OS raised.

``socket://host:port`` is served by asyncio's own TCP streams rather than pyserial's URL
handler: pyserial-asyncio polls a file descriptor, which its socket handler does not give.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import serial
import serial_asyncio

from smsgw.at.portlock import PortInUse, PortLock
from smsgw.exceptions import AtConnectionLost

__all__ = ["DEFAULT_BAUD", "PortInUse", "StreamTransport", "open_transport"]

log = logging.getLogger(__name__)

DEFAULT_BAUD = 115200
READ_SIZE = 4096


class StreamTransport:
    """A :class:`~smsgw.at.link.Transport` over an asyncio reader/writer pair."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        description: str,
        lock: PortLock | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._description = description
        self._closed = False
        self._lock = lock

    @property
    def description(self) -> str:
        return self._description

    async def read(self) -> bytes:
        if self._closed:
            raise AtConnectionLost(f"{self._description}: closed")
        try:
            data = await self._reader.read(READ_SIZE)
        except (OSError, serial.SerialException) as exc:
            raise AtConnectionLost(f"{self._description}: {exc}") from exc
        if not data:
            raise AtConnectionLost(f"{self._description}: end of stream")
        return data

    async def write(self, data: bytes) -> None:
        if self._closed or self._writer.is_closing():
            raise AtConnectionLost(f"{self._description}: closed")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, serial.SerialException) as exc:
            raise AtConnectionLost(f"{self._description}: {exc}") from exc

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), timeout=2.0)
        except (OSError, serial.SerialException, TimeoutError) as exc:
            log.debug("%s: error while closing: %s", self._description, exc)
        finally:
            if self._lock is not None:
                self._lock.release()


async def open_transport(port: str, *, baudrate: int = DEFAULT_BAUD) -> StreamTransport:
    """Open a device path (``/dev/ttyUSB2``, a pty) or ``socket://host:port``.

    Raises :class:`~smsgw.exceptions.AtConnectionLost` when the port cannot be opened
    (missing, busy, permission denied), so the supervisor has one error to retry on;
    :class:`~smsgw.at.portlock.PortInUse` (a subclass) when another live process holds the
    port's lock file, before the device is opened (nothing is written to it).
    A device is opened exclusively (`flock`), and its UUCP lock file is held until `close()`.
    """
    if port.startswith("socket://"):
        url = urlsplit(port)
        if url.hostname is None or url.port is None:
            raise AtConnectionLost(f"{port}: expected socket://host:port")
        try:
            reader, writer = await asyncio.open_connection(url.hostname, url.port)
        except (OSError, ValueError) as exc:
            raise AtConnectionLost(f"cannot open {port}: {exc}") from exc
        return StreamTransport(reader, writer, port)
    lock = PortLock.acquire(port)
    try:
        reader, writer = await serial_asyncio.open_serial_connection(
            url=port, baudrate=baudrate, rtscts=False, dsrdtr=False, exclusive=True
        )
    except (OSError, serial.SerialException, ValueError) as exc:
        lock.release()
        if "exclusively lock" in str(exc):
            raise AtConnectionLost(
                f"cannot open {port}: port in use by another program (it holds the device "
                "lock; fuser -v the device to see which)"
            ) from exc
        raise AtConnectionLost(f"cannot open {port}: {exc}") from exc
    except BaseException:
        lock.release()
        raise
    return StreamTransport(reader, writer, port, lock)
