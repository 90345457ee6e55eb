"""Run a `Device` on a real pseudo-terminal with asyncio.

The pty is the emulated modem's serial port: the slave side is what clients open (via the
symlink at `link`), the master side is the modem. Both ends are put in raw mode
(`tty.setraw`) so the line discipline mangles nothing (no CR->LF, no echo, no ^Z signal)
before the client configures the port. We keep our own handle on the slave open so the
master never sees EIO between clients.

Unplug closes both ends and removes the link (clients get an I/O error, like a USB
device vanishing); replug makes a *new* pty and points the same link at it, and the
device boots again. Output can be paced at the configured baud rate (10 bits per byte),
so throughput is realistic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import tty
from collections.abc import Callable
from pathlib import Path

from smsgw.emulator.device import Device
from smsgw.emulator.pump import DevicePump

log = logging.getLogger(__name__)

READ_CHUNK = 4096
#: With pacing on, output is written in slices of 1/PACING_SLICES_PER_S of a second.
PACING_SLICES_PER_S = 50

#: Observes the wire: ("rx", bytes the host wrote) or ("tx", bytes the modem wrote) and the
#: `time.monotonic()` at which they crossed the pty. Benchmarks time `+CMTI` and `AT+CMGS`
#: with it; it must return quickly (it runs inside the pump).
WireTap = Callable[[str, bytes, float], None]


class PtyPort:
    """One pty pair published at a symlink; owns the file descriptors."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.master_fd)
        tty.setraw(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.slave_name = os.ttyname(self.slave_fd)
        _publish_link(link, self.slave_name)

    def close(self) -> None:
        """Remove the link (only if it still points at us) and close both ends."""
        with contextlib.suppress(OSError):
            if os.readlink(self.link) == self.slave_name:
                self.link.unlink()
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def _publish_link(link: Path, target: str) -> None:
    """Atomically point `link` at `target` (a stale link from a crashed run is replaced).

    Anything at `link` that is not a symlink is left alone (FileExistsError): a typo in
    `--link` must never replace a real file or device node.
    """
    if os.path.lexists(link) and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink; refusing to replace it")
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    os.replace(temporary, link)


class PtyRunner:
    """Pumps bytes between a pty and a Device (through a DevicePump) with optional pacing."""

    def __init__(self, device: Device, link: Path, *, baud: int | None = None) -> None:
        self.device = device
        self.link = link
        self.baud = baud
        self.port: PtyPort | None = None
        self.pump = DevicePump(device, self._queue_output)
        self.plugged = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outgoing = bytearray()
        #: loop.time() when the oldest byte in `_outgoing` was queued (pacing; see the writer).
        self._pending_since = 0.0
        self._writable = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._replug_task: asyncio.Task[None] | None = None
        self.taps: list[WireTap] = []

    @property
    def ready(self) -> asyncio.Event:
        """Set while the device has finished booting (SMS commands work)."""
        return self.pump.ready

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the pty, power the device on and start pumping."""
        self._loop = asyncio.get_running_loop()
        await self.pump.start(power_on=False)
        self._writer = asyncio.create_task(self._writer_loop(), name="emulator-writer")
        try:
            self._plug()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop pumping, close the pty and remove the link."""
        for task in (self._replug_task, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.pump.stop()
        self._unplug_port()

    def poke(self) -> None:
        """Something changed the device from outside (an API call): rerun the timers."""
        self.pump.poke()

    # ------------------------------------------------------------------ plug / unplug
    def _plug(self) -> None:
        assert self._loop is not None
        self.port = PtyPort(self.link)
        self._loop.add_reader(self.port.master_fd, self._on_readable)
        self.device.power_on(self.pump.now())
        self.plugged.set()
        self.pump.poke()
        log.info("emulated modem on %s -> %s", self.link, self.port.slave_name)

    def _unplug_port(self) -> None:
        if self.port is None:
            return
        assert self._loop is not None
        self._loop.remove_reader(self.port.master_fd)
        self.port.close()
        self.port = None
        self._outgoing.clear()
        self.plugged.clear()

    async def unplug(self, for_s: float | None) -> None:
        """The USB device vanishes; it comes back at the same link after `for_s` seconds."""
        self.device.power_off()
        self._unplug_port()
        self.pump.poke()
        if self._replug_task is not None:
            self._replug_task.cancel()
            self._replug_task = None
        if for_s is not None:
            self._replug_task = asyncio.create_task(self._replug_after(for_s))

    async def replug(self) -> None:
        """Plug back in now (no-op when plugged)."""
        if self.port is None:
            self._plug()

    async def _replug_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._replug_task = None
        self._plug()

    # ------------------------------------------------------------------ data pumps
    def _on_readable(self) -> None:
        assert self.port is not None
        try:
            data = os.read(self.port.master_fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: no slave open (cannot happen while we hold one)
            log.debug("pty read failed: %s", error)
            return
        self._tap("rx", data)
        self.pump.feed(data)

    def _tap(self, direction: str, data: bytes) -> None:
        if self.taps:
            now = time.monotonic()
            for tap in self.taps:
                tap(direction, data, now)

    def _queue_output(self, data: bytes) -> None:
        if self.port is not None:
            if not self._outgoing and self._loop is not None:
                self._pending_since = self._loop.time()
            self._outgoing.extend(data)
            self._writable.set()

    async def _writer_loop(self) -> None:
        # Pacing models a UART: bytes go out back to back at the baud rate, starting when
        # they were queued or when the line finished the previous ones, whichever is later.
        # Each chunk's start is computed from that model, not from when the loop woke up, so
        # the timer's coarse wake-ups (epoll counts in whole milliseconds) delay single
        # chunks a little but never make the emulated line slower than its baud rate; they
        # used to, by up to a millisecond after every small reply (echo, OK) in a burst.
        line_free_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await self._writable.wait()
            self._writable.clear()
            while self._outgoing and self.port is not None:
                chunk_size = len(self._outgoing)
                starts_at = 0.0
                if self.baud:
                    slice_bytes = self.baud // 10 // PACING_SLICES_PER_S
                    chunk_size = max(1, min(chunk_size, slice_bytes))
                    starts_at = max(line_free_at, self._pending_since)
                    if starts_at > loop.time():
                        await asyncio.sleep(starts_at - loop.time())
                        if not self._outgoing or self.port is None:
                            break
                try:
                    chunk = bytes(self._outgoing[:chunk_size])
                    written = os.write(self.port.master_fd, chunk)
                except BlockingIOError:
                    await asyncio.sleep(0.01)  # nobody reads: the pty buffer is full
                    continue
                except OSError as error:
                    log.debug("pty write failed: %s", error)
                    self._outgoing.clear()
                    break
                del self._outgoing[:written]
                self._tap("tx", chunk[:written])
                if self.baud:
                    line_free_at = starts_at + written * 10 / self.baud
