"""A tiny scripted modem on a MemoryLine, for channel tests (the real emulator is richer)."""

from __future__ import annotations

from collections.abc import Callable

from smsgw.at.memory import Faults, MemoryLine

Reply = bytes | Callable[[str], bytes]


class ScriptedModem:
    """Answers each command line with a canned reply; echoes when `echo` is on."""

    def __init__(self, faults: Faults | None = None, *, echo: bool = True) -> None:
        self.line = MemoryLine(faults)
        self.line.on_host_write = self._received
        self.echo = echo
        self.replies: dict[str, Reply] = {"AT": b"\r\nOK\r\n"}
        self.commands: list[str] = []
        self.payloads: list[str] = []
        self.silent = False
        self._buffer = b""
        self._awaiting_payload: str | None = None

    def _received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if self._awaiting_payload is not None:
                for end in (b"\x1a", b"\x1b"):
                    if end in self._buffer:
                        payload, _, self._buffer = self._buffer.partition(end)
                        self._payload(payload.decode(), end == b"\x1a")
                        break
                else:
                    return
                continue
            if b"\r" not in self._buffer:
                return
            raw, _, self._buffer = self._buffer.partition(b"\r")
            text = raw.decode()
            self._command(text[max(0, text.upper().find("AT")) :])  # V.250: junk before AT

    def _command(self, text: str) -> None:
        self.commands.append(text)
        if self.silent:
            return
        out = (text + "\r\r\n").encode() if self.echo else b""
        if text.startswith("AT+CMGS="):
            self._awaiting_payload = text
            self.line.to_host(out + b"\r\n> ")
            return
        reply = self.replies.get(text, b"\r\nERROR\r\n")
        self.line.to_host(out + (reply(text) if callable(reply) else reply))

    def _payload(self, payload: str, submitted: bool) -> None:
        command, self._awaiting_payload = self._awaiting_payload, None
        if not submitted:
            return
        self.payloads.append(payload)
        assert command is not None
        reply = self.replies.get(command, b"\r\n+CMGS: 7\r\n\r\nOK\r\n")
        echo = (payload + "\x1a").encode() if self.echo else b""
        self.line.to_host(echo + (reply(command) if callable(reply) else reply))
