"""The emulated modem as a sans-I/O state machine: bytes in, bytes out, time passed in.

Use it directly (tier-2 tests connect the driver to it without a pty)::

    device = Device(get_profile("sim800"), DeviceOptions(report_delay=1.0))
    device.power_on(now=0.0)          # schedules the boot banner
    device.advance(1.0)               # time moves only when you say so; fires due timers
    device.read_output()              # b"\\r\\nRDY\\r\\n\\r\\n+CFUN: 1\\r\\n..."
    device.feed(b"ATE0\\r")           # whatever the host wrote, split anywhere
    device.read_output()              # b"ATE0\\r\\r\\nOK\\r\\n"
    device.deliver("+40721000000", "Hi")   # the network delivers an SMS -> +CMTI URC
    device.next_deadline()            # when advance() has something to do (or None)

`set_output_listener(callback)` is called after output is produced (the pty runner uses it
to wake its writer). Nothing here blocks, sleeps or reads a clock: `feed()` and the network
calls use the time of the last `advance(now)`. `smsgw.emulator.pump.DevicePump` does the
clock and output plumbing on an asyncio loop for in-memory streams.

The device is a facade: the modem's memory is one `DeviceState` (`device.state`), and each
job has its module: `interpreter` (echo, command lines, prompt), `commands` (one handler
per AT command), `boot` (power, banner, SMS Ready), `radio` (registration), `inbound`
(SMS and reports from the network), `outbound` (sending), `framing` (bytes on the wire),
`faults` (what tests do to it: a hung firmware, line noise, a stuck radio, failing sends).
"""

from __future__ import annotations

from collections.abc import Callable

from smsgw import pdu
from smsgw.emulator import boot, calls, inbound, network
from smsgw.emulator.faults import DeviceFaults
from smsgw.emulator.interpreter import LineInterpreter
from smsgw.emulator.profiles import Profile
from smsgw.emulator.state import DeviceOptions, DeviceState, Prompt
from smsgw.emulator.storage import Storage

__all__ = ["Device", "DeviceOptions"]


class Device:
    """One emulated modem (see the module docstring for the calling convention)."""

    def __init__(self, profile: Profile, options: DeviceOptions | None = None) -> None:
        self.profile = profile
        self.options = options or DeviceOptions()
        self.state = DeviceState(profile, self.options)
        self._line = LineInterpreter(self.state)
        self.state.reboot = self.reboot
        self.faults = DeviceFaults(self.state, self._line)

    # ------------------------------------------------------------------ I/O surface
    def set_output_listener(self, callback: Callable[[], None] | None) -> None:
        """Called (with no arguments) whenever new output is ready to read."""
        self.state.out.set_listener(callback)

    def read_output(self) -> bytes:
        """Everything the modem has sent since the last call."""
        return self.state.out.read()

    def feed(self, data: bytes) -> None:
        """Bytes the host wrote; split anywhere, processed as a real firmware would."""
        self._line.feed(data)

    def advance(self, now: float) -> None:
        """Move the device's clock to `now` and run every timer that is due."""
        self.state.timers.advance(now)

    def next_deadline(self) -> float | None:
        """Earliest pending timer (for the runner's sleep), or None."""
        return self.state.timers.next_deadline()

    @property
    def now(self) -> float:
        return self.state.now

    # ------------------------------------------------------------------ what tests look at
    @property
    def cnmi(self) -> tuple[int, int, int, int, int]:
        """The routing the host chose with `AT+CNMI` (for assertions in tests)."""
        return self.state.settings.cnmi

    @property
    def sms_ready(self) -> bool:
        """Boot finished and the SIM unlocked: SMS commands work."""
        return self.state.powered and self.state.sms_ready

    @property
    def powered(self) -> bool:
        return self.state.powered

    @property
    def prompt(self) -> Prompt | None:
        """The open `> ` prompt, if any."""
        return self.state.prompt

    @property
    def awaiting_cnma(self) -> bool:
        """A routed `+CMT`/`+CDS` waits for `AT+CNMA` (with `AT+CSMS=1`)."""
        return self.state.awaiting_cnma

    @property
    def sent(self) -> list[network.SentMessage]:
        """Every complete logical message the host sent, oldest first."""
        return list(self.state.sent_log.messages)

    def storage(self, name: str) -> Storage:
        return self.state.storages.get(name)

    # ------------------------------------------------------------------ power and faults
    def power_on(self, now: float | None = None) -> None:
        """Boot: banner and noise are scheduled; volatile settings start from defaults."""
        self._line.reset()
        boot.power_on(self.state, now)

    def power_off(self) -> None:
        """Power lost (unplug): nothing in or out, pending boot timers are void."""
        boot.power_off(self.state)

    def reboot(self) -> None:
        """Module reset: the banner again, volatile settings back to defaults."""
        self.power_off()
        self.power_on()

    # ------------------------------------------------------------------ network side
    def deliver(
        self,
        sender: str,
        text: str,
        *,
        encoding: pdu.Encoding | None = None,
        message_class: int | None = None,
        concat_ref: int | None = None,
    ) -> list[str]:
        """An SMS arrives from the network (multipart/UCS-2 as an SMSC would encode it)."""
        pdus = network.deliver_pdus(
            sender,
            text,
            self.options.wall_clock(),
            smsc=self.state.smsc,
            encoding=encoding,
            message_class=message_class,
            concat_ref=concat_ref,
        )
        for pdu_hex in pdus:
            self.deliver_pdu(pdu_hex)
        return pdus

    def incoming_call(self, number: str, rings: int = 6) -> None:
        """Someone calls the SIM: RING (and +CLIP with AT+CLIP=1) until ATH or `rings`."""
        calls.incoming_call(self.state, number, rings)

    def deliver_pdu(self, pdu_hex: str) -> None:
        """A DELIVER (or STATUS-REPORT) PDU arrives verbatim (hex with the SMSC octet)."""
        inbound.deliver_pdu(self.state, pdu_hex)
