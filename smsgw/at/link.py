"""What the channel needs from a byte link, whatever carries the bytes.

Two implementations exist: :mod:`smsgw.at.transport` (pyserial-asyncio on a device path,
a pty, or ``socket://host:port``) and :mod:`smsgw.at.memory` (an in-memory pair with fault
injection, for tests and the in-process emulator). Keeping the interface here lets the
channel and the modem layer be written and type-checked without importing pyserial.
"""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    """A bidirectional byte stream to one modem port.

    ``read`` returns the next non-empty chunk, however the port happened to split it, and
    raises :class:`~smsgw.exceptions.AtConnectionLost` once the port is gone (EOF, I/O
    error, USB unplug, :meth:`close`). ``write`` raises the same when writing is impossible.
    """

    @property
    def description(self) -> str:
        """Where the bytes go (device path or URL), for logs and error messages."""
        ...

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...
