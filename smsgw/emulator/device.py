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
calls use the time of the last `advance(now)`.

Realism (PROTOCOL.md §10): echo on by default with the `\\r` of the command echoed before
the reply's `\\r\\n`; `\\r\\n> ` prompt without line end; PDU echo; Ctrl-Z/ESC; per-profile
CNMI/CPMS tables, index base and error spellings; URCs buffered while a prompt is open or a
reply is pending (CNMI mode 2) and flushed after; faults injected on demand (URC mid-reply
or before the next echo, garbage, unresponsive, power cycle).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import heapq
import itertools
from collections.abc import Callable, Iterable
from typing import Literal

from smsgw import pdu
from smsgw.emulator import network, textmode
from smsgw.emulator.atline import Command, Form, LineSyntaxError, parse_line
from smsgw.emulator.profiles import Profile
from smsgw.emulator.storage import (
    STAT_ALL,
    TEXT_STATS,
    InvalidIndex,
    Stat,
    Storage,
    StorageFull,
    StorageSet,
)
from smsgw.exceptions import PduError

CTRL_Z = 0x1A
ESC = 0x1B
BACKSPACE = 0x08
MAX_LINE = 1024
MAX_PROMPT_INPUT = 2048

UrcPosition = Literal["now", "mid_reply", "before_echo"]

CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    16: "incorrect password",
    21: "invalid index",
    100: "unknown",
}
CMS_TEXT = {
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}

#: Commands a SIM-PIN-locked modem still answers (everything else: +CME ERROR: 11).
NO_SIM_NEEDED = frozenset(
    {
        "E", "V", "Q", "Z", "&F", "&W", "&V", "I", "X", "H", "&C", "&D",
        "+CGMI", "+GMI", "+CGMM", "+GMM", "+CGMR", "+GMR", "+CGSN", "+GSN", "+GCAP",
        "+CMEE", "+CPIN", "+CFUN", "+CSQ", "+IPR", "+CLAC", "^CURC", "^PORTSEL", "+CIURC",
    }
)  # fmt: skip
#: Commands that fail until the SMS part of the firmware is up ("SMS Ready" on SIM800).
SMS_COMMANDS = frozenset(
    {
        "+CMGF", "+CPMS", "+CNMI", "+CMGR", "+CMGL", "+CMGS", "+CMGW", "+CMSS",
        "+CMGD", "+CMGDA", "+CSCA", "+CSMP", "+CSMS", "+CNMA",
    }
)  # fmt: skip


class CommandFailed(Exception):
    """A handler's error result: kind "cme"/"cms" with a code, "error", or "unknown"."""

    def __init__(self, kind: Literal["cme", "cms", "error", "unknown"], code: int = 0) -> None:
        super().__init__(f"{kind} {code}")
        self.kind = kind
        self.code = code


@dataclasses.dataclass
class DeviceOptions:
    """Knobs of the emulated network and SIM (CLI flags map onto these)."""

    cmgs_delay: float = 0.0
    report_delay: float = 1.0
    report_status: network.ReportOutcome = "delivered"
    pin: str | None = None
    puk: str = "12345678"
    #: Multiplies the profile's boot banner delays (0 = everything at power-on).
    boot_scale: float = 1.0
    #: Override the profile's periodic URC interval (0 disables it; None = profile default).
    noise_interval: float | None = None
    #: Wall clock for SCTS / text-mode timestamps (tz-aware).
    wall_clock: Callable[[], datetime.datetime] = dataclasses.field(
        default=lambda: datetime.datetime.now(datetime.UTC).astimezone()
    )


@dataclasses.dataclass
class _Settings:
    """Volatile settings: lost on ATZ/reboot (ATZ keeps nothing non-volatile either)."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")
    creg: int = 0
    csms: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    csdh: int = 0
    curc: int = 1


@dataclasses.dataclass
class _Prompt:
    """An open `> ` prompt: what it is for and what was typed so far."""

    kind: Literal["cmgs", "cmgw"]
    pdu_length: int | None
    number: str | None
    stat: Stat
    typed: bytearray = dataclasses.field(default_factory=bytearray)


Handler = Callable[["Device", Command], list[str]]
_HANDLERS: dict[str, Handler] = {}


def _handles(*names: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = function
        return function

    return register


def _int_arg(value: str | None, low: int, high: int) -> int:
    if value is None:
        raise CommandFailed("error")
    try:
        number = int(value)
    except ValueError:
        raise CommandFailed("error") from None
    if not low <= number <= high:
        raise CommandFailed("error")
    return number


class Device:
    """One emulated modem (see the module docstring for the calling convention)."""

    def __init__(self, profile: Profile, options: DeviceOptions | None = None) -> None:
        self.profile = profile
        self.options = options or DeviceOptions()
        self.storages = StorageSet(
            profile.storages, profile.storage_aliases, profile.combined_mt, profile.index_base
        )
        self.sent_log = network.SentLog()
        self.smsc = profile.smsc
        self._now = 0.0
        self._output = bytearray()
        self._listener: Callable[[], None] | None = None
        self._timers: list[tuple[float, int, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._generation = 0
        self._powered = False
        self._unresponsive = False
        self._settings = self._default_settings()
        self._line = bytearray()
        self._prompt: _Prompt | None = None
        self._busy_until: float | None = None
        self._held_input = bytearray()
        self._held_urcs: list[str] = []
        self._before_echo: list[str] = []
        self._mid_reply: list[str] = []
        self._network_queue: list[Callable[[], None]] = []
        self._sim_state = "READY"
        self._pin = self.options.pin
        self._pin_attempts = 3
        self._sms_ready = False
        self._registered = False
        self._cfun = 1
        self._next_mr = 0
        self._send_failures: list[int] = []
        self._awaiting_cnma = False
        self._replies = 0
        self._executing = False

    # ------------------------------------------------------------------ I/O surface
    def set_output_listener(self, callback: Callable[[], None] | None) -> None:
        """Called (with no arguments) whenever new output is ready to read."""
        self._listener = callback

    def read_output(self) -> bytes:
        """Everything the modem has sent since the last call."""
        data = bytes(self._output)
        self._output.clear()
        return data

    def feed(self, data: bytes) -> None:
        """Bytes the host wrote; split anywhere, processed as a real firmware would."""
        if not self._powered or self._unresponsive:
            return
        for position, byte in enumerate(data):
            if self._is_busy():
                self._held_input.extend(data[position:])
                return
            if self._prompt is not None:
                self._prompt_byte(byte)
            else:
                self._command_byte(byte)

    def _is_busy(self) -> bool:
        """A delayed reply (slow AT+CMGS) owns the line; input waits until it is sent."""
        return self._busy_until is not None

    def advance(self, now: float) -> None:
        """Move the device's clock to `now` and run every timer that is due."""
        self._now = max(self._now, now)
        while self._timers and self._timers[0][0] <= self._now:
            _, _, generation, action = heapq.heappop(self._timers)
            if generation in (self._generation, -1):
                action()

    def next_deadline(self) -> float | None:
        """Earliest pending timer (for the runner's sleep), or None."""
        return self._timers[0][0] if self._timers else None

    @property
    def now(self) -> float:
        return self._now

    # ------------------------------------------------------------------ faults and power
    @property
    def cnmi(self) -> tuple[int, int, int, int, int]:
        """The routing the host chose with `AT+CNMI` (for assertions in tests)."""
        return self._settings.cnmi

    @property
    def sms_ready(self) -> bool:
        """Boot finished and the SIM unlocked: SMS commands work."""
        return self._powered and self._sms_ready

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self, now: float | None = None) -> None:
        """Boot: banner and noise are scheduled; volatile settings start from defaults."""
        if now is not None:
            self._now = max(self._now, now)
        self._generation += 1
        self._powered = True
        self._settings = self._default_settings()
        self._line.clear()
        self._prompt = None
        self._busy_until = None
        self._held_input.clear()
        self._held_urcs.clear()
        self._sms_ready = False
        self._registered = False
        self._cfun = 1
        self._pin = self.options.pin if self._sim_state != "SIM PUK" else self._pin
        if self._pin is not None and self._sim_state != "SIM PUK":
            self._sim_state = "SIM PIN"
        scale = self.options.boot_scale
        for delay, line in self.profile.banner:
            self._schedule(delay * scale, functools.partial(self._banner_line, line))
        for position, line in enumerate(self.profile.boot_noise):
            self._schedule(0.01 * position, functools.partial(self._noise, line))
        interval = self.options.noise_interval
        if interval is None:
            interval = self.profile.periodic_noise_interval
        if self.profile.periodic_noise and interval > 0:
            self._schedule(interval, lambda: self._periodic_noise(interval))
        if self._sim_state == "READY":
            self._schedule(self.profile.sms_ready_after * scale, self._become_sms_ready)

    def power_off(self) -> None:
        """Power lost (unplug): nothing in or out, pending boot timers are void."""
        self._powered = False
        self._generation += 1
        self._output.clear()

    def reboot(self) -> None:
        """Module reset: the banner again, volatile settings back to defaults."""
        self.power_off()
        self.power_on()

    def set_unresponsive(self, unresponsive: bool) -> None:
        """A hung firmware: input ignored, nothing sent (timers keep running inside)."""
        self._unresponsive = unresponsive

    @property
    def unresponsive(self) -> bool:
        return self._unresponsive

    def inject_urc(self, line: str, at: UrcPosition = "now") -> None:
        """An unsolicited line: now, inside the next reply, or before the next echo."""
        if at == "now":
            self._emit_raw(f"\r\n{line}\r\n".encode())
        elif at == "mid_reply":
            self._mid_reply.append(line)
        else:
            self._before_echo.append(line)

    def inject_garbage(self, data: bytes) -> None:
        """Raw bytes on the line (line noise, a glitching USB bridge)."""
        self._emit_raw(data)

    def fail_next_send(self, cause: int = 500) -> None:
        """The next `AT+CMGS`/`AT+CMSS` fails with `+CMS ERROR: <cause>` (e.g. 21, 38, 500)."""
        self._send_failures.append(cause)

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
            smsc=self.smsc,
            encoding=encoding,
            message_class=message_class,
            concat_ref=concat_ref,
        )
        for pdu_hex in pdus:
            self.deliver_pdu(pdu_hex)
        return pdus

    def deliver_pdu(self, pdu_hex: str) -> None:
        """A DELIVER (or STATUS-REPORT) PDU arrives verbatim (hex with the SMSC octet)."""
        pdu_hex = pdu_hex.strip().upper()
        bytes.fromhex(pdu_hex)  # ValueError for non-hex before anything is queued
        try:
            decoded: pdu.Pdu | None = pdu.decode(pdu_hex)
        except PduError:
            decoded = None
        if isinstance(decoded, pdu.StatusReport):
            self._via_network(lambda: self._receive_status_report(pdu_hex))
        else:
            message_class = decoded.message_class if isinstance(decoded, pdu.Deliver) else None
            self._via_network(lambda: self._receive_deliver(pdu_hex, message_class))

    @property
    def sent(self) -> list[network.SentMessage]:
        """Every complete logical message the host sent, oldest first."""
        return list(self.sent_log.messages)

    def storage(self, name: str) -> Storage:
        return self.storages.get(name)

    # ------------------------------------------------------------------ internals: output
    def _emit_raw(self, data: bytes) -> None:
        if not self._powered or self._unresponsive or not data:
            return
        self._output.extend(data)
        if self._listener is not None:
            self._listener()

    def _emit_lines(self, lines: Iterable[str]) -> None:
        # An empty line is one extra CRLF (Huawei's blank line after +CSCS, §3.3.7).
        self._emit_raw("".join(f"\r\n{line}\r\n" if line else "\r\n" for line in lines).encode())

    def _urc(self, *lines: str) -> None:
        """An SMS URC: held while a prompt or a delayed reply owns the line (CNMI mode 2)."""
        mode = self._settings.cnmi[0]
        if mode == 0 or self._executing or self._prompt is not None or self._is_busy():
            self._held_urcs.extend(lines)
            return
        self._emit_raw(("\r\n" + "\r\n".join(lines) + "\r\n").encode())

    def _flush_held_urcs(self) -> None:
        if self._held_urcs and self._settings.cnmi[0] != 0:
            held, self._held_urcs = self._held_urcs, []
            self._emit_raw(("\r\n" + "\r\n".join(held) + "\r\n").encode())

    def _schedule(
        self, delay: float, action: Callable[[], None], *, survives_reboot: bool = False
    ) -> None:
        generation = -1 if survives_reboot else self._generation
        heapq.heappush(self._timers, (self._now + delay, next(self._timer_seq), generation, action))

    def _default_settings(self) -> _Settings:
        return _Settings(
            cscs=self.profile.cscs_default,
            cnmi=self.profile.cnmi_default,
            cpms=self.profile.cpms_default,
        )

    # ------------------------------------------------------------------ boot sequence
    def _banner_line(self, line: str) -> None:
        if line.startswith("+CPIN:"):
            self._emit_lines([f"+CPIN: {self._sim_state}"])
        elif line in ("Call Ready", "SMS Ready") and self._sim_state != "READY":
            return
        else:
            self._emit_lines([line])

    def _noise(self, line: str) -> None:
        if self._settings.curc != 0:
            self._emit_lines([line])

    def _periodic_noise(self, interval: float) -> None:
        if self.profile.periodic_noise:
            self._noise(self.profile.periodic_noise)
        self._schedule(interval, lambda: self._periodic_noise(interval))

    def _become_sms_ready(self) -> None:
        self._sms_ready = True
        self._set_registered(self._cfun == 1)
        queued, self._network_queue = self._network_queue, []
        for action in queued:
            action()

    def _after_unlock(self) -> None:
        """PIN accepted: `+CPIN: READY`, then the deferred Call/SMS Ready lines (§2.1)."""
        scale = self.options.boot_scale
        self._schedule(0.05 * scale, lambda: self._emit_lines(["+CPIN: READY"]))
        for delay, line in self.profile.banner:
            if line in ("Call Ready", "SMS Ready"):
                self._schedule(
                    0.1 * scale + delay * scale / 4, functools.partial(self._emit_lines, [line])
                )
        self._schedule(
            0.1 * scale + self.profile.sms_ready_after * scale / 4, self._become_sms_ready
        )

    def _set_registered(self, registered: bool) -> None:
        if registered == self._registered:
            return
        self._registered = registered
        if self._settings.creg:
            self._emit_lines([self._creg_line(unsolicited=True)])

    def _creg_line(self, *, unsolicited: bool) -> str:
        stat = 1 if self._registered else (2 if self._sim_state == "READY" else 0)
        fields = [] if unsolicited else [str(self._settings.creg)]
        fields.append(str(stat))
        if self._settings.creg == 2 and self._registered:
            if self.profile.creg_quoted:
                fields += [f'"{self.profile.lac}"', f'"{self.profile.cell_id}"']
            else:
                fields += [self.profile.lac, self.profile.cell_id]
        return "+CREG: " + ",".join(fields)

    def _retry_waiting_messages(self) -> None:
        """Space was freed: messages the SMSC kept (storage full) are delivered now."""
        if self._network_queue and self._sms_ready and self._registered:
            queued, self._network_queue = self._network_queue, []
            for action in queued:
                action()

    def _via_network(self, action: Callable[[], None]) -> None:
        """Network events wait at the SMSC while the modem is off, booting or unregistered."""
        if self._powered and self._sms_ready and self._registered:
            action()
        else:
            self._network_queue.append(action)

    # ------------------------------------------------------------------ receiving
    def _receive_deliver(self, pdu_hex: str, message_class: int | None) -> None:
        mt = self._settings.cnmi[1]
        direct = (mt == 2 and message_class != 2) or (mt == 3 and message_class == 3)
        if direct:
            self._awaiting_cnma = self._settings.csms == 1
            if self._settings.cmgf == 0:
                length = len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)
                self._urc(f"+CMT: {self._alpha()}{length}", pdu_hex)
            else:
                header, body = self._text_view(pdu_hex, Stat.REC_UNREAD)
                self._urc("+CMT: " + header.split(",", 1)[1], body or "")
            return
        mem3 = self._settings.cpms[2]
        try:
            index = self.storages.get(mem3).store(Stat.REC_UNREAD, pdu_hex)
        except StorageFull:
            # A real SMSC keeps the message and retries; nothing reaches the host now.
            self._network_queue.append(lambda: self._receive_deliver(pdu_hex, message_class))
            return
        if mt != 0:
            self._urc(f'+CMTI: "{mem3}",{index}')

    def _receive_status_report(self, pdu_hex: str) -> None:
        ds = self._settings.cnmi[3]
        if ds == 1:
            length = len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)
            self._urc(f"+CDS: {length}", pdu_hex)
        elif ds == 2:
            name = self.profile.status_report_storage or self._settings.cpms[2]
            try:
                index = self.storages.get(name).store(Stat.REC_UNREAD, pdu_hex)
            except StorageFull:
                return
            self._urc(f'+CDSI: "{name}",{index}')

    def _alpha(self) -> str:
        return f"{self.profile.pdu_alpha},"

    def _text_view(self, pdu_hex: str, stat: Stat) -> tuple[str, str | None]:
        try:
            decoded = pdu.decode(pdu_hex)
        except PduError:
            raise CommandFailed("cms", 500) from None
        return textmode.header_and_body(decoded, stat.text, self._settings.cscs)

    # ------------------------------------------------------------------ command line input
    def _command_byte(self, byte: int) -> None:
        if byte == 0x0D:
            if self._settings.echo:
                self._emit_raw(b"\r")
            line = self._line.decode("latin-1")
            self._line.clear()
            self._run_line(line)
        elif byte == 0x0A or byte == CTRL_Z:
            return
        elif byte == ESC:
            self._line.clear()
        elif byte == BACKSPACE:
            if self._line:
                self._line.pop()
                if self._settings.echo:
                    self._emit_raw(b"\x08")
        else:
            if not self._line and self._before_echo:
                lines, self._before_echo = self._before_echo, []
                self._emit_raw("".join(f"{line}\r\n" for line in lines).encode())
            if len(self._line) < MAX_LINE:
                self._line.append(byte)
            if self._settings.echo:
                self._emit_raw(bytes([byte]))

    def _run_line(self, line: str) -> None:
        stripped = line.strip()
        start = stripped.upper().find("AT")
        if start < 0:
            return  # not a command: firmwares ignore everything until "AT"
        try:
            commands = parse_line(stripped[start:])
        except LineSyntaxError:
            self._finish([], CommandFailed("error"))
            return
        self._executing = True
        try:
            self._run_commands(commands)
        finally:
            self._executing = False
            if self._prompt is None and not self._is_busy():
                self._flush_held_urcs()

    def _run_commands(self, commands: list[Command]) -> None:
        lines: list[str] = []
        for command in commands:
            replies_before = self._replies
            try:
                lines.extend(self._execute(command))
            except CommandFailed as failure:
                self._finish(lines, failure)
                return
            if self._prompt is not None:
                self._emit_raw(b"\r\n> ")
                return
            if self._busy_until is not None or self._replies != replies_before:
                return  # the command answered (or will answer) by itself
        self._finish(lines, None)

    def _execute(self, command: Command) -> list[str]:
        handler = _HANDLERS.get(command.name)
        if handler is None:
            if command.name in self.profile.accepted_noops:
                return []
            raise CommandFailed("unknown")
        if self._sim_state != "READY" and command.name not in NO_SIM_NEEDED:
            raise CommandFailed("cme", 11 if self._sim_state == "SIM PIN" else 12)
        if command.name in SMS_COMMANDS and not self._sms_ready:
            raise CommandFailed("cms", 302)
        return handler(self, command)

    def _final(self, failure: CommandFailed | None) -> str:
        if failure is None:
            return "OK"
        if failure.kind == "unknown":
            return self.profile.unknown_command
        if failure.kind == "error" or self._settings.cmee == 0:
            return "ERROR"
        prefix, texts = (
            ("+CME ERROR", CME_TEXT) if failure.kind == "cme" else ("+CMS ERROR", CMS_TEXT)
        )
        if self._settings.cmee == 2:
            return f"{prefix}: {texts.get(failure.code, 'unknown error')}"
        return f"{prefix}: {failure.code}"

    def _finish(self, lines: list[str], failure: CommandFailed | None) -> None:
        """Frame and send a complete reply, then flush URCs held while it was pending."""
        body = list(lines)
        if self._mid_reply:
            at = 1 if body else 0
            body[at:at] = self._mid_reply
            self._mid_reply = []
        body.append(self._final(failure))
        self._replies += 1
        self._emit_lines(body)
        self._flush_held_urcs()

    # ------------------------------------------------------------------ prompt input
    def _prompt_byte(self, byte: int) -> None:
        prompt = self._prompt
        assert prompt is not None
        if byte == ESC:
            self._prompt = None
            self._finish([], None)
        elif byte == CTRL_Z:
            if self._settings.echo:
                self._emit_raw(b"\r\n")
            self._prompt = None
            self._submit_prompt(prompt)
        elif byte in (0x0D, 0x0A):
            if prompt.pdu_length is None and byte == 0x0D:
                prompt.typed.extend(b"\n")
                self._emit_raw(b"\r\n> ")
        elif len(prompt.typed) < MAX_PROMPT_INPUT:
            prompt.typed.append(byte)
            if self._settings.echo:
                self._emit_raw(bytes([byte]))

    def _submit_prompt(self, prompt: _Prompt) -> None:
        try:
            if prompt.kind == "cmgw":
                index = self._write_prompt(prompt)
                self._finish([f"+CMGW: {index}"], None)
                return
            pdu_hex = self._prompt_pdu(prompt)
            parsed = network.parse_submit(pdu_hex, prompt.pdu_length)
        except CommandFailed as failure:
            self._finish([], failure)
            return
        except PduError:
            self._finish([], CommandFailed("cms", 304 if prompt.pdu_length else 305))
            return
        self._send_submit(parsed, "+CMGS")

    def _prompt_pdu(self, prompt: _Prompt) -> str:
        """The PDU typed at the prompt (PDU mode) or one built from the typed text."""
        typed = prompt.typed.decode("latin-1")
        if prompt.pdu_length is not None:
            return typed.strip().upper()
        try:
            text = textmode.from_te(typed, self._settings.cscs)
        except ValueError:
            raise CommandFailed("cms", 305) from None
        assert prompt.number is not None
        parts = pdu.encode_submit(
            prompt.number, text, srr=bool(self._settings.csmp[0] & 0x20), smsc=None
        )
        if len(parts) != 1:
            raise CommandFailed("cms", 305)  # one text-mode CMGS sends one SMS
        return parts[0].hex

    def _write_prompt(self, prompt: _Prompt) -> int:
        pdu_hex = self._prompt_pdu(prompt)
        try:
            decoded = pdu.decode(pdu_hex)
        except PduError:
            raise CommandFailed("cms", 304 if prompt.pdu_length else 305) from None
        if prompt.pdu_length is not None and decoded.tpdu_length != prompt.pdu_length:
            raise CommandFailed("cms", 304)
        try:
            return self.storages.get(self._settings.cpms[1]).store(prompt.stat, pdu_hex)
        except StorageFull:
            raise CommandFailed("cms", 322) from None

    def _send_submit(
        self,
        submit: pdu.Submit,
        result_prefix: str,
        on_success: Callable[[], None] | None = None,
    ) -> None:
        """Hand a SUBMIT to the network; the reply comes after the configured CMGS delay."""
        if self._send_failures:
            self._finish([], CommandFailed("cms", self._send_failures.pop(0)))
            return
        if not self._registered:
            self._finish([], CommandFailed("cms", 331))
            return
        mr = self._next_mr
        self._next_mr = (self._next_mr + 1) % 256
        accepted = network.AcceptedSubmit(
            recipient=submit.number,
            text=submit.text if submit.text is not None else (submit.data or b"").hex(),
            mr=mr,
            srr=submit.srr,
            concat=submit.concat,
            time=self.options.wall_clock(),
        )

        def complete() -> None:
            self._busy_until = None
            self.sent_log.add(accepted)
            if on_success is not None:
                on_success()
            self._finish([f"{result_prefix}: {mr}"], None)
            if accepted.srr and self.options.report_status != "none":
                self._schedule(
                    self.options.report_delay,
                    lambda: self._report(accepted),
                    survives_reboot=True,
                )
            held = bytes(self._held_input)
            self._held_input.clear()
            if held:
                self.feed(held)

        delay = self.options.cmgs_delay
        if delay <= 0:
            complete()
            return
        self._busy_until = self._now + delay
        self._schedule(delay, complete)

    def _report(self, accepted: network.AcceptedSubmit) -> None:
        encoded = network.status_report_pdu(
            accepted, self.options.report_status, self.options.wall_clock(), smsc=self.smsc
        )
        if encoded is not None:
            self._via_network(lambda: self._receive_status_report(encoded.hex))

    # ------------------------------------------------------------------ storage helpers
    def _storage_for_read(self) -> tuple[str, Storage]:
        name = self._settings.cpms[0]
        return name, self.storages.get(name)

    def _pdu_header(self, prefix: str, stat: Stat, length: int, index: int | None) -> str:
        head = f"{index}," if index is not None else ""
        return f"{prefix}: {head}{int(stat)},{self._alpha()}{length}"


# ====================================================================== basic commands
@_handles("E")
def _echo(device: Device, command: Command) -> list[str]:
    device._settings.echo = _int_arg(command.raw_args or "0", 0, 1) == 1
    return []


@_handles("V", "Q", "X", "&C", "&D", "&W", "H", "&V")
def _accepted_basic(device: Device, command: Command) -> list[str]:
    return []


@_handles("Z", "&F")
def _reset(device: Device, command: Command) -> list[str]:
    device._settings = device._default_settings()
    return []


@_handles("I")
def _ati(device: Device, command: Command) -> list[str]:
    return list(device.profile.ati)


@_handles("D")
def _dial(device: Device, command: Command) -> list[str]:
    return ["NO CARRIER"]  # calls are out of scope: every dial fails like an unanswered one


# ====================================================================== identity and status
def _read_only(value: Callable[[Device], list[str]]) -> Handler:
    def handler(device: Device, command: Command) -> list[str]:
        if command.form is Form.TEST:
            return []
        if command.form is not Form.ACTION:
            raise CommandFailed("error")
        return value(device)

    return handler


_HANDLERS["+CGMI"] = _HANDLERS["+GMI"] = _read_only(lambda d: [d.profile.manufacturer])
_HANDLERS["+CGMM"] = _HANDLERS["+GMM"] = _read_only(lambda d: [d.profile.model])
_HANDLERS["+CGMR"] = _HANDLERS["+GMR"] = _read_only(lambda d: [d.profile.revision])
_HANDLERS["+CGSN"] = _HANDLERS["+GSN"] = _read_only(lambda d: [d.profile.imei])
_HANDLERS["+CIMI"] = _read_only(lambda d: [d.profile.imsi])
_HANDLERS["+GCAP"] = _read_only(lambda d: ["+GCAP: +CGSM"])


@_handles("+CLAC")
def _clac(device: Device, command: Command) -> list[str]:
    if device.profile.clac is None:
        raise CommandFailed("unknown")
    return list(device.profile.clac)


@_handles("+CMEE")
def _cmee(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CMEE: {device._settings.cmee}"]
    if command.form is Form.TEST:
        return ["+CMEE: (0-2)"]
    device._settings.cmee = _int_arg((command.args() or ["0"])[0] or "0", 0, 2)
    return []


@_handles("+CPIN")
def _cpin(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CPIN: {device._sim_state}"]
    if command.form is Form.TEST:
        return []
    args = command.args()
    if not args or args[0] is None:
        raise CommandFailed("cme", 3)
    if device._sim_state == "READY":
        raise CommandFailed("cme", 3)
    if device._sim_state == "SIM PIN":
        if args[0] != device._pin:
            device._pin_attempts -= 1
            if device._pin_attempts <= 0:
                device._sim_state = "SIM PUK"
                raise CommandFailed("cme", 12)
            raise CommandFailed("cme", 16)
    else:  # SIM PUK: AT+CPIN="<puk>","<new pin>"
        if args[0] != device.options.puk or len(args) < 2 or not args[1]:
            raise CommandFailed("cme", 16)
        device._pin = args[1]
    device._sim_state = "READY"
    device._pin_attempts = 3
    device._after_unlock()
    return []


@_handles("+CFUN")
def _cfun(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CFUN: {device._cfun}"]
    if command.form is Form.TEST:
        return ["+CFUN: (0,1,4),(0,1)"]
    args = command.args()
    fun = _int_arg(args[0] if args else None, 0, 4)
    if len(args) > 1 and args[1] == "1":
        device._schedule(0.05, device.reboot)
        return []
    device._cfun = fun
    device._set_registered(fun == 1 and device._sms_ready)
    return []


@_handles("+CSQ")
def _csq(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CSQ: (0-31,99),(0-7,99)"]
    return ["+CSQ: 18,0" if device._registered else "+CSQ: 99,99"]


@_handles("+CREG")
def _creg(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [device._creg_line(unsolicited=False)]
    if command.form is Form.TEST:
        return ["+CREG: (0-2)"]
    device._settings.creg = _int_arg((command.args() or ["0"])[0] or "0", 0, 2)
    return []


@_handles("+CGREG")
def _cgreg(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CGREG: 0,{1 if device._registered else 0}"]
    if command.form is Form.TEST:
        return ["+CGREG: (0-2)"]
    return []


@_handles("+COPS")
def _cops(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        if device._registered:
            return [f'+COPS: 0,0,"{device.profile.operator}"']
        return ["+COPS: 0"]
    if command.form is Form.TEST:
        name = device.profile.operator
        return [f'+COPS: (2,"{name}","{name.split()[0]}","22610"),,(0-4),(0-2)']
    return []


@_handles("^CURC")
def _curc(device: Device, command: Command) -> list[str]:
    if not device.profile.has_curc:
        raise CommandFailed("unknown")
    if command.form is Form.READ:
        return [f"^CURC: {device._settings.curc}"]
    if command.form is Form.TEST:
        return ["^CURC: (0-1)"]
    device._settings.curc = _int_arg((command.args() or [None])[0], 0, 1)
    return []


# ====================================================================== SMS settings
@_handles("+CMGF")
def _cmgf(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CMGF: {device._settings.cmgf}"]
    if command.form is Form.TEST:
        return ["+CMGF: (0,1)"]
    device._settings.cmgf = _int_arg((command.args() or ["0"])[0] or "0", 0, 1)
    return []


@_handles("+CSCS")
def _cscs(device: Device, command: Command) -> list[str]:
    profile = device.profile
    if command.form is Form.READ:
        lines = [f'+CSCS: "{device._settings.cscs}"']
        return [*lines, ""] if profile.cscs_trailing_blank else lines
    if command.form is Form.TEST:
        return [profile.cscs_test]
    args = command.args()
    charset = (args[0] or "") if args else ""
    if f'"{charset}"' not in profile.cscs_test:
        raise CommandFailed("cme", 4)
    device._settings.cscs = charset
    return []


@_handles("+CSCA")
def _csca(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        number = device.smsc
        return [f'+CSCA: "{number}",{145 if number.startswith("+") else 129}']
    if command.form is Form.TEST:
        return []
    args = command.args()
    if not args or not args[0]:
        raise CommandFailed("cms", 304)
    device.smsc = args[0]
    return []


@_handles("+CSMP")
def _csmp(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CSMP: " + ",".join(str(v) for v in device._settings.csmp)]
    if command.form is Form.TEST:
        return []
    args = command.args()
    current = list(device._settings.csmp)
    for position, value in enumerate(args[:4]):
        if value is not None:
            current[position] = _int_arg(value, 0, 255)
    device._settings.csmp = (current[0], current[1], current[2], current[3])
    return []


@_handles("+CSDH")
def _csdh(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CSDH: {device._settings.csdh}"]
    if command.form is Form.TEST:
        return ["+CSDH: (0,1)"]
    device._settings.csdh = _int_arg((command.args() or ["0"])[0] or "0", 0, 1)
    return []


@_handles("+CSMS")
def _csms(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CSMS: {device._settings.csms},1,1,1"]
    if command.form is Form.TEST:
        return ["+CSMS: (0,1)"]
    device._settings.csms = _int_arg((command.args() or [None])[0], 0, 1)
    return ["+CSMS: 1,1,1"]


@_handles("+CNMA")
def _cnma(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CNMA: (0-2)"]
    if not device._awaiting_cnma:
        raise CommandFailed("cms", 340)
    device._awaiting_cnma = False
    return []


@_handles("+CNMI")
def _cnmi(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CNMI: " + ",".join(str(v) for v in device._settings.cnmi)]
    if command.form is Form.TEST:
        return [device.profile.cnmi_test]
    args = command.args()
    if not 1 <= len(args) <= 5:
        raise CommandFailed("error")
    values = [0, 0, 0, 0, 0]
    for position, value in enumerate(args):
        values[position] = _int_arg(value if value is not None else "0", 0, 9)
    chosen = (values[0], values[1], values[2], values[3], values[4])
    if not device.profile.cnmi_rule.accepts(chosen):
        raise CommandFailed("cms", 303) if device._settings.cmee else CommandFailed("error")
    device._settings.cnmi = chosen
    if chosen[0] != 0 and chosen[4] == 0:
        device._flush_held_urcs()
    elif chosen[4] == 1:
        device._held_urcs.clear()
    return []


@_handles("+CPMS")
def _cpms(device: Device, command: Command) -> list[str]:
    settings = device._settings
    if command.form is Form.TEST:
        return [device.profile.cpms_test]
    if command.form is Form.READ:
        fields = []
        for name in settings.cpms:
            storage = device.storages.get(name)
            fields.append(f'"{name}",{storage.used},{storage.capacity}')
        return ["+CPMS: " + ",".join(fields)]
    args = command.args()
    if not 1 <= len(args) <= 3:
        raise CommandFailed("cms", 302)
    chosen = list(settings.cpms)
    allowed = device.profile.cpms_test[len("+CPMS: ") :].split("),(")
    for position, wanted in enumerate(args):
        if wanted is None:
            continue
        group = allowed[min(position, len(allowed) - 1)]
        if f'"{wanted}"' not in group or wanted not in device.storages:
            raise CommandFailed("cms", 302)
        chosen[position] = wanted
    settings.cpms = (chosen[0], chosen[1], chosen[2])
    counts = []
    for name in settings.cpms:
        storage = device.storages.get(name)
        counts += [str(storage.used), str(storage.capacity)]
    return ["+CPMS: " + ",".join(counts)]


# ====================================================================== reading and deleting
def _index_arg(value: str | None) -> int:
    if value is None:
        raise CommandFailed("cms", 321)
    try:
        return int(value)
    except ValueError:
        raise CommandFailed("cms", 321) from None


@_handles("+CMGR")
def _cmgr(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    args = command.args()
    index = _index_arg(args[0] if args else None)
    _, storage = device._storage_for_read()
    try:
        message = storage.read(index)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    if device._settings.cmgf == 0:
        return [
            device._pdu_header("+CMGR", message.stat, message.tpdu_length, None),
            message.pdu_hex,
        ]
    header, body = device._text_view(message.pdu_hex, message.stat)
    return [f"+CMGR: {header}"] + ([body] if body is not None else [])


@_handles("+CMGL")
def _cmgl(device: Device, command: Command) -> list[str]:
    pdu_mode = device._settings.cmgf == 0
    if command.form is Form.TEST:
        if pdu_mode:
            return ["+CMGL: (0-4)"]
        return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")']
    args = command.args()
    wanted: int
    if not args or args[0] is None:
        wanted = 0 if pdu_mode else TEXT_STATS["REC UNREAD"]
    elif pdu_mode:
        wanted = _int_arg(args[0], 0, 4)
    else:
        if args[0] not in TEXT_STATS:
            raise CommandFailed("cms", 305)
        wanted = TEXT_STATS[args[0]]
    keep_unread = len(args) > 1 and args[1] == "1"
    _, storage = device._storage_for_read()
    lines: list[str] = []
    for index, message in list(storage.items()):
        if wanted != STAT_ALL and int(message.stat) != wanted:
            continue
        stat = message.stat
        if pdu_mode:
            lines.append(device._pdu_header("+CMGL", stat, message.tpdu_length, index))
            lines.append(message.pdu_hex)
        else:
            header, body = device._text_view(message.pdu_hex, stat)
            lines.append(f"+CMGL: {index},{header}")
            if body is not None:
                lines.append(body)
        if not keep_unread and stat is Stat.REC_UNREAD:
            storage.read(index)
    return lines


@_handles("+CMGD")
def _cmgd(device: Device, command: Command) -> list[str]:
    _, storage = device._storage_for_read()
    if command.form is Form.TEST:
        low, high = storage.index_range()
        return [f"+CMGD: ({low}-{high}),(0-4)"]
    args = command.args()
    index = _index_arg(args[0] if args else None)
    delflag = _int_arg(args[1], 0, 4) if len(args) > 1 and args[1] is not None else 0
    try:
        if delflag == 0:
            storage.delete(index)
        else:
            storage.delete_by_flag(delflag)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    device._retry_waiting_messages()
    return []


@_handles("+CMGDA")
def _cmgda(device: Device, command: Command) -> list[str]:
    if not device.profile.has_cmgda:
        raise CommandFailed("unknown")
    if command.form is not Form.SET:
        return []
    args = command.args()
    value = (args[0] or "") if args else ""
    flags = {"1": 1, "2": 1, "3": 2, "4": 3, "5": 3, "6": 4, "DEL READ": 1, "DEL ALL": 4}
    flags |= {"DEL SENT": 2, "DEL UNSENT": 3, "DEL INBOX": 1}
    if value.upper() not in flags:
        raise CommandFailed("cms", 302)
    _, storage = device._storage_for_read()
    storage.delete_by_flag(flags[value.upper()])
    device._retry_waiting_messages()
    return []


# ====================================================================== sending and writing
def _open_prompt(device: Device, command: Command, kind: Literal["cmgs", "cmgw"]) -> None:
    args = command.args()
    if device._settings.cmgf == 0:
        length = _int_arg(args[0] if args else None, 1, 176) if args else None
        if length is None:
            raise CommandFailed("cms", 304)
        stat = Stat.STO_UNSENT
        if kind == "cmgw" and len(args) > 1 and args[1] is not None:
            stat = Stat(_int_arg(args[1], 0, 3))
        device._prompt = _Prompt(kind, length, None, stat)
        return
    if not args or not args[0]:
        raise CommandFailed("cms", 305)
    try:
        number = textmode.from_te(args[0], device._settings.cscs)
    except ValueError:
        raise CommandFailed("cms", 305) from None
    stat = Stat.STO_UNSENT
    if kind == "cmgw" and len(args) > 2 and args[2] is not None:
        text_stat = TEXT_STATS.get(args[2])
        if text_stat is None or text_stat == STAT_ALL:
            raise CommandFailed("cms", 305)
        stat = Stat(text_stat)
    device._prompt = _Prompt(kind, None, number, stat)


@_handles("+CMGS")
def _cmgs(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(device, command, "cmgs")
    return []


@_handles("+CMGW")
def _cmgw(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(device, command, "cmgw")
    return []


@_handles("+CMSS")
def _cmss(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    args = command.args()
    index = _index_arg(args[0] if args else None)
    storage = device.storages.get(device._settings.cpms[1])
    try:
        message = storage.get(index)
        submit = network.parse_submit(message.pdu_hex, None)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    except PduError:
        raise CommandFailed("cms", 302) from None
    if len(args) > 1 and args[1]:
        submit = dataclasses.replace(submit, number=args[1])

    def mark_sent() -> None:
        message.stat = Stat.STO_SENT

    device._send_submit(submit, "+CMSS", mark_sent)
    return []
