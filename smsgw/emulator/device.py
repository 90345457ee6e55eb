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
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from smsgw import pdu
from smsgw.emulator import network, textmode
from smsgw.emulator.atline import Command, LineSyntaxError, parse_line
from smsgw.emulator.commands import HANDLERS, NO_SIM_NEEDED, SMS_COMMANDS, s_register
from smsgw.emulator.profiles import Profile
from smsgw.emulator.state import CommandFailed, Prompt, Settings
from smsgw.emulator.storage import Stat, Storage, StorageFull, StorageSet
from smsgw.exceptions import PduError

CTRL_Z = 0x1A
ESC = 0x1B
BACKSPACE = 0x08
MAX_LINE = 1024
MAX_PROMPT_INPUT = 2048

UrcPosition = Literal["now", "mid_reply", "before_echo"]


def frame_block(lines: Sequence[str]) -> str:
    """One information response (or URC) as the firmware frames it: `\\r\\n`, the lines
    joined by `\\r\\n`, `\\r\\n`. A `+CMGR`/`+CMGL`/`+CMT` header and its PDU or text are
    lines of one block, so the PDU is on the very next line (PROTOCOL.md §5.2); an empty
    last line is Huawei's extra blank line (`+CSCS: "GSM"` then a blank line, §3.3.7).
    """
    return "\r\n" + "\r\n".join(lines) + "\r\n"


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
    #: Wall clock for SCTS / text-mode timestamps (tz-aware).
    wall_clock: Callable[[], datetime.datetime] = dataclasses.field(
        default=lambda: datetime.datetime.now(datetime.UTC).astimezone()
    )


class Device:
    """One emulated modem (see the module docstring for the calling convention).

    Host-facing surface: feed / read_output / set_output_listener / advance /
    next_deadline, power_on / power_off / reboot, deliver / deliver_pdu, sent, storage,
    and the faults (inject_urc, inject_garbage, set_unresponsive, fail_next_send).
    Attributes without an underscore that are not listed (settings, prompt, sim_state,
    registered, send_submit, ...) are the state the command handlers in
    `smsgw.emulator.commands` work on; tests may read them, clients should not need to.
    """

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
        self.settings = self.default_settings()
        self._line = bytearray()
        self.prompt: Prompt | None = None
        self._busy_until: float | None = None
        self._held_input = bytearray()
        #: URC blocks (a two-line +CMT/+CDS is one block) held until the line is free.
        self.held_urcs: list[tuple[str, ...]] = []
        self._before_echo: list[str] = []
        self._mid_reply: list[str] = []
        self._network_queue: list[Callable[[], None]] = []
        self.sim_state = "READY"
        self.pin = self.options.pin
        self.pin_attempts = 3
        self._sms_ready = False
        self.registered = False
        self.cfun = 1
        self._next_mr = 0
        self._send_failures: list[int] = []
        self.awaiting_cnma = False
        #: Offers the unacknowledged routed PDU again (it goes back to the network if unacked).
        self._unacked: Callable[[], None] | None = None
        self._ack_token = 0
        #: Routed PDUs that arrived while one was unacknowledged (one at a time, §3.4.4).
        self._routed_backlog: list[Callable[[], None]] = []
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
            if self.prompt is not None:
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
        return self.settings.cnmi

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
        self.settings = self.default_settings()
        self._line.clear()
        self.prompt = None
        self._busy_until = None
        self._held_input.clear()
        self.held_urcs.clear()
        self._sms_ready = False
        self.registered = False
        self.cfun = 1
        self.pin = self.options.pin if self.sim_state != "SIM PUK" else self.pin
        if self.pin is not None and self.sim_state != "SIM PUK":
            self.sim_state = "SIM PIN"
        scale = self.options.boot_scale
        for delay, line in self.profile.banner:
            self.schedule(delay * scale, functools.partial(self._banner_line, line))
        for position, line in enumerate(self.profile.boot_noise):
            self.schedule(0.01 * position, functools.partial(self._noise, line))
        interval = self.options.noise_interval
        if interval is None:
            interval = self.profile.periodic_noise_interval
        if self.profile.periodic_noise and interval > 0:
            self.schedule(interval, lambda: self._periodic_noise(interval))
        if self.sim_state == "READY":
            self.schedule(self.profile.sms_ready_after * scale, self._become_sms_ready)

    def power_off(self) -> None:
        """Power lost (unplug): nothing in or out, pending boot timers are void."""
        self._powered = False
        self._generation += 1
        self._output.clear()
        if self.awaiting_cnma:  # never acknowledged: the network still has it
            self._refuse_routed()

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
        """Each line as its own `\\r\\n<line>\\r\\n` (separate URCs, banner lines)."""
        self._emit_blocks([[line] for line in lines])

    def _emit_blocks(self, blocks: Iterable[Sequence[str]]) -> None:
        self._emit_raw("".join(frame_block(block) for block in blocks).encode())

    def _urc(self, *lines: str) -> None:
        """An SMS URC: held while a prompt or a delayed reply owns the line (CNMI mode 2)."""
        mode = self.settings.cnmi[0]
        if mode == 0 or self._executing or self.prompt is not None or self._is_busy():
            self.held_urcs.append(lines)
            return
        self._emit_blocks([lines])

    def _flush_held_urcs(self) -> None:
        if self.held_urcs and self.settings.cnmi[0] != 0:
            held, self.held_urcs = self.held_urcs, []
            self._emit_blocks(held)

    def schedule(
        self, delay: float, action: Callable[[], None], *, survives_reboot: bool = False
    ) -> None:
        generation = -1 if survives_reboot else self._generation
        heapq.heappush(self._timers, (self._now + delay, next(self._timer_seq), generation, action))

    def default_settings(self) -> Settings:
        return Settings(
            cscs=self.profile.cscs_default,
            cnmi=self.profile.cnmi_default,
            cpms=self.profile.cpms_default,
        )

    # ------------------------------------------------------------------ boot sequence
    def _banner_line(self, line: str) -> None:
        if line.startswith("+CPIN:"):
            self._emit_lines([f"+CPIN: {self.sim_state}"])
        elif line in ("Call Ready", "SMS Ready") and self.sim_state != "READY":
            return
        else:
            self._emit_lines([line])

    def _noise(self, line: str) -> None:
        if self.settings.curc != 0:
            self._emit_lines([line])

    def _periodic_noise(self, interval: float) -> None:
        if self.profile.periodic_noise:
            self._noise(self.profile.periodic_noise)
        self.schedule(interval, lambda: self._periodic_noise(interval))

    def _become_sms_ready(self) -> None:
        self._sms_ready = True
        self.set_registered(self.cfun == 1)
        queued, self._network_queue = self._network_queue, []
        for action in queued:
            action()

    def after_unlock(self) -> None:
        """PIN accepted: `+CPIN: READY`, then the deferred Call/SMS Ready lines (§2.1)."""
        scale = self.options.boot_scale
        self.schedule(0.05 * scale, lambda: self._emit_lines(["+CPIN: READY"]))
        for delay, line in self.profile.banner:
            if line in ("Call Ready", "SMS Ready"):
                self.schedule(
                    0.1 * scale + delay * scale / 4, functools.partial(self._emit_lines, [line])
                )
        self.schedule(
            0.1 * scale + self.profile.sms_ready_after * scale / 4, self._become_sms_ready
        )

    def set_registered(self, registered: bool) -> None:
        if registered == self.registered:
            return
        self.registered = registered
        if self.settings.creg:
            self._emit_lines([self.creg_line(unsolicited=True)])

    def creg_line(self, *, unsolicited: bool) -> str:
        stat = 1 if self.registered else (2 if self.sim_state == "READY" else 0)
        fields = [] if unsolicited else [str(self.settings.creg)]
        fields.append(str(stat))
        if self.settings.creg == 2 and self.registered:
            if self.profile.creg_quoted:
                fields += [f'"{self.profile.lac}"', f'"{self.profile.cell_id}"']
            else:
                fields += [self.profile.lac, self.profile.cell_id]
        return "+CREG: " + ",".join(fields)

    def retry_waiting_messages(self) -> None:
        """Space was freed: messages the SMSC kept (storage full) are delivered now."""
        if self._network_queue and self._sms_ready and self.registered:
            queued, self._network_queue = self._network_queue, []
            for action in queued:
                action()

    def _via_network(self, action: Callable[[], None]) -> None:
        """Network events wait at the SMSC while the modem is off, booting or unregistered."""
        if self._powered and self._sms_ready and self.registered:
            action()
        else:
            self._network_queue.append(action)

    # ------------------------------------------------------------------ receiving
    def _receive_deliver(self, pdu_hex: str, message_class: int | None) -> None:
        mt = self.settings.cnmi[1]
        direct = (mt == 2 and message_class != 2) or (mt == 3 and message_class == 3)
        if direct:
            again = functools.partial(self._receive_deliver, pdu_hex, message_class)
            if self.settings.cmgf == 0:
                length = len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)
                self._route(f"+CMT: {self._alpha()}{length}", pdu_hex, again)
            else:
                header, body = self.text_view(pdu_hex, Stat.REC_UNREAD)
                self._route("+CMT: " + header.split(",", 1)[1], body or "", again)
            return
        mem3 = self.settings.cpms[2]
        try:
            index = self.storages.get(mem3).store(Stat.REC_UNREAD, pdu_hex)
        except StorageFull:
            # A real SMSC keeps the message and retries; nothing reaches the host now.
            self._network_queue.append(lambda: self._receive_deliver(pdu_hex, message_class))
            return
        if mt != 0:
            self._urc(f'+CMTI: "{mem3}",{index}')

    def _receive_status_report(self, pdu_hex: str) -> None:
        ds = self.settings.cnmi[3]
        if ds == 1:
            length = len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)
            again = functools.partial(self._receive_status_report, pdu_hex)
            self._route(f"+CDS: {length}", pdu_hex, again)
        elif ds == 2:
            name = self.profile.status_report_storage or self.settings.cpms[2]
            try:
                index = self.storages.get(name).store(Stat.REC_UNREAD, pdu_hex)
            except StorageFull:
                return
            self._urc(f'+CDSI: "{name}",{index}')

    # ------------------------------------------------------------------ +CNMA (27.005 §3.4.4)
    def _route(self, header: str, body: str, again: Callable[[], None]) -> None:
        """Send a `+CMT`/`+CDS` to the host. With `AT+CSMS=1` it must be acknowledged with
        `AT+CNMA` within `cnma_timeout`; until then later ones wait. Unacknowledged, the ME
        refuses it to the network (which offers it again after `network_retry`) and sets
        `<mt>` and `<ds>` to 0. With `AT+CSMS=0` the ME acknowledges it itself: a host that
        is not listening loses it."""
        if self.settings.csms != 1:
            self._urc(header, body)
            return
        if self.awaiting_cnma:
            self._routed_backlog.append(again)
            return
        self.awaiting_cnma = True
        self._unacked = again
        self._ack_token += 1
        token = self._ack_token
        self._urc(header, body)
        self.schedule(self.options.cnma_timeout, lambda: self._ack_timed_out(token))

    def acknowledge_routed(self) -> None:
        """`AT+CNMA` accepted: the routed PDU is the host's now; the next one may follow."""
        self.awaiting_cnma = False
        self._unacked = None
        backlog, self._routed_backlog = self._routed_backlog, []
        for again in backlog:
            again()

    def _ack_timed_out(self, token: int) -> None:
        if not self.awaiting_cnma or token != self._ack_token:
            return
        mode, _, bm, _, bfr = self.settings.cnmi
        self.settings.cnmi = (mode, 0, bm, 0, bfr)
        self._refuse_routed()

    def _refuse_routed(self) -> None:
        """RP-ERROR to the network for the unacknowledged PDU and the ones waiting behind it:
        the SMSC offers each again later, to whatever routing the host has set by then."""
        pending = [self._unacked, *self._routed_backlog] if self._unacked else []
        self.awaiting_cnma = False
        self._unacked = None
        self._routed_backlog = []
        for again in pending:
            self.schedule(
                self.options.network_retry,
                functools.partial(self._via_network, again),
                survives_reboot=True,
            )

    def _alpha(self) -> str:
        return f"{self.profile.pdu_alpha},"

    def text_view(self, pdu_hex: str, stat: Stat) -> tuple[str, str | None]:
        try:
            decoded = pdu.decode(pdu_hex)
        except PduError:
            raise CommandFailed("cms", 500) from None
        return textmode.header_and_body(
            decoded, stat.text, self.settings.cscs, self.profile.pdu_alpha
        )

    # ------------------------------------------------------------------ command line input
    def _command_byte(self, byte: int) -> None:
        if byte == 0x0D:
            if self.settings.echo:
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
                if self.settings.echo:
                    self._emit_raw(b"\x08")
        else:
            if not self._line and self._before_echo:
                lines, self._before_echo = self._before_echo, []
                self._emit_raw("".join(f"{line}\r\n" for line in lines).encode())
            if len(self._line) < MAX_LINE:
                self._line.append(byte)
            if self.settings.echo:
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
            if self.prompt is None and not self._is_busy():
                self._flush_held_urcs()

    def _run_commands(self, commands: list[Command]) -> None:
        # One block per command that has information text: chained commands
        # (`AT+CGMI;+CGMM`) answer `\r\nSIMCOM_Ltd\r\n\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n`.
        blocks: list[list[str]] = []
        for command in commands:
            replies_before = self._replies
            try:
                block = self._execute(command)
            except CommandFailed as failure:
                self._finish(blocks, failure)
                return
            if block:
                blocks.append(block)
            if self.prompt is not None:
                self._emit_raw(b"\r\n> ")
                return
            if self._busy_until is not None or self._replies != replies_before:
                return  # the command answered (or will answer) by itself
        self._finish(blocks, None)

    def _execute(self, command: Command) -> list[str]:
        handler = HANDLERS.get(command.name)
        if handler is None and command.name[:1] == "S" and command.name[1:].isdigit():
            handler = s_register
        if handler is None:
            if command.name in self.profile.accepted_noops:
                return []
            raise CommandFailed("unknown")
        if self.sim_state != "READY" and command.name not in NO_SIM_NEEDED:
            raise CommandFailed("cme", 11 if self.sim_state == "SIM PIN" else 12)
        if command.name in SMS_COMMANDS and not self._sms_ready:
            raise CommandFailed("cms", 302)
        return handler(self, command)

    def _final(self, failure: CommandFailed | None) -> str:
        if failure is None:
            return "OK"
        if failure.kind == "unknown":
            return self.profile.unknown_command
        if failure.kind == "error" or self.settings.cmee == 0:
            return "ERROR"
        prefix, texts = (
            ("+CME ERROR", CME_TEXT) if failure.kind == "cme" else ("+CMS ERROR", CMS_TEXT)
        )
        if self.settings.cmee == 2:
            return f"{prefix}: {texts.get(failure.code, 'unknown error')}"
        return f"{prefix}: {failure.code}"

    def _finish(self, blocks: list[list[str]], failure: CommandFailed | None) -> None:
        """Frame and send a complete reply, then flush URCs held while it was pending."""
        body: list[Sequence[str]] = list(blocks)
        if self._mid_reply:
            # Injected URCs land after the first information response, each its own block.
            at = 1 if body else 0
            body[at:at] = [[line] for line in self._mid_reply]
            self._mid_reply = []
        body.append([self._final(failure)])
        self._replies += 1
        self._emit_blocks(body)
        self._flush_held_urcs()

    # ------------------------------------------------------------------ prompt input
    def _prompt_byte(self, byte: int) -> None:
        prompt = self.prompt
        assert prompt is not None
        if byte == ESC:
            self.prompt = None
            self._finish([], None)
        elif byte == CTRL_Z:
            if self.settings.echo:
                self._emit_raw(b"\r\n")
            self.prompt = None
            self._submit_prompt(prompt)
        elif byte in (0x0D, 0x0A):
            if prompt.pdu_length is None and byte == 0x0D:
                prompt.typed.extend(b"\n")
                self._emit_raw(b"\r\n> ")
        elif len(prompt.typed) < MAX_PROMPT_INPUT:
            prompt.typed.append(byte)
            if self.settings.echo:
                self._emit_raw(bytes([byte]))

    def _submit_prompt(self, prompt: Prompt) -> None:
        try:
            if prompt.kind == "cmgw":
                index = self._write_prompt(prompt)
                self._finish([[f"+CMGW: {index}"]], None)
                return
            pdu_hex = self._prompt_pdu(prompt)
            parsed = network.parse_submit(pdu_hex, prompt.pdu_length)
        except CommandFailed as failure:
            self._finish([], failure)
            return
        except PduError:
            self._finish([], CommandFailed("cms", 304 if prompt.pdu_length else 305))
            return
        self.send_submit(parsed, "+CMGS")

    def _prompt_pdu(self, prompt: Prompt) -> str:
        """The PDU typed at the prompt (PDU mode) or one built from the typed text."""
        typed = prompt.typed.decode("latin-1")
        if prompt.pdu_length is not None:
            return typed.strip().upper()
        try:
            text = textmode.from_te(typed, self.settings.cscs)
        except ValueError:
            raise CommandFailed("cms", 305) from None
        assert prompt.number is not None
        parts = pdu.encode_submit(
            prompt.number, text, srr=bool(self.settings.csmp[0] & 0x20), smsc=None
        )
        if len(parts) != 1:
            raise CommandFailed("cms", 305)  # one text-mode CMGS sends one SMS
        return parts[0].hex

    def _write_prompt(self, prompt: Prompt) -> int:
        pdu_hex = self._prompt_pdu(prompt)
        try:
            decoded = pdu.decode(pdu_hex)
        except PduError:
            raise CommandFailed("cms", 304 if prompt.pdu_length else 305) from None
        if prompt.pdu_length is not None and decoded.tpdu_length != prompt.pdu_length:
            raise CommandFailed("cms", 304)
        try:
            return self.storages.get(self.settings.cpms[1]).store(prompt.stat, pdu_hex)
        except StorageFull:
            raise CommandFailed("cms", 322) from None

    def send_submit(
        self,
        submit: pdu.Submit,
        result_prefix: str,
        on_success: Callable[[], None] | None = None,
    ) -> None:
        """Hand a SUBMIT to the network; the reply comes after the configured CMGS delay."""
        if self._send_failures:
            self._finish([], CommandFailed("cms", self._send_failures.pop(0)))
            return
        if not self.registered:
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
            self._finish([[f"{result_prefix}: {mr}"]], None)
            if accepted.srr and self.options.report_status != "none":
                self.schedule(
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
        self.schedule(delay, complete)

    def _report(self, accepted: network.AcceptedSubmit) -> None:
        encoded = network.status_report_pdu(
            accepted, self.options.report_status, self.options.wall_clock(), smsc=self.smsc
        )
        if encoded is not None:
            self._via_network(lambda: self._receive_status_report(encoded.hex))

    # ------------------------------------------------------------------ storage helpers
    def storage_for_read(self) -> tuple[str, Storage]:
        name = self.settings.cpms[0]
        return name, self.storages.get(name)

    def pdu_header(self, prefix: str, stat: Stat, length: int, index: int | None) -> str:
        head = f"{index}," if index is not None else ""
        return f"{prefix}: {head}{int(stat)},{self._alpha()}{length}"
