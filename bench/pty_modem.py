"""A minimal AT modem on a pty, written for the inbound benchmark and independent of
smsgw.emulator.

It knows just enough of 27.005/27.007 for smsgw's initialisation and python-gsmmodem-new's
``connect()``: identity, SIM ready, PDU mode, one "SM" storage, ``+CMTI`` indications,
``AT+CMGR``/``AT+CMGL``/``AT+CMGD``. Settings it can ignore answer ``OK``, anything else
``ERROR``, as a real modem does for commands it lacks (both clients treat those as optional).
Replies are framed the SIM800 way (``\\r\\n<line>\\r\\n`` per line, the PDU on the line right
after its header, then ``\\r\\nOK\\r\\n``); echo is on until ``ATE0``. It shares nothing with
the emulator's parser, device model or timing; only the DELIVER PDUs it stores come from
:func:`smsgw.pdu.encode_deliver`, so each message is a distinct, valid SMS.

Every step of a received message is timestamped with ``time.monotonic()`` (one clock for
all processes): ``+CMTI`` written, ``AT+CMGR`` read, its reply written, ``AT+CMGD`` read.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import time
import tty
from dataclasses import dataclass, field

from smsgw import pdu

CAPACITY = 30
_OK = b"\r\nOK\r\n"
_ERROR = b"\r\nERROR\r\n"
_INVALID_INDEX = b"\r\n+CMS ERROR: 321\r\n"
#: Settings accepted (and ignored): what smsgw and python-gsmmodem-new set while connecting.
_ACCEPTED = (
    "ATZ", "ATE", "AT+CMEE=", "AT+CMGF=0", "AT+CNMI=", "AT+CREG=", "AT+COPS=", "AT+CLIP=",
    "AT+CRC=", "AT+CVHU=", "AT+CSMP=", "AT+CSCA=",
)  # fmt: skip


@dataclass
class Timeline:
    """When each step of one received message crossed the pty (monotonic seconds)."""

    cmti: float
    cmgr: float | None = None
    reply: float | None = None
    cmgd: float | None = None


@dataclass
class _Entry:
    stat: int  # 0 received unread, 1 received read
    pdu_hex: str
    length: int  # TPDU octets (the +CMGR/+CMGL <length>)
    timeline: Timeline


@dataclass
class PtyModem:
    """The modem side of a pty pair; smsgw or python-gsmmodem open `port`."""

    timelines: list[Timeline] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    _stored: dict[int, _Entry] = field(default_factory=dict)
    _buffer: bytes = b""
    _echo: bool = True
    _sent: int = 0

    def __post_init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)

    async def __aenter__(self) -> PtyModem:
        asyncio.get_running_loop().add_reader(self._master, self._readable)
        return self

    async def __aexit__(self, *_: object) -> None:
        asyncio.get_running_loop().remove_reader(self._master)
        os.close(self._master)
        os.close(self._slave)

    # ------------------------------------------------------------------ network side
    def deliver(self, sender: str, text: str) -> int:
        """Store a DELIVER in the lowest free index and announce it with ``+CMTI``."""
        self._sent += 1
        scts = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            seconds=self._sent
        )
        [part] = pdu.encode_deliver(sender, text, scts)
        index = next(i for i in range(1, CAPACITY + 1) if i not in self._stored)
        timeline = Timeline(cmti=0.0)
        self._stored[index] = _Entry(0, part.hex, part.tpdu_length, timeline)
        self.timelines.append(timeline)
        timeline.cmti = self._write(f'\r\n+CMTI: "SM",{index}\r\n'.encode())
        return index

    # ------------------------------------------------------------------ the line
    def _write(self, data: bytes) -> float:
        """Write all of `data` (a pty takes a few KiB at once); the time it was written."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                time.sleep(0.0001)
        return time.monotonic()

    def _readable(self) -> None:
        try:
            chunk = os.read(self._master, 4096)
        except (BlockingIOError, OSError):
            return  # OSError: EIO while no one has the port open
        arrived = time.monotonic()
        self._buffer += chunk
        while b"\r" in self._buffer:
            raw, _, self._buffer = self._buffer.partition(b"\r")
            line = raw.strip(b"\n \x1a\x1b").decode("ascii", "replace")
            start = line.upper().find("AT")
            if start >= 0:
                self._command(line[start:], arrived)

    def _command(self, line: str, arrived: float) -> None:
        self.commands.append(line)
        echo = (line + "\r").encode() if self._echo else b""
        upper = line.upper()
        if upper.startswith("ATE"):
            self._echo = upper[3:4] == "1"
        if upper.startswith("AT+CMGR="):
            self._read(upper[8:], arrived, echo)
            return
        if upper.startswith("AT+CMGD="):
            self._delete(upper[8:], arrived, echo)
            return
        self._write(echo + self._answer(upper))

    def _answer(self, upper: str) -> bytes:
        used = len(self._stored)
        lines = {
            "AT+CGMI": ["BenchWorks"],
            "AT+CGMM": ["PTY-1"],
            "AT+CGMR": ["Revision: 1.0"],
            "AT+CGSN": ["356938035643809"],
            "AT+CPIN?": ["+CPIN: READY"],
            "AT+CFUN?": ["+CFUN: 1"],
            "AT+CPMS=?": ['+CPMS: ("SM"),("SM"),("SM")'],
            "AT+CPMS?": [f'+CPMS: "SM",{used},{CAPACITY},"SM",{used},{CAPACITY},"SM",0,0'],
            "AT+CNMI=?": ["+CNMI: (0-2),(0-1),(0),(0),(0,1)"],
            "AT+CNMI?": ["+CNMI: 2,1,0,0,0"],
            "AT+CREG?": ["+CREG: 1,1"],
            "AT+CSQ": ["+CSQ: 20,0"],
            "AT+COPS?": ['+COPS: 0,0,"Bench Net"'],
            "AT+CSCA?": ['+CSCA: "+40722270333",145'],
        }.get(upper)
        if lines is None and upper.startswith("AT+CPMS="):
            lines = [f"+CPMS: {used},{CAPACITY},{used},{CAPACITY},{used},{CAPACITY}"]
        if lines is None and upper == "AT+CMGL=4":
            lines = []
            for index, entry in sorted(self._stored.items()):
                lines += [f"+CMGL: {index},{entry.stat},,{entry.length}", entry.pdu_hex]
        if lines is None and (upper in ("AT", "AT+CNUM") or upper.startswith(_ACCEPTED)):
            lines = []
        if lines is None:
            return _ERROR
        return b"".join(f"\r\n{line}\r\n".encode() for line in lines) + _OK

    def _read(self, argument: str, arrived: float, echo: bytes) -> None:
        entry = self._stored.get(int(argument)) if argument.isdigit() else None
        if entry is None:
            self._write(echo + _INVALID_INDEX)
            return
        timeline = entry.timeline
        timeline.cmgr = timeline.cmgr or arrived
        reply = f"\r\n+CMGR: {entry.stat},,{entry.length}\r\n{entry.pdu_hex}\r\n".encode()
        entry.stat = 1  # read now
        written = self._write(echo + reply + _OK)
        timeline.reply = timeline.reply or written

    def _delete(self, argument: str, arrived: float, echo: bytes) -> None:
        index = int(argument.split(",")[0]) if argument.split(",")[0].isdigit() else -1
        entry = self._stored.pop(index, None)
        if entry is not None:
            entry.timeline.cmgd = arrived
        self._write(echo + _OK)
