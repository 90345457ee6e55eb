"""The serial line as the firmware reads it: echo, command lines, the `> ` prompt.

Echo is on by default; the `\\r` ending a command is echoed before the reply's `\\r\\n`
(`AT\\r\\r\\nOK\\r\\n`, §1.4). A line is parsed into commands and run until the first
error; each command with information text adds one response block, and the final result
closes the reply. A command that opens a prompt sends `\\r\\n> ` with no line end (§1.5);
the typed PDU is echoed, Ctrl-Z submits, ESC cancels. Input that arrives while a delayed
reply owns the line waits and is processed after it.
"""

from __future__ import annotations

from smsgw.emulator import outbound
from smsgw.emulator.atline import Command, LineSyntaxError, parse_line
from smsgw.emulator.commands import (
    HANDLERS,
    NO_SIM_NEEDED,
    SMS_COMMANDS,
    plain_setting,
    s_register,
)
from smsgw.emulator.state import CommandFailed, DeviceState

CTRL_Z = 0x1A
ESC = 0x1B
BACKSPACE = 0x08
MAX_LINE = 1024
MAX_PROMPT_INPUT = 2048


class LineInterpreter:
    """Bytes from the host -> commands run on a DeviceState."""

    def __init__(self, state: DeviceState) -> None:
        self.state = state
        self._line = bytearray()
        #: Injected URCs written before the echo of the next command (§1.2).
        self.before_echo: list[str] = []
        state.resume_input = self.feed

    def reset(self) -> None:
        self._line.clear()

    def feed(self, data: bytes) -> None:
        state = self.state
        if not state.powered or state.out.unresponsive:
            return
        for position, byte in enumerate(data):
            if state.busy:
                state.held_input.extend(data[position:])
                return
            if state.prompt is not None:
                self._prompt_byte(byte)
            else:
                self._command_byte(byte)

    # ------------------------------------------------------------------ command lines
    def _command_byte(self, byte: int) -> None:
        out, echo = self.state.out, self.state.settings.echo
        if byte == 0x0D:
            if echo:
                out.raw(b"\r")
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
                if echo:
                    out.raw(b"\x08")
        else:
            if not self._line and self.before_echo:
                lines, self.before_echo = self.before_echo, []
                out.raw("".join(f"{line}\r\n" for line in lines).encode())
            if len(self._line) < MAX_LINE:
                self._line.append(byte)
            if echo:
                out.raw(bytes([byte]))

    def _run_line(self, line: str) -> None:
        state = self.state
        stripped = line.strip()
        start = stripped.upper().find("AT")
        if start < 0:
            return  # not a command: firmwares ignore everything until "AT"
        try:
            commands = parse_line(stripped[start:])
        except LineSyntaxError:
            state.finish([], CommandFailed("error"))
            return
        state.executing = True
        try:
            self._run_commands(commands)
        finally:
            state.executing = False
            state.flush_held_urcs()

    def _run_commands(self, commands: list[Command]) -> None:
        # One block per command that has information text: chained commands
        # (`AT+CGMI;+CGMM`) answer `\r\nSIMCOM_Ltd\r\n\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n`.
        state = self.state
        blocks: list[list[str]] = []
        for command in commands:
            replies_before = state.replies
            try:
                block = self._execute(command)
            except CommandFailed as failure:
                state.finish(blocks, failure)
                return
            if block:
                blocks.append(block)
            if state.prompt is not None:
                state.out.raw(b"\r\n> ")
                return
            if state.busy or state.replies != replies_before:
                return  # the command answered (or will answer) by itself
        state.finish(blocks, None)

    def _execute(self, command: Command) -> list[str]:
        state = self.state
        handler = HANDLERS.get(command.name)
        if handler is None and command.name[:1] == "S" and command.name[1:].isdigit():
            handler = s_register
        if handler is None and command.name in state.profile.plain_settings:
            handler = plain_setting
        if handler is None:
            raise CommandFailed("unknown")
        if state.sim_state != "READY" and command.name not in NO_SIM_NEEDED:
            raise CommandFailed("cme", 11 if state.sim_state == "SIM PIN" else 12)
        if command.name in SMS_COMMANDS and not state.sms_ready:
            raise CommandFailed("cms", 302)
        return handler(state, command)

    # ------------------------------------------------------------------ prompt input
    def _prompt_byte(self, byte: int) -> None:
        state = self.state
        prompt = state.prompt
        assert prompt is not None
        if byte == ESC:
            state.prompt = None
            state.finish([], None)
        elif byte == CTRL_Z:
            if state.settings.echo:
                state.out.raw(b"\r\n")
            state.prompt = None
            outbound.submit_prompt(state, prompt)
        elif byte in (0x0D, 0x0A):
            if prompt.pdu_length is None and byte == 0x0D:
                prompt.typed.extend(b"\n")
                state.out.raw(b"\r\n> ")
        elif len(prompt.typed) < MAX_PROMPT_INPUT:
            prompt.typed.append(byte)
            if state.settings.echo:
                state.out.raw(bytes([byte]))
