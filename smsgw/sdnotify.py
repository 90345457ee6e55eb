"""systemd service notifications (`sd_notify(3)`): READY=1, STATUS=, WATCHDOG=1, STOPPING=1.

Why not a dependency: the protocol is one datagram of `KEY=value` lines to the AF_UNIX socket
named in `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). Outside systemd
the variable is unset and every call is a cheap no-op, so the daemon can call these freely.

Watchdog: with `WatchdogSec=` systemd sets `$WATCHDOG_USEC` (and `$WATCHDOG_PID`); the daemon
must send `WATCHDOG=1` more often than that, and only while it is healthy, so that a stuck
event loop gets the service restarted. `watchdog_interval()` returns half the deadline, the
ping period `sd_watchdog_enabled(3)` recommends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

__all__ = ["Notifier", "keep_alive", "watchdog_interval"]

log = logging.getLogger(__name__)


class Notifier:
    """Sends notifications to the service manager; silently inert when not under systemd."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        address = environ.get("NOTIFY_SOCKET", "")
        # "@name" is Linux's abstract namespace: a leading NUL byte on the wire.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._watchdog = watchdog_interval(environ)

    @property
    def enabled(self) -> bool:
        """True when a service manager is listening."""
        return bool(self._address)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between `WATCHDOG=1` pings, or None when no watchdog is configured."""
        return self._watchdog

    def notify(self, **fields: str | int) -> bool:
        """Send `KEY=value` lines (keys upper-cased); True when the datagram went out.

        Failures are logged, never raised: losing a status line must not stop the gateway
        (systemd itself notices a missing READY=1 or watchdog ping).
        """
        if not self._address or not fields:
            return False
        lines = []
        for key, value in fields.items():
            text = str(value)
            if "\n" in text:
                raise ValueError(f"notification {key}= must be one line")
            lines.append(f"{key.upper()}={text}")
        payload = "\n".join(lines).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._address)
                sock.sendall(payload)
        except OSError as exc:
            log.warning("sd_notify to %r failed: %s", self._address.lstrip("\0"), exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """READY=1: modems and the API are up (Type=notify units wait for this)."""
        return self.notify(ready=1, **({"status": status} if status else {}))

    def status(self, text: str) -> bool:
        """STATUS=: one human line shown by `systemctl status`."""
        return self.notify(status=text)

    def watchdog(self) -> bool:
        """WATCHDOG=1: "the event loop is alive"; call every `watchdog_interval` seconds."""
        return self.notify(watchdog=1)

    def stopping(self) -> bool:
        """STOPPING=1: shutdown has begun (stops the watchdog from firing during it)."""
        return self.notify(stopping=1)


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Half of `$WATCHDOG_USEC` in seconds, when the watchdog applies to this process."""
    environ = os.environ if env is None else env
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    return usec / 2_000_000


async def keep_alive(notifier: Notifier, healthy: Callable[[], bool] = lambda: True) -> None:
    """Send WATCHDOG=1 every `watchdog_interval` seconds while `healthy()` says so.

    Run it as a task on the daemon's event loop: if the loop stalls, the pings stop and systemd
    restarts the service; if `healthy()` turns False (e.g. the database is gone for good), the
    pings are withheld for the same effect. Returns at once when no watchdog is configured.
    """
    interval = notifier.watchdog_interval
    if interval is None:
        return
    while True:
        if healthy():
            notifier.watchdog()
        await asyncio.sleep(interval)
