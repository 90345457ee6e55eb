"""What the AT parser emits: one typed event per echo, information line, final result code,
prompt, unsolicited result code or dropped run of bytes. Kept apart from the parser so the
channel and tests can name the events without the parsing machinery."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Discarded", "Echo", "Event", "Final", "FinalKind", "Line", "Prompt", "Urc"]


class FinalKind(Enum):
    """Which family of final result code ended a command."""

    OK = "OK"
    ERROR = "ERROR"  # ERROR, COMMAND NOT SUPPORT, MODEM ERROR: ...
    CME = "CME"  # +CME ERROR: <n>|<text>
    CMS = "CMS"  # +CMS ERROR: <n>|<text>
    CALL = "CALL"  # NO CARRIER, BUSY, NO ANSWER, NO DIALTONE (only ends a dial command)


@dataclass(frozen=True)
class Echo:
    """The modem repeating what we wrote (until ``ATE0`` takes effect, and PDU echo)."""

    text: str


@dataclass(frozen=True)
class Line:
    """An information text line that belongs to the pending command (or to nobody)."""

    text: str


@dataclass(frozen=True)
class Final:
    """A final result code; ``code`` is set for numeric CME/CMS errors, ``text`` otherwise."""

    kind: FinalKind
    text: str
    code: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind is FinalKind.OK


@dataclass(frozen=True)
class Prompt:
    """The ``> `` prompt asking for the PDU after ``AT+CMGS=<n>`` / ``AT+CMGW=<n>``."""


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code.

    ``name`` is the prefix without the colon (``+CMTI``, ``^RSSI``, ``RING``,
    ``SMS Ready``); ``args`` the text after the colon, stripped; ``pdu`` the second line of
    a two-line URC (``+CMT``, ``+CDS``, ``+CBM``) or ``None``.
    """

    name: str
    args: str
    line: str
    pdu: str | None = None


@dataclass(frozen=True)
class Discarded:
    """Bytes dropped because a line grew past the limit without a terminator."""

    size: int


Event = Echo | Line | Final | Prompt | Urc | Discarded
