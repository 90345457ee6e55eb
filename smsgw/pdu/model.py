"""The values the codec hands out: decoded TPDUs, encoded parts and part counts.

Kept apart from the codec so that callers (driver, emulator, API) can type against them
without pulling in any encoding logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Encoding = Literal["gsm7", "ucs2", "8bit"]
"""The three user-data alphabets of TS 23.038 that smsgw handles."""

Outcome = Literal["delivered", "pending", "failed", "expired"]

TP_ST_VALIDITY_EXPIRED = 0x46


@dataclass(frozen=True)
class Concat:
    """Concatenation header: part `seq` of `total`, keyed by `ref` (8- or 16-bit)."""

    ref: int
    total: int
    seq: int
    ref_bits: int


@dataclass(frozen=True)
class Deliver:
    """SMS-DELIVER: a message the network delivered to us.

    `text` is None for 8-bit data (then `data` holds the bytes). A UCS-2 part may end in
    a lone surrogate when the sender split a pair across parts; `join_texts` repairs that.
    `truncated`: TP-UDL promised more user data than the PDU holds (a damage seen in real
    captures); the text is what was there, and callers may want to log it.
    """

    smsc: str | None
    number: str
    text: str | None
    data: bytes | None
    encoding: Encoding
    scts: datetime
    concat: Concat | None
    message_class: int | None
    pid: int
    dcs: int
    tpdu_length: int
    truncated: bool = False


@dataclass(frozen=True)
class Submit:
    """SMS-SUBMIT: what we send, or a sent/unsent message read back from modem storage.

    Fields as in `Deliver`; `reference` is TP-MR, `validity` a relative period, an
    absolute time, or None.
    """

    smsc: str | None
    number: str
    text: str | None
    data: bytes | None
    encoding: Encoding
    reference: int
    concat: Concat | None
    message_class: int | None
    validity: timedelta | datetime | None
    srr: bool
    tpdu_length: int
    truncated: bool = False


@dataclass(frozen=True)
class StatusReport:
    """SMS-STATUS-REPORT: the fate of the SUBMIT whose TP-MR was `reference`."""

    smsc: str | None
    number: str
    reference: int
    scts: datetime
    discharge_time: datetime
    status: int
    tpdu_length: int

    @property
    def outcome(self) -> Outcome:
        """TP-ST folded into what a user cares about (TS 23.040 §9.2.3.15)."""
        return status_outcome(self.status)


def status_outcome(status: int) -> Outcome:
    """Map a TP-ST value: 0x00-0x1F done, 0x20-0x3F still trying, 0x46 expired, rest failed."""
    if status < 0x20:
        return "delivered"
    if status < 0x40:
        return "pending"
    if status == TP_ST_VALIDITY_EXPIRED:
        return "expired"
    return "failed"


Pdu = Deliver | Submit | StatusReport


@dataclass(frozen=True)
class EncodedPdu:
    """One part ready for `AT+CMGS=<tpdu_length>`: hex (uppercase) starting with the SMSC field."""

    hex: str
    tpdu_length: int


@dataclass(frozen=True)
class PartCount:
    """How a text would be sent: alphabet, number of parts and the units they use.

    Units are septets for GSM-7 (extension characters count two), UTF-16 code units for
    UCS-2 (astral characters count two) and octets for 8-bit data.
    """

    encoding: Encoding
    parts: int
    units_used: int
    units_per_part: int
