"""One owner per serial port: a UUCP-style lock file that minicom, ModemManager-era tools,
gammu and smsgw itself honour, taken before the port is opened.

A second program talking to a modem in the middle of an `AT+CMGS` corrupts the exchange:
the daemon may record as failed a message the modem actually sent. The lock file is checked
before the device is even opened, so a refused process sends not a single byte. (The open
itself is also exclusive, `flock` through pyserial, for tools that skip lock files.)

Format (HDB UUCP, as in the FHS): `/run/lock/LCK..ttyUSB0` holding the owner's PID as ten
ASCII columns and a newline. A lock whose process is gone is stale and taken over. When no
lock directory is writable (not root, not in the `lock` group), the file is skipped with a
debug line and the exclusive open alone protects the port. `SMSGW_LOCK_DIR` overrides the
directory (tests, unusual systems).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from smsgw.exceptions import AtConnectionLost

__all__ = ["PortInUse", "PortLock", "lock_directory", "lock_path", "refuse_held_ports"]

log = logging.getLogger(__name__)

LOCK_DIRECTORIES = ("/run/lock", "/var/lock")

#: Lock files this process holds: its own PID in a lock file is a leftover (taken over) unless
#: it is in here, in which case a second opener in this process is refused like any other.
_HELD: set[Path] = set()


class PortInUse(AtConnectionLost):
    """Another live process holds the port's lock file."""

    def __init__(self, port: str, pid: int) -> None:
        super().__init__(f"{port}: port in use by PID {pid}")
        self.port = port
        self.pid = pid


def lock_directory() -> Path | None:
    """The first writable lock directory, or None (then only the exclusive open protects)."""
    override = os.environ.get("SMSGW_LOCK_DIR")
    candidates = (override,) if override else LOCK_DIRECTORIES
    for candidate in candidates:
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return None


def lock_path(port: str, directory: Path) -> Path:
    """`LCK..<device>` for the real device behind `port` (udev symlinks such as
    /dev/smsgw/sim800 and the tty they point at share one lock); a device below /dev/ keeps
    its sub-directory with `_` (`/dev/pts/3` -> `LCK..pts_3`)."""
    device = Path(os.path.realpath(port))
    try:
        name = str(device.relative_to("/dev")).replace("/", "_")
    except ValueError:
        name = str(device).strip("/").replace("/", "_")
    return directory / f"LCK..{name}"


def _holder(path: Path) -> int | None:
    """The live PID in lock file `path`, or None when it is absent, unreadable or stale."""
    try:
        pid = int(path.read_text(encoding="ascii", errors="replace").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, another user's
    return pid


class PortLock:
    """The lock on one port, held from `acquire()` until `release()`."""

    def __init__(self, port: str, path: Path | None) -> None:
        self.port = port
        self.path = path

    @classmethod
    def acquire(cls, port: str) -> PortLock:
        """Take the port's lock file or raise PortInUse naming the holder's PID."""
        directory = lock_directory()
        if directory is None or port.startswith("socket://"):
            if directory is None:
                log.debug("%s: no writable lock directory; relying on the exclusive open", port)
            return cls(port, None)
        path = lock_path(port, directory)
        for _attempt in range(2):
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _holder(path)
                if holder is not None and (holder != os.getpid() or path in _HELD):
                    raise PortInUse(port, holder) from None
                # Stale (the holder died without cleaning up): take it over once.
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            except OSError as exc:
                log.debug("%s: cannot create %s (%s); relying on the exclusive open", port,
                          path, exc.strerror)  # fmt: skip
                return cls(port, None)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(f"{os.getpid():10d}\n")
            _HELD.add(path)
            return cls(port, path)
        raise PortInUse(port, _holder(path) or 0)

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        if self.path is None:
            return
        _HELD.discard(self.path)
        if _holder(self.path) == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.path = None


def refuse_held_ports(ports: list[str]) -> None:
    """`smsgw run` exits 1 at once when another live process holds a configured port's lock
    (another daemon, a `smsgw modem info`, minicom): otherwise its supervisor would retry
    that modem for ever, and the operator would not learn why it never comes up."""
    directory = lock_directory()
    if directory is None:
        return
    for port in ports:
        if port.startswith("socket://"):
            continue
        holder = _holder(lock_path(port, directory))
        if holder is not None and holder != os.getpid():
            log.error("%s: port in use by PID %d; stop that process first", port, holder)
            raise SystemExit(1)
