"""A strict line-by-line AT reader, the way strict third-party clients read the stream.

It splits the stream at `\\r\\n`, skips the empty line V.250 framing puts before each
response, and takes the line right after a `+CMGR:`/`+CMGL:` header as that message's PDU
(PDU mode) or text (text mode). An empty or non-hex PDU line is an error, not a message to
skip: that is what a blank line between header and PDU does to such clients.
"""

from __future__ import annotations

import dataclasses
import re

FINALS = re.compile(r"^(OK|ERROR|\+CM[ES] ERROR: .*|COMMAND NOT SUPPORT)$")
HEADER = re.compile(r"^\+CM(GR|GL): (.*)$")
HEX = re.compile(r"^[0-9A-F]+$")


class StrictReadError(AssertionError):
    """The stream does not have the shape a strict client relies on."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One message of a `+CMGR`/`+CMGL` reply: header fields and the next line."""

    header: str
    body: str


class StrictReader:
    """Feed bytes; `reply()` returns the entries of one complete reply and its final line."""

    def __init__(self, *, pdu_mode: bool = True) -> None:
        self.pdu_mode = pdu_mode
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def _lines(self) -> list[str]:
        *complete, rest = self._buffer.split(b"\r\n")
        self._buffer = rest
        return [line.decode("latin-1") for line in complete]

    def reply(self) -> tuple[list[Entry], str]:
        """Entries and final result of the reply in the buffer (echo must be off)."""
        lines = self._lines()
        entries: list[Entry] = []
        position = 0
        while position < len(lines):
            line = lines[position]
            if FINALS.match(line):
                return entries, line
            header = HEADER.match(line)
            if header is not None:
                if position + 1 >= len(lines):
                    raise StrictReadError(f"header {line!r} is the last line")
                body = lines[position + 1]
                if self.pdu_mode and not HEX.match(body):
                    raise StrictReadError(f"invalid first byte of PDU after {line!r}: {body!r}")
                entries.append(Entry(header.group(2), body))
                position += 2
                continue
            position += 1
        raise StrictReadError(f"no final result in {lines!r}")
