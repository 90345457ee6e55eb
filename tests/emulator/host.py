"""Drive the sans-I/O Device like a host would, with a manual clock."""

from __future__ import annotations

import datetime

from smsgw.emulator import Device, DeviceOptions, get_profile

FIXED_TIME = datetime.datetime(
    2024, 2, 8, 14, 20, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
)


class Host:
    """Types commands at a Device and reads what comes back, moving time by hand."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.now = 0.0

    def wait(self, seconds: float) -> bytes:
        """Let time pass; returns whatever the modem sent meanwhile."""
        self.now += seconds
        self.device.advance(self.now)
        return self.device.read_output()

    def raw(self, data: bytes, *, settle: float = 0.0) -> bytes:
        self.device.advance(self.now)
        self.device.feed(data)
        out = self.device.read_output()
        return out + (self.wait(settle) if settle else b"")

    def at(self, command: str, *, settle: float = 0.0) -> str:
        """Send one command line (CR-terminated) and return the reply as text."""
        return self.raw(command.encode() + b"\r", settle=settle).decode("latin-1")

    def lines(self, command: str) -> list[str]:
        """Non-empty reply lines, echo excluded (call after ATE0)."""
        return [line for line in self.at(command).split("\r\n") if line]


def boot(profile: str, **options: object) -> Host:
    opts = DeviceOptions(noise_interval=0, wall_clock=lambda: FIXED_TIME)
    for key, value in options.items():
        setattr(opts, key, value)
    device = Device(get_profile(profile), opts)
    device.power_on(0.0)
    host = Host(device)
    host.wait(5.0)
    return host
