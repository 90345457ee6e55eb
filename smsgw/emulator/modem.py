"""`EmulatedModem`: the Python API tests and `smsgw emulator serve` use.

    async with EmulatedModem(profile="sim800", link=tmp_path / "modem") as modem:
        ...  # open modem.link with any serial client
        await modem.deliver("+40721000000", "Hi")       # network -> +CMTI
        modem.sent()                                    # what the host sent
        await modem.unplug(for_s=3)                     # pty gone, back after 3 s
        await modem.wait_plugged()
        await modem.reboot()
        await modem.faults.inject_urc("RING", at="mid_reply")
        modem.faults.inject_garbage(b"\\xff\\x00")
        modem.faults.set_unresponsive(True)

With `control=PATH` the same operations are also served on a unix socket
(see `smsgw.emulator.control`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from smsgw import pdu
from smsgw.emulator.control import ControlServer
from smsgw.emulator.device import Device, DeviceOptions
from smsgw.emulator.live_faults import LiveFaults
from smsgw.emulator.network import SentMessage
from smsgw.emulator.profiles import Profile, get_profile
from smsgw.emulator.pty import PtyRunner, WireTap
from smsgw.emulator.ussd import UssdService


class EmulatedModem:
    """A Device on a pty at `link`, plus an optional control socket."""

    def __init__(
        self,
        profile: str | Profile = "sim800",
        link: str | Path = "/tmp/smsgw-modem",
        *,
        control: str | Path | None = None,
        baud: int | None = None,
        options: DeviceOptions | None = None,
    ) -> None:
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.link = Path(link)
        self.control_path = Path(control) if control is not None else None
        self.device = Device(self.profile, options)
        self._runner = PtyRunner(self.device, self.link, baud=baud)
        self.faults = LiveFaults(self.device.faults, self._runner.poke)
        self._control: ControlServer | None = None

    async def __aenter__(self) -> EmulatedModem:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Publish the pty (and the control socket); nothing is left behind on failure."""
        await self._runner.start()
        if self.control_path is not None:
            control = ControlServer(self, self.control_path)
            try:
                await control.start()
            except BaseException:
                await self._runner.stop()
                raise
            self._control = control

    async def stop(self) -> None:
        if self._control is not None:
            await self._control.stop()
        await self._runner.stop()

    # ------------------------------------------------------------------ state
    @property
    def pty_name(self) -> str | None:
        """The current slave device (`/dev/pts/N`), None while unplugged."""
        return self._runner.port.slave_name if self._runner.port else None

    async def wait_ready(self) -> None:
        """Until the boot sequence has finished (SIM800 "SMS Ready"); wrap in a timeout."""
        await self._runner.ready.wait()

    async def wait_plugged(self) -> None:
        """Until the pty is back after an unplug; wrap in a timeout."""
        await self._runner.plugged.wait()

    def status(self) -> dict[str, object]:
        return {
            "profile": self.profile.name,
            "link": str(self.link),
            "pty": self.pty_name,
            "plugged": self._runner.port is not None,
            "unresponsive": self.device.faults.unresponsive,
            "sent": len(self.device.sent),
        }

    def add_wire_tap(self, tap: WireTap) -> None:
        """Observe every chunk crossing the pty, timestamped (benchmarks: +CMTI -> POST)."""
        self._runner.taps.append(tap)

    # ------------------------------------------------------------------ network side
    async def deliver(
        self,
        sender: str,
        text: str,
        *,
        encoding: pdu.Encoding | None = None,
        message_class: int | None = None,
    ) -> list[str]:
        """An SMS from `sender` reaches the modem; returns the DELIVER PDUs (hex)."""
        self._runner.poke()
        pdus = self.device.deliver(sender, text, encoding=encoding, message_class=message_class)
        self._runner.poke()
        return pdus

    async def deliver_pdu(self, pdu_hex: str) -> None:
        """A PDU (hex with SMSC octet) arrives verbatim; ValueError when not hex."""
        self._runner.poke()
        self.device.deliver_pdu(pdu_hex)
        self._runner.poke()

    def sent(self) -> list[SentMessage]:
        """Every complete message the host sent through this modem."""
        return self.device.sent

    def sent_json(self) -> list[dict[str, object]]:
        return [message.as_json() for message in self.device.sent]

    # ------------------------------------------------------------------ faults
    async def unplug(self, for_s: float | None = None) -> None:
        """The pty disappears; with `for_s` it reappears at the same link (freshly booted)."""
        await self._runner.unplug(for_s)

    async def replug(self) -> None:
        await self._runner.replug()

    async def reboot(self) -> None:
        """Module reset: banner again, volatile settings (echo, CMEE, CNMI...) lost."""
        self._runner.poke()
        self.device.reboot()
        self._runner.poke()

    async def ring(self, number: str, rings: int = 6) -> None:
        """An incoming call: RING (and +CLIP with AT+CLIP=1) until hung up or `rings`."""
        self._runner.poke()
        self.device.incoming_call(number, rings)
        self._runner.poke()

    async def call(self, number: str, rings: int = 6) -> None:
        """`ring` with an empty `number` for a withheld caller (+CLIP with no number)."""
        await self.ring(number, rings)

    def set_ussd(self, service: UssdService) -> None:
        """What the network answers USSD requests from now on."""
        self.device.options.ussd = service
