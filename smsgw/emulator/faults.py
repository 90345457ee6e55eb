"""What tests and the control socket do to an emulated modem (`device.faults`): a hung
firmware, unsolicited lines at awkward moments, line noise, a radio that drops off the network,
a weak signal and sends the network refuses. Kept apart from the device's own behaviour so the
facade stays small and every fault knob is in one place."""

from __future__ import annotations

from typing import Literal

from smsgw.emulator import radio
from smsgw.emulator.interpreter import LineInterpreter
from smsgw.emulator.state import DeviceState

__all__ = ["DeviceFaults", "UrcPosition"]

UrcPosition = Literal["now", "mid_reply", "before_echo"]


class DeviceFaults:
    """The fault knobs of one `Device`."""

    def __init__(self, state: DeviceState, line: LineInterpreter) -> None:
        self._state = state
        self._line = line

    def set_unresponsive(self, unresponsive: bool) -> None:
        """A hung firmware: input ignored, nothing sent (timers keep running inside)."""
        self._state.out.unresponsive = unresponsive

    @property
    def unresponsive(self) -> bool:
        return self._state.out.unresponsive

    def inject_urc(self, line: str, at: UrcPosition = "now") -> None:
        """An unsolicited line: now, inside the next reply, or before the next echo."""
        if at == "now":
            self._state.out.raw(f"\r\n{line}\r\n".encode())
        elif at == "mid_reply":
            self._state.mid_reply.append(line)
        else:
            self._line.before_echo.append(line)

    def inject_garbage(self, data: bytes) -> None:
        """Raw bytes on the line (line noise, a glitching USB bridge)."""
        self._state.out.raw(data)

    def stick_radio(self, *, permanent: bool = False) -> None:
        """The radio drops off the network until `AT+CFUN` restarts it (never: `permanent`)."""
        radio.stick(self._state, permanent=permanent)

    def set_registration(self, name: str) -> None:
        """The network's answer from now on: home, roaming, searching or denied."""
        radio.force_registration(self._state, name)

    def set_signal(self, rssi: int) -> None:
        """`AT+CSQ` <rssi> from now on (0-31, 99 unknown), e.g. 0 for no usable signal."""
        self._state.rssi = rssi

    def fail_next_send(self, cause: int = 500) -> None:
        """The next `AT+CMGS`/`AT+CMSS` fails with `+CMS ERROR: <cause>` (e.g. 21, 38, 500)."""
        self._state.send_failures.append(cause)
