"""`DeviceState`: everything one emulated modem knows, and the few moves every part makes.

The command handlers (`smsgw.emulator.commands`), the boot sequence, the network side and
the line interpreter all operate on one `DeviceState`; none of them imports another's
module to reach it, so there is no cycle between the commands and the device facade.
The state owns its clock (`timers`) and its output buffer (`out`): sending a reply,
holding a URC while the line is busy and scheduling a timer are the moves everything
needs, so they live here; what is specific to a job lives in that job's module.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import Literal

from smsgw.emulator import network
from smsgw.emulator.clock import Clock
from smsgw.emulator.framing import Output, final_result
from smsgw.emulator.profiles import Profile
from smsgw.emulator.storage import Stat, Storage, StorageSet
from smsgw.emulator.ussd import UssdService, fixed_replies


class CommandFailed(Exception):
    """A handler's error result: kind "cme"/"cms" with a code, "error", or "unknown"."""

    def __init__(self, kind: Literal["cme", "cms", "error", "unknown"], code: int = 0) -> None:
        super().__init__(f"{kind} {code}")
        self.kind = kind
        self.code = code


def int_arg(value: str | None, low: int, high: int) -> int:
    """A numeric parameter within [low, high]; anything else is a plain ERROR."""
    if value is None:
        raise CommandFailed("error")
    try:
        number = int(value)
    except ValueError:
        raise CommandFailed("error") from None
    if not low <= number <= high:
        raise CommandFailed("error")
    return number


@dataclasses.dataclass
class Settings:
    """Volatile settings: lost on ATZ/reboot (ATZ keeps nothing non-volatile either)."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")
    creg: int = 0
    cgreg: int = 0
    #: `AT+COPS=3,<format>`: 0 long name, 1 short name, 2 numeric MCC+MNC.
    cops_format: int = 0
    csms: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    csdh: int = 0
    curc: int = 1
    clip: int = 0
    #: `AT+CUSD=<n>`: 1 = USSD answers are shown as `+CUSD:` URCs.
    cusd: int = 0
    #: Huawei `AT^USSDMODE`: 1 = USSD strings are packed GSM-7 hex, 0 = plain text.
    ussdmode: int = 1
    #: Plain vendor settings (`AT+CLTS=1`, `AT^PORTSEL=0`...): name -> value, read back.
    plain: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Prompt:
    """An open `> ` prompt: what it is for and what was typed so far."""

    kind: Literal["cmgs", "cmgw"]
    pdu_length: int | None
    number: str | None
    stat: Stat
    typed: bytearray = dataclasses.field(default_factory=bytearray)


@dataclasses.dataclass
class Call:
    """An incoming call that is ringing (see `smsgw.emulator.calls`)."""

    number: str
    rings_left: int


@dataclasses.dataclass
class DeviceOptions:
    """Knobs of the emulated network and SIM (CLI flags map onto these)."""

    cmgs_delay: float = 0.0
    report_delay: float = 1.0
    report_status: network.ReportOutcome = "delivered"
    pin: str | None = None
    puk: str = "12345678"
    #: The SIM's own number (MSISDN) that `AT+CNUM` reads; None = not stored on the SIM,
    #: as on most prepaid cards (`AT+CNUM` then answers a bare OK).
    own_number: str | None = None
    #: With `AT+CSMS=1`, how long a routed `+CMT`/`+CDS` waits for `AT+CNMA` before the ME
    #: refuses it to the network and turns routing off (27.005 §3.4.4).
    cnma_timeout: float = 15.0
    #: How long the SMSC waits before offering a refused message or report again.
    network_retry: float = 60.0
    #: Multiplies the profile's boot banner delays (0 = everything at power-on).
    boot_scale: float = 1.0
    #: Override the profile's periodic URC interval (0 disables it; None = profile default).
    noise_interval: float | None = None
    #: False = a text-mode-only firmware: `AT+CMGF=0` is refused (clients fall back to text).
    pdu_mode: bool = True
    #: What the network answers to USSD requests (`AT+CUSD=1,"*100#"`).
    ussd: UssdService = dataclasses.field(default_factory=fixed_replies)
    #: Seconds between a USSD request and the network's `+CUSD:` answer.
    ussd_delay: float = 0.3
    #: Wall clock for SCTS / text-mode timestamps (tz-aware).
    wall_clock: Callable[[], datetime.datetime] = dataclasses.field(
        default=lambda: datetime.datetime.now(datetime.UTC).astimezone()
    )


class DeviceState:
    """The modem's memory: settings, SIM, registration, storages, line state, clock, output.

    Attributes are public on purpose: the command handlers and the job modules read and
    write them. Methods are only the moves shared by every job (reply, URC, schedule).
    """

    def __init__(self, profile: Profile, options: DeviceOptions) -> None:
        self.profile = profile
        self.options = options
        self.timers = Clock()
        self.out = Output()
        self.storages = StorageSet(
            profile.storages, profile.storage_aliases, profile.combined_mt, profile.index_base
        )
        self.sent_log = network.SentLog()
        self.smsc = profile.smsc
        #: Vendor settings stored with `AT&W` (they survive a reboot, like `AT+CIURC=0`).
        self.saved_plain: dict[str, int] = {}
        self.settings = self.default_settings()
        # Power and SIM
        self.sms_ready = False
        self.sim_state = "READY"
        self.pin = options.pin
        self.pin_attempts = 3
        self.cfun = 1
        # Radio
        self.registered = False
        self.gprs_attached = True
        #: A "radio stuck" fault: deregistered until `AT+CFUN` restarts the radio
        #: ("permanent": not even that helps, as with a broken antenna or a barred SIM).
        self.radio_stuck: Literal["no", "until_cfun", "permanent"] = "no"
        #: `AT+CSQ` <rssi> while registered (0-31; 99 = unknown).
        self.rssi = 18
        #: The network's answer forced by `smsgw emulator register`: 3 denied, 2 searching,
        #: 5 roaming, 1 home; None follows the module's state.
        self.forced_stat: int | None = None
        # Sending
        self.next_mr = 0
        self.send_failures: list[int] = []
        # Line
        self.prompt: Prompt | None = None
        self.busy_until: float | None = None
        self.held_input = bytearray()
        self.executing = False
        self.replies = 0
        #: URC blocks (a two-line +CMT/+CDS is one block) held until the line is free.
        self.held_urcs: list[tuple[str, ...]] = []
        self.mid_reply: list[str] = []
        # Network side
        self.network_queue: list[Callable[[], None]] = []
        self.awaiting_cnma = False
        #: Offers the unacknowledged routed PDU again (it goes back to the network if unacked).
        self.unacked: Callable[[], None] | None = None
        self.ack_token = 0
        #: Routed PDUs that arrived while one was unacknowledged (one at a time, §3.4.4).
        self.routed_backlog: list[Callable[[], None]] = []
        #: Requests of the open USSD session (None = no session).
        self.ussd_session: list[str] | None = None
        #: The incoming call that is ringing (`smsgw.emulator.calls.Call`), if any.
        self.call: Call | None = None
        #: Called (by the device) to power-cycle the module, e.g. for `AT+CFUN=1,1`.
        self.reboot: Callable[[], None] = lambda: None
        #: Feeds input held during a delayed reply back to the line interpreter.
        self.resume_input: Callable[[bytes], None] | None = None

    @property
    def powered(self) -> bool:
        return self.out.powered

    # ------------------------------------------------------------------ time
    @property
    def now(self) -> float:
        return self.timers.now

    def schedule(
        self, delay: float, action: Callable[[], None], *, survives_reboot: bool = False
    ) -> None:
        self.timers.schedule(delay, action, survives_reboot=survives_reboot)

    # ------------------------------------------------------------------ settings and storage
    def default_settings(self) -> Settings:
        return Settings(
            cmgf=0 if self.options.pdu_mode else 1,
            cscs=self.profile.cscs_default,
            cnmi=self.profile.cnmi_default,
            cpms=self.profile.cpms_default,
            plain=self.profile.plain_settings_default | self.saved_plain,
        )

    def storage_for_read(self) -> tuple[str, Storage]:
        name = self.settings.cpms[0]
        return name, self.storages.get(name)

    @property
    def busy(self) -> bool:
        """A delayed reply (slow AT+CMGS) owns the line; input waits until it is sent."""
        return self.busy_until is not None

    # ------------------------------------------------------------------ output
    def emit_lines(self, *lines: str) -> None:
        """Unsolicited lines that need no holding (banner, noise), one block each."""
        if self.powered:
            self.out.blocks([[line] for line in lines])

    def urc(self, *lines: str) -> None:
        """One URC block (a `+CMT` header and its PDU are one): held while a prompt, a
        command or a delayed reply owns the line, or while CNMI mode 0 buffers them."""
        if not self.powered:
            return
        mode = self.settings.cnmi[0]
        if mode == 0 or self.executing or self.prompt is not None or self.busy:
            self.held_urcs.append(lines)
            return
        self.out.blocks([lines])

    def line_urc(self, *lines: str) -> None:
        """A URC outside SMS routing (`+CREG`, `RING`, `+CUSD`): never buffered by CNMI,
        but still kept out of a reply or an open prompt."""
        if not self.powered:
            return
        if self.executing or self.prompt is not None or self.busy:
            self.held_urcs.append(lines)
            return
        self.out.blocks([lines])

    def flush_held_urcs(self) -> None:
        if self.held_urcs and not self.executing and self.prompt is None and not self.busy:
            sms_buffered = self.settings.cnmi[0] == 0
            keep = [b for b in self.held_urcs if sms_buffered and _is_sms_urc(b)]
            ready = [b for b in self.held_urcs if not (sms_buffered and _is_sms_urc(b))]
            self.held_urcs = keep
            if ready:
                self.out.blocks(ready)

    def finish(self, blocks: Sequence[Sequence[str]], failure: CommandFailed | None) -> None:
        """Frame and send a complete reply, then flush URCs held while it was pending."""
        body: list[Sequence[str]] = list(blocks)
        if self.mid_reply:
            # Injected URCs land after the first information response, each its own block.
            at = 1 if body else 0
            body[at:at] = [[line] for line in self.mid_reply]
            self.mid_reply = []
        kind, code = (failure.kind, failure.code) if failure else ("ok", 0)
        body.append([final_result(kind, code, self.profile.unknown_command, self.settings.cmee)])
        self.replies += 1
        if self.powered:
            self.out.blocks(body)
        self.flush_held_urcs()


SMS_URC_PREFIXES = ("+CMTI:", "+CMT:", "+CDSI:", "+CDS:")


def _is_sms_urc(block: tuple[str, ...]) -> bool:
    return bool(block) and block[0].startswith(SMS_URC_PREFIXES)
