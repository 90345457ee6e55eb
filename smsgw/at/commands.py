"""Explicit builders for every AT command smsgw sends.

A :class:`Command` is the text to write (without the ``\\r``), how long its reply may take
and, for the ``AT+CMGS``/``AT+CMGW`` prompt flow, the PDU to write after ``> ``. Builders
validate their arguments, so a bad index or PIN becomes a ``ValueError`` here instead of a
confusing modem ``ERROR`` (or an injected second command) later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 5.0
"""Most commands answer within a second; SIM800 documents 5 s for CMGR/CMGW (§1.6)."""
SEND_TIMEOUT = 60.0
"""SIM800 documents up to 60 s for AT+CMGS (PROTOCOL.md §1.6)."""
LIST_TIMEOUT = 20.0
"""Listing a full ME storage (hundreds of PDUs) takes several seconds on slow sticks."""
PIN_TIMEOUT = 10.0
REDACTED = "<redacted>"
"""What a secret command argument looks like in errors and logs."""

_MEMORY = re.compile(r"^[A-Z_]{2,6}$")
_HEX = re.compile(r"^[0-9A-F]+$")


@dataclass(frozen=True)
class Command:
    """One AT command line; ``payload`` is written after the ``> `` prompt, then Ctrl-Z.

    ``secret`` marks a line whose arguments must never leave the wire (a SIM PIN): every
    error, log line and counter uses :attr:`shown` instead of ``text``, so the secret cannot
    travel from an exception into the log, the modems API, the web inbox or the database.
    """

    text: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    payload: str | None = None
    secret: bool = False

    def __post_init__(self) -> None:
        if not self.text.upper().startswith("AT") or any(c in self.text for c in "\r\n\x1a"):
            raise ValueError(f"not a single AT command line: {self.shown!r}")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @property
    def name(self) -> str:
        """The command without its arguments (``AT+CMGR=3`` -> ``AT+CMGR``), for metrics
        labels: bounded, and never a phone number or PDU. Queries and tests keep their
        suffix (``AT+CPMS?``, ``AT+CNMI=?``) since they are different operations."""
        text = self.text.upper()
        if text.endswith("=?"):
            return text
        return text.split("=", 1)[0]

    @property
    def shown(self) -> str:
        """The text to put in errors and logs: ``text``, or ``AT+CPIN=<redacted>`` when the
        arguments are secret."""
        return f"{self.name}={REDACTED}" if self.secret else self.text

    def __repr__(self) -> str:
        return f"Command({self.shown!r}, timeout={self.timeout:g})"

    @property
    def wire(self) -> bytes:
        """The bytes written for the command line itself."""
        return self.text.encode("ascii") + b"\r"

    @property
    def wire_payload(self) -> bytes:
        """The bytes written after the prompt (PDU + Ctrl-Z)."""
        if self.payload is None:
            raise ValueError(f"{self.shown!r} has no payload")
        return self.payload.encode("ascii") + b"\x1a"


def _index(index: int) -> int:
    if not 0 <= index <= 65535:
        raise ValueError(f"storage index out of range: {index}")
    return index


def _memory(name: str) -> str:
    if not _MEMORY.match(name):
        raise ValueError(f"not a storage name: {name!r}")
    return name


# --- basic and identity -------------------------------------------------------------------
def attention() -> Command:
    return Command("AT", timeout=2.0)


def echo(on: bool) -> Command:
    return Command("ATE1" if on else "ATE0")


def error_mode(mode: int) -> Command:
    """``AT+CMEE=<mode>``: 1 numeric codes (what the driver wants), 2 verbose text."""
    if mode not in (0, 1, 2):
        raise ValueError("CMEE mode must be 0, 1 or 2")
    return Command(f"AT+CMEE={mode}")


def manufacturer() -> Command:
    return Command("AT+CGMI")


def model() -> Command:
    return Command("AT+CGMM")


def revision() -> Command:
    return Command("AT+CGMR")


def imei() -> Command:
    return Command("AT+CGSN")


def imsi() -> Command:
    return Command("AT+CIMI")


# --- SIM ----------------------------------------------------------------------------------
def pin_query() -> Command:
    return Command("AT+CPIN?")


def pin_enter(pin: str) -> Command:
    if not re.fullmatch(r"[0-9]{4,8}", pin):
        raise ValueError("a SIM PIN is 4 to 8 digits")
    return Command(f'AT+CPIN="{pin}"', timeout=PIN_TIMEOUT, secret=True)


def subscriber_number() -> Command:
    """``AT+CNUM``: the SIM's own number(s), if the SIM stores them (27.007 §7.1)."""
    return Command("AT+CNUM")


# --- network ------------------------------------------------------------------------------
def signal_quality() -> Command:
    return Command("AT+CSQ")


def registration_query() -> Command:
    return Command("AT+CREG?")


def registration_reports(n: int) -> Command:
    """``AT+CREG=<n>``: 0 off, 1 ``+CREG: <stat>`` URCs, 2 with LAC/CI."""
    if n not in (0, 1, 2):
        raise ValueError("CREG n must be 0, 1 or 2")
    return Command(f"AT+CREG={n}")


def operator_query() -> Command:
    return Command("AT+COPS?", timeout=10.0)


def operator_format(fmt: int) -> Command:
    """``AT+COPS=3,<fmt>``: 0 long alphanumeric, 1 short, 2 numeric."""
    if fmt not in (0, 1, 2):
        raise ValueError("COPS format must be 0, 1 or 2")
    return Command(f"AT+COPS=3,{fmt}")


def functionality(fun: int) -> Command:
    if fun not in (0, 1, 4):
        raise ValueError("CFUN must be 0, 1 or 4")
    return Command(f"AT+CFUN={fun}", timeout=15.0)


# --- SMS configuration --------------------------------------------------------------------
def message_format(text_mode: bool) -> Command:
    return Command(f"AT+CMGF={1 if text_mode else 0}")


def storage_support() -> Command:
    return Command("AT+CPMS=?")


def storage_query() -> Command:
    return Command("AT+CPMS?")


def storage_select(mem1: str, mem2: str | None = None, mem3: str | None = None) -> Command:
    names = [_memory(m) for m in (mem1, mem2, mem3) if m is not None]
    return Command("AT+CPMS=" + ",".join(f'"{m}"' for m in names))


def indication_support() -> Command:
    return Command("AT+CNMI=?")


def indication_query() -> Command:
    return Command("AT+CNMI?")


def indications(mode: int, mt: int, bm: int, ds: int, bfr: int) -> Command:
    values = (mode, mt, bm, ds, bfr)
    if not all(0 <= v <= 3 for v in values):
        raise ValueError(f"CNMI values out of range: {values}")
    return Command("AT+CNMI=" + ",".join(str(v) for v in values))


def delete_support() -> Command:
    return Command("AT+CMGD=?")


def service_center_query() -> Command:
    return Command("AT+CSCA?")


def message_service(service: int) -> Command:
    if service not in (0, 1):
        raise ValueError("CSMS service must be 0 or 1")
    return Command(f"AT+CSMS={service}")


def acknowledge() -> Command:
    """``AT+CNMA``: acknowledge a ``+CMT``/``+CDS`` routed directly (phase 2+, §5.5)."""
    return Command("AT+CNMA")


def huawei_unsolicited(enabled: bool) -> Command:
    """``AT^CURC=0`` silences ^RSSI/^BOOT/^MODE noise on Huawei sticks (§3.2.2)."""
    return Command(f"AT^CURC={1 if enabled else 0}")


def sim800_call_ready_urc(enabled: bool) -> Command:
    return Command(f"AT+CIURC={1 if enabled else 0}")


# --- messages -----------------------------------------------------------------------------
def read_message(index: int) -> Command:
    return Command(f"AT+CMGR={_index(index)}")


def list_messages(stat: int = 4) -> Command:
    """``AT+CMGL=<stat>`` in PDU mode; 4 lists everything (DELIVER, SUBMIT, STATUS-REPORT)."""
    if stat not in (0, 1, 2, 3, 4):
        raise ValueError("CMGL stat must be 0..4")
    return Command(f"AT+CMGL={stat}", timeout=LIST_TIMEOUT)


def delete_message(index: int, flag: int = 0) -> Command:
    if flag not in (0, 1, 2, 3, 4):
        raise ValueError("CMGD delflag must be 0..4")
    suffix = f",{flag}" if flag else ""
    return Command(f"AT+CMGD={_index(index)}{suffix}")


def send_pdu(pdu_hex: str, tpdu_length: int) -> Command:
    """``AT+CMGS=<tpdu_length>`` then the PDU (with its SMSC octet) after the prompt."""
    pdu = pdu_hex.strip().upper()
    if not _HEX.match(pdu) or len(pdu) % 2:
        raise ValueError("PDU must be an even number of hex digits")
    if not 1 <= tpdu_length <= 255 or tpdu_length > len(pdu) // 2:
        raise ValueError(f"implausible TPDU length {tpdu_length}")
    return Command(f"AT+CMGS={tpdu_length}", timeout=SEND_TIMEOUT, payload=pdu)


# --- USSD and calls -----------------------------------------------------------------------
USSD_TIMEOUT = 10.0
"""``AT+CUSD=1,...`` answers OK at once on most firmwares, but some wait for the network."""
_USSD_STRING = re.compile(r'^[^"\x00-\x1f\x7f]{1,182}$')


def ussd_request(string: str, dcs: int = 15) -> Command:
    """``AT+CUSD=1,"<string>",<dcs>``: send a USSD string (already spelled for the dialect)
    and ask for the answer as a ``+CUSD:`` URC (27.007 §7.15)."""
    if not _USSD_STRING.match(string):
        raise ValueError("a USSD string is 1 to 182 printable characters without quotes")
    if not 0 <= dcs <= 255:
        raise ValueError("DCS must be 0..255")
    return Command(f'AT+CUSD=1,"{string}",{dcs}', timeout=USSD_TIMEOUT)


def ussd_cancel() -> Command:
    """``AT+CUSD=2``: end the USSD session (the network stops waiting for an answer)."""
    return Command("AT+CUSD=2")


def caller_id(enabled: bool) -> Command:
    """``AT+CLIP=<n>``: show the caller's number after each ``RING`` (27.007 §7.6)."""
    return Command(f"AT+CLIP={1 if enabled else 0}")


def hang_up(chup: bool) -> Command:
    """Reject a ringing call: ``AT+CHUP`` (27.007 §6.5) or the V.250 ``ATH``."""
    return Command("AT+CHUP" if chup else "ATH")
