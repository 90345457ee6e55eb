"""The fault knobs of a running emulated modem (`modem.faults`), for tests and the control
socket. Each one changes the device's `DeviceFaults` and wakes the pty runner, so what it
causes (a URC, a deregistration) is on the wire at once rather than at the next timer."""

from __future__ import annotations

from collections.abc import Callable

from smsgw.emulator.faults import DeviceFaults, UrcPosition

__all__ = ["LiveFaults"]

_URC_POSITIONS: tuple[UrcPosition, ...] = ("now", "mid_reply", "before_echo")


class LiveFaults:
    """`DeviceFaults` of a device a pty runner serves."""

    def __init__(self, faults: DeviceFaults, wake: Callable[[], None]) -> None:
        self._faults = faults
        self._wake = wake

    async def inject_urc(self, line: str, at: str = "now") -> None:
        """An unsolicited line now, inside the next reply, or before the next echo."""
        position = next((known for known in _URC_POSITIONS if known == at), None)
        if position is None:
            raise ValueError(f"unknown URC position {at!r}")
        self._faults.inject_urc(line, position)
        self._wake()

    async def set_registration(self, name: str) -> None:
        """The network's answer from now on: home, roaming, searching or denied."""
        self._wake()
        self._faults.set_registration(name)
        self._wake()

    def set_signal(self, rssi: int) -> None:
        """`AT+CSQ` <rssi> from now on (0-31, 99 unknown)."""
        self._faults.set_signal(rssi)

    async def stick_radio(self, permanent: bool = False) -> None:
        """The radio drops off the network until `AT+CFUN` restarts it (never: `permanent`)."""
        self._wake()
        self._faults.stick_radio(permanent=permanent)
        self._wake()

    def inject_garbage(self, data: bytes) -> None:
        """Raw bytes on the line (line noise, a glitching USB bridge)."""
        self._faults.inject_garbage(data)

    def set_unresponsive(self, unresponsive: bool) -> None:
        """A hung firmware: input ignored, nothing sent."""
        self._faults.set_unresponsive(unresponsive)

    def fail_next_send(self, cause: int = 500) -> None:
        """The next `AT+CMGS`/`AT+CMSS` fails with `+CMS ERROR: <cause>`."""
        self._faults.fail_next_send(cause)
