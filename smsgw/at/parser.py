"""Sans-I/O AT response parser: bytes in, typed events out.

The parser never reads or writes anything and knows nothing about asyncio. The channel
feeds it whatever the port delivered (any split, one byte at a time included) and acts on
the events. It is built around the ten quirks of PROTOCOL.md §9:

* Lines end with CR, LF or any mix (``\\r\\r\\n`` after echoes, ``OK\\n``, Huawei's extra
  blank lines); empty lines carry no meaning and are skipped (§1.1, §1.4, §1.13).
* The ``AT+CMGS`` prompt is ``> `` **without** a line end, so it is recognised from the
  first two bytes of a line instead of waiting for a terminator that never comes (§1.5).
* Unsolicited result codes are classified by their own pattern *before* deciding whether
  a line belongs to the pending command, so they are recognised between commands, before
  an echo and inside a multi-line reply (§1.2, §1.3). ``+CMT:`` and ``+CDS: <len>`` span
  two lines (header + PDU) and are emitted as one event.
* A ``+CUSD:`` text spanning lines is joined up to its closing quote (a final result
  code ends it as it is: a garbled answer cannot swallow an ``OK``).
* A few prefixes are both a reply and a URC (``+CREG:``, ``+CPIN:``, ``+CFUN:``). The
  channel tells the parser which command is pending (:meth:`AtParser.expect`); a line
  carrying that command's own prefix is then information text, anything else matching a
  URC pattern stays a URC.

Garbage never raises: undecodable bytes become U+FFFD, and a "line" longer than
``max_line`` bytes without a terminator is dropped and reported as :class:`Discarded`, so
memory stays bounded on a stream of noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from smsgw.at.events import Discarded, Echo, Event, Final, FinalKind, Line, Prompt, Urc

__all__ = [
    "DEFAULT_MAX_LINE",
    "AtParser",
    "Discarded",
    "Echo",
    "Event",
    "Final",
    "FinalKind",
    "Line",
    "Prompt",
    "Urc",
    "response_prefix",
]

DEFAULT_MAX_LINE = 4096
"""Longest line kept, in bytes. A PDU line is at most ~360 hex characters; verbose replies
(``AT+CLAC``) come one item per line, so 4 KiB leaves a wide margin."""


# Final result codes (§1.1). Order matters only for readability; each is anchored.
_CODED_ERROR = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$")
_PLAIN_FINALS = {"OK": FinalKind.OK, "ERROR": FinalKind.ERROR}
_VENDOR_ERRORS = ("COMMAND NOT SUPPORT", "MODEM ERROR:", "TOO MANY PARAMETERS")
_CALL_RESULTS = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")

# Fixed-text URCs (boot banners, power warnings), matched on the whole line.
_WORD_URCS = frozenset(
    {
        "RING",
        "RDY",
        "SMS Ready",
        "Call Ready",
        "NORMAL POWER DOWN",
        "UNDER-VOLTAGE POWER DOWN",
        "UNDER-VOLTAGE WARNNING",
        "UNDER-VOLTAGE WARNING",
        "OVER-VOLTAGE POWER DOWN",
        "OVER-VOLTAGE WARNNING",
        "OVER-VOLTAGE WARNING",
    }
)

# Prefixed URCs: `<prefix>:<args>`. Two-line ones listed separately (§1.3, §2.4, §3.2.1).
_PREFIX_URCS = frozenset(
    {
        "+CMTI",
        "+CDSI",
        "+CBMI",
        "+CREG",
        "+CGREG",
        "+CEREG",
        "+CUSD",
        "+CLIP",
        "+CRING",
        "+CCWA",
        "+CPIN",
        "+CFUN",
        "+CMTE",
        "+CSQN",
        "+CTZV",
        "+CIEV",
        "*PSNWID",
        "*PSUTTZ",
        "DST",
        "^RSSI",
        "^HCSQ",
        "^DSFLOWRPT",
        "^BOOT",
        "^MODE",
        "^CSNR",
        "^SRVST",
        "^SIMST",
        "^STIN",
        "^NWTIME",
        "^RSSILVL",
        "^HRSSILVL",
        "^NDISSTAT",
        "^ORIG",
        "^CONF",
        "^CONN",
        "^CEND",
        "^DSDORMANT",
        "^RFSWITCH",
        "^ECCLIST",
        "^LTERSRP",
        "^EONS",
        "^LWURC",
        "^SYSSTART",
        "+CUSATP",
        "+ZDONR",
        "+ZPASR",
        "+ZEND",
    }
)
_TWO_LINE_URCS = frozenset({"+CMT", "+CDS", "+CBM"})

# PDU-mode headers of two-line URCs end in a plain length: `+CMT: "",24`, `+CMT: ,51`,
# `+CDS: 25`, `+CDS:25`, `+CBM: 88`. Text-mode `+CDS: <fo>,<mr>,...` is a single line.
_TWO_LINE_HEADER = re.compile(r'^(?:(?:"[^"]*"|[^,"]*)\s*,\s*)?\d+$')
_PREFIX = re.compile(r"^([+^*][A-Za-z0-9_]+|DST)\s*:\s*(.*)$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII only: str.isdigit() accepts "¹"
_ECHO_CTRL = "\x1a\x1b"


def _next_line_end(chunk: bytes, start: int) -> int:
    """Index of the next CR or LF at or after ``start``, or -1."""
    cr, lf = chunk.find(b"\r", start), chunk.find(b"\n", start)
    if cr < 0:
        return lf
    return cr if lf < 0 else min(cr, lf)


def response_prefix(command: str) -> str | None:
    """The prefix a command's own information lines carry: ``AT+CREG?`` -> ``+CREG``.

    ``None`` for basic commands (``ATE0``, ``ATI``) whose replies carry no prefix.
    """
    match = re.match(r"^\s*AT\s*([+^*$%][A-Za-z0-9_]+)", command, re.IGNORECASE)
    return match.group(1).upper() if match else None


class AtParser:
    """Incremental AT parser; see the module docstring for the rules it applies.

    Usage: ``events = parser.feed(data)`` as bytes arrive; ``parser.expect(command)``
    right before writing a command; ``parser.expect(None)`` once it has finished.
    """

    def __init__(self, *, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 16:
            raise ValueError("max_line must be at least 16 bytes")
        self._max_line = max_line
        self._buffer = bytearray()
        self._discarding = False
        self._two_line_header: tuple[str, str, str] | None = None
        self._command: str | None = None
        self._echoes: tuple[str, ...] = ()
        self._own_prefix: str | None = None
        self._dial = False
        self._discarded_bytes = 0
        #: A `+CUSD:` whose quoted text has not ended yet (a multi-line USSD answer).
        self._open_cusd: str | None = None

    # -- what is pending --------------------------------------------------------------
    def expect(self, command: str | None, *, payload: str | None = None) -> None:
        """Declare the command about to be written (``None`` when nothing is pending).

        ``payload`` is the PDU sent after the prompt; its echo is reported as Echo too.
        """
        self._command = command
        if command is None:
            self._echoes = ()
            self._own_prefix = None
            self._dial = False
            return
        cleaned = command.strip().upper()
        echoes = [cleaned]
        if payload is not None:
            echoes.append(payload.strip(_ECHO_CTRL + " \r\n").upper())
        self._echoes = tuple(echoes)
        self._own_prefix = response_prefix(command)
        self._dial = bool(re.match(r"^AT\s*(D|A$|O$)", cleaned))

    @property
    def buffered(self) -> int:
        """Bytes held waiting for a line end (bounded by ``max_line``)."""
        return len(self._buffer)

    # -- input ------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Consume ``data`` and return every event it completes, in stream order."""
        events: list[Event] = []
        chunk = bytes(data)
        position, size = 0, len(chunk)
        while position < size:
            end = _next_line_end(chunk, position)
            segment = chunk[position : size if end < 0 else end]
            if self._discarding:
                self._discarded_bytes += len(segment)
            else:
                self._buffer += segment
                while self._buffer[:2] == b"> ":
                    del self._buffer[:2]
                    events.append(Prompt())
                if len(self._buffer) > self._max_line:
                    self._discarding = True
                    self._discarded_bytes = len(self._buffer)
                    self._buffer.clear()
            if end < 0:
                break
            self._end_line(events)
            position = end + 1
        return events

    def feed_many(self, chunks: Iterable[bytes]) -> list[Event]:
        """Convenience for tests: feed several chunks, return all events."""
        events: list[Event] = []
        for chunk in chunks:
            events.extend(self.feed(chunk))
        return events

    def _end_line(self, events: list[Event]) -> None:
        if self._discarding:
            self._discarding = False
            events.append(Discarded(self._discarded_bytes))
            self._discarded_bytes = 0
            return
        if not self._buffer:
            return
        text = self._buffer.decode("utf-8", errors="replace")
        self._buffer.clear()
        stripped = text.strip(" \t\x00")
        if not stripped:
            return
        if self._open_cusd is not None:
            if self._final(stripped) is None:
                self._continue_cusd(self._open_cusd + "\n" + stripped, events)
                return
            # A result code inside the text: the quote never closes; report what came.
            events.append(self._cusd_event(self._open_cusd))
            self._open_cusd = None
        if self._two_line_header is not None:
            name, args, header = self._two_line_header
            self._two_line_header = None
            if _HEX.match(stripped):
                events.append(Urc(name=name, args=args, line=header, pdu=stripped))
                return
            # The PDU line never came (cut or corrupted): report the header alone and
            # classify this line on its own merits.
            events.append(Urc(name=name, args=args, line=header))
        event = self._classify(stripped)
        if event is not None:
            events.append(event)

    def _continue_cusd(self, joined: str, events: list[Event]) -> None:
        """`joined`: the USSD text so far plus one more line (SIMCom passes the network's
        line breaks through). Emitted at the closing quote, or when it grows too long."""
        self._open_cusd = joined
        if joined.count('"') >= 2 or len(joined) > self._max_line or joined.count("\n") >= 24:
            self._open_cusd = None
            events.append(self._cusd_event(joined))

    def _cusd_event(self, text: str) -> Event:
        """The whole `+CUSD:` line: information text while `AT+CUSD` is pending, else a URC."""
        if self._own_prefix == "+CUSD":
            return Line(text)
        return Urc(name="+CUSD", args=text.partition(":")[2].strip(), line=text)

    # -- classification ---------------------------------------------------------------
    def _classify(self, text: str) -> Event | None:
        final = self._final(text)
        if final is not None:
            return final
        if self._echoes and text.rstrip(_ECHO_CTRL).strip().upper() in self._echoes:
            return Echo(text)
        urc = self._urc(text)
        if urc is not None:
            return urc
        if self._open_cusd is not None:
            return None  # a multi-line USSD answer: wait for its closing quote
        if self._two_line_header is not None:
            return None  # header of a two-line URC: wait for its PDU line
        return Line(text)

    def _final(self, text: str) -> Final | None:
        kind = _PLAIN_FINALS.get(text)
        if kind is not None:
            return Final(kind, text)
        coded = _CODED_ERROR.match(text)
        if coded is not None:
            cause = coded.group(2).strip()
            family = FinalKind.CME if coded.group(1) == "CME" else FinalKind.CMS
            return Final(family, cause, int(cause) if _NUMBER.match(cause) else None)
        if text.startswith(_VENDOR_ERRORS):
            return Final(FinalKind.ERROR, text)
        if text in _CALL_RESULTS and self._dial:
            return Final(FinalKind.CALL, text)
        return None

    def _urc(self, text: str) -> Urc | None:
        if text in _WORD_URCS or (text in _CALL_RESULTS and not self._dial):
            return Urc(name=text, args="", line=text)
        if text.startswith(("UNDER-VOLTAGE", "OVER-VOLTAGE")):
            return Urc(name=text, args="", line=text)
        match = _PREFIX.match(text)
        if match is None:
            return None
        name, args = match.group(1).upper(), match.group(2).strip()
        if name == "+CUSD" and args.count('"') == 1:
            self._open_cusd = text  # the quoted answer goes on over the next lines
            return None
        if name == self._own_prefix:
            return None
        if name in _TWO_LINE_URCS:
            if _TWO_LINE_HEADER.match(args):
                self._two_line_header = (name, args, text)
                return None
            return Urc(name=name, args=args, line=text)
        if name in _PREFIX_URCS:
            return Urc(name=name, args=args, line=text)
        return None
