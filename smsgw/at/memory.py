"""An in-memory serial line with fault injection, for tests and the in-process emulator.

:class:`MemoryLine` has two ends. The *host* end (:attr:`MemoryLine.host`) is a
:class:`~smsgw.at.link.Transport` the channel uses exactly like a real port. The *device*
end is plain methods: :meth:`MemoryLine.to_host` queues bytes towards the host and
:attr:`MemoryLine.on_host_write` receives what the host wrote.

:class:`Faults` shapes the device-to-host direction the way bad cables and chatty
firmwares do: splitting into small chunks (one byte at a time included), delaying each
chunk, dropping or corrupting chunks, and injecting URC lines at line boundaries (before
an echo, inside a multi-line reply). Everything random is seeded, so a failing run repeats.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from smsgw.exceptions import AtConnectionLost

__all__ = ["Faults", "MemoryLine", "MemoryTransport"]


@dataclass(frozen=True)
class Faults:
    """How to damage device-to-host traffic; the default damages nothing."""

    chunk_size: int = 0
    """Split every write into chunks of at most this many bytes (0 = keep as written)."""
    delay: float = 0.0
    """Seconds before each chunk becomes readable."""
    drop_rate: float = 0.0
    """Probability of losing a chunk entirely."""
    corrupt_rate: float = 0.0
    """Probability of flipping one random bit in a chunk."""
    urcs: Sequence[bytes] = ()
    """URC lines (without line ends) to inject at line boundaries."""
    urc_rate: float = 0.0
    """Probability of injecting one of ``urcs`` at each line boundary."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "corrupt_rate", "urc_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        if self.chunk_size < 0 or self.delay < 0:
            raise ValueError("chunk_size and delay must not be negative")


@dataclass
class _Pending:
    data: bytes
    delay: float


@dataclass
class MemoryTransport:
    """The host end of a :class:`MemoryLine` (implements :class:`~smsgw.at.link.Transport`)."""

    line: MemoryLine
    _queue: asyncio.Queue[_Pending | BaseException] = field(default_factory=asyncio.Queue)
    _lost: BaseException | None = None

    @property
    def description(self) -> str:
        return self.line.name

    async def read(self) -> bytes:
        while True:
            if self._lost is not None and self._queue.empty():
                raise AtConnectionLost(f"{self.line.name}: {self._lost}")
            item = await self._queue.get()
            if isinstance(item, BaseException):
                self._lost = item
                continue
            if item.delay:
                await asyncio.sleep(item.delay)
            if item.data:
                return item.data

    async def write(self, data: bytes) -> None:
        if self._lost is not None or self.line.closed:
            raise AtConnectionLost(f"{self.line.name}: disconnected")
        self.line.written.append(bytes(data))
        if self.line.on_host_write is not None:
            self.line.on_host_write(bytes(data))

    async def close(self) -> None:
        self.line.disconnect("closed by host")


class MemoryLine:
    """A pair of connected ends; see the module docstring."""

    def __init__(self, faults: Faults | None = None, *, name: str = "memory") -> None:
        self.name = name
        self.faults = faults or Faults()
        self.on_host_write: Callable[[bytes], None] | None = None
        self.written: list[bytes] = []
        """Everything the host wrote, in order (handy for assertions)."""
        self.closed = False
        self._random = random.Random(self.faults.seed)
        self._in_two_line_urc = False
        self._at_line_start = True
        self.host = MemoryTransport(self)

    def to_host(self, data: bytes) -> None:
        """Queue ``data`` towards the host, damaged as :attr:`faults` says."""
        if self.closed or not data:
            return
        for chunk in self._chunks(self._with_urcs(data)):
            if self.faults.drop_rate and self._random.random() < self.faults.drop_rate:
                continue
            if self.faults.corrupt_rate and self._random.random() < self.faults.corrupt_rate:
                chunk = self._corrupt(chunk)
            self.host._queue.put_nowait(_Pending(chunk, self.faults.delay))

    def disconnect(self, reason: str = "unplugged") -> None:
        """The port vanishes: the host's pending and later reads raise AtConnectionLost."""
        if self.closed:
            return
        self.closed = True
        self.host._queue.put_nowait(ConnectionError(reason))

    # -- damage -----------------------------------------------------------------------
    def _with_urcs(self, data: bytes) -> bytes:
        faults = self.faults
        if not faults.urcs or not faults.urc_rate:
            return data
        out = bytearray()
        previous = 0
        for boundary in [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]:
            out += data[previous:boundary]
            if boundary:
                line = data[data.rfind(b"\n", 0, boundary - 1) + 1 : boundary].strip()
                if line:
                    # Real modems never split a two-line URC (header + PDU) with another.
                    self._in_two_line_urc = line.startswith((b"+CMT:", b"+CDS:", b"+CBM:"))
            previous = boundary
            at_line_start = boundary > 0 or self._at_line_start
            inject = at_line_start and not self._in_two_line_urc
            if inject and self._random.random() < faults.urc_rate:
                out += self._random.choice(list(faults.urcs)) + b"\r\n"
        out += data[previous:]
        self._at_line_start = data.endswith(b"\n")
        return bytes(out)

    def _chunks(self, data: bytes) -> list[bytes]:
        size = self.faults.chunk_size
        if not size:
            return [data]
        return [data[i : i + size] for i in range(0, len(data), size)]

    def _corrupt(self, chunk: bytes) -> bytes:
        damaged = bytearray(chunk)
        position = self._random.randrange(len(damaged))
        damaged[position] ^= 1 << self._random.randrange(8)
        return bytes(damaged)
