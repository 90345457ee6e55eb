"""A virtual GSM modem (SIM800, Huawei or generic persona) for tests, demos and fault drills.

- `Device` (smsgw.emulator.device): the sans-I/O modem, bytes in -> bytes out, time passed in.
- `DevicePump` (smsgw.emulator.pump): that device on asyncio time over any byte sink.
- `EmulatedModem` (smsgw.emulator.modem): that device on a real pty, async context manager.
- `smsgw emulator serve|deliver|sent|unplug|reboot|urc`: the same from the command line,
  driven through a control socket (smsgw.emulator.control).

Imports only `smsgw.pdu`, `smsgw.models`, `smsgw.exceptions` and the stdlib: the emulator
parses AT on its own so it cannot share a misunderstanding with the driver.
"""

from smsgw.emulator.device import Device, DeviceOptions
from smsgw.emulator.modem import EmulatedModem
from smsgw.emulator.network import SentMessage
from smsgw.emulator.profiles import PROFILES, Profile, get_profile
from smsgw.emulator.pump import DevicePump

__all__ = [
    "PROFILES",
    "Device",
    "DeviceOptions",
    "DevicePump",
    "EmulatedModem",
    "Profile",
    "SentMessage",
    "get_profile",
]
