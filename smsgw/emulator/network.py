"""The network side of the emulator: what the SMSC delivers and what it records as sent.

Pure functions and small records, no timers: the device decides *when* (CMGS delay,
status-report delay) and calls these to decide *what*.

- Incoming texts become the DELIVER PDUs a real SMSC produces (multipart with a
  concatenation UDH, UCS-2 when the text needs it) via `smsgw.pdu.encode_deliver`.
- Each SUBMIT the host sends is decoded; parts of one concatenated message are gathered
  into one `SentMessage` (recipient, text, parts, TP-MRs) once the last part arrives.
- Status reports use `smsgw.pdu.encode_status_report` with the chosen outcome.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from typing import Literal

from smsgw import pdu
from smsgw.exceptions import PduError

ReportOutcome = Literal["delivered", "failed", "none"]

#: TP-ST values used for the chosen outcome (TS 23.040 §9.2.3.15): 0x00 received by the
#: SME; 0x41 "incompatible destination", a permanent error.
REPORT_STATUS: dict[str, int] = {"delivered": 0x00, "failed": 0x41}


@dataclasses.dataclass(frozen=True, slots=True)
class SentMessage:
    """One logical message the host sent through the emulated modem (all parts seen)."""

    recipient: str
    text: str
    parts: int
    mr: int
    mrs: tuple[int, ...]
    time: datetime.datetime
    srr: bool
    #: The SUBMIT PDUs as the host wrote them (hex with SMSC octet), in part order, so a test
    #: can decode what really went to the network (message class, validity, alphabet).
    pdus: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The `smsgw emulator sent` JSON-line fields (CONTRACT.md §4) plus `mrs`, `srr`."""
        return {
            "recipient": self.recipient,
            "text": self.text,
            "parts": self.parts,
            "mr": self.mr,
            "mrs": list(self.mrs),
            "srr": self.srr,
            "time": self.time.isoformat(),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class AcceptedSubmit:
    """One SUBMIT part accepted by the SMSC, with the TP-MR the modem assigned."""

    recipient: str
    text: str
    mr: int
    srr: bool
    concat: pdu.Concat | None
    time: datetime.datetime
    pdu_hex: str = ""


def deliver_pdus(
    sender: str,
    text: str,
    scts: datetime.datetime,
    *,
    smsc: str | None,
    encoding: pdu.Encoding | None = None,
    message_class: int | None = None,
    concat_ref: int | None = None,
) -> list[str]:
    """The DELIVER PDUs (hex, with SMSC octet) an SMSC would send for this text."""
    ref = concat_ref if concat_ref is not None else random.randrange(256)
    encoded = pdu.encode_deliver(
        sender,
        text,
        scts,
        smsc=smsc,
        concat_ref=ref,
        encoding=encoding,
        message_class=message_class,
    )
    return [part.hex for part in encoded]


def parse_submit(pdu_hex: str, given_length: int | None) -> pdu.Submit:
    """Decode a host's SUBMIT and check `AT+CMGS=<length>` against it.

    Raises PduError when the hex is not a SUBMIT or the length does not match: the
    device answers `+CMS ERROR: 304` like a real firmware.
    """
    decoded = pdu.decode(pdu_hex)
    if not isinstance(decoded, pdu.Submit):
        raise PduError(f"expected an SMS-SUBMIT, got {type(decoded).__name__}")
    if given_length is not None and decoded.tpdu_length != given_length:
        raise PduError(f"AT+CMGS length {given_length} but the TPDU has {decoded.tpdu_length}")
    return decoded


class SentLog:
    """Gathers accepted parts into logical messages, keyed by recipient and concat ref."""

    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self._partial: dict[tuple[str, int], dict[int, AcceptedSubmit]] = {}

    def add(self, part: AcceptedSubmit) -> SentMessage | None:
        """Record one part; returns the logical message when it is complete."""
        if part.concat is None or part.concat.total <= 1:
            return self._finish([part])
        key = (part.recipient, part.concat.ref)
        pieces = self._partial.setdefault(key, {})
        pieces[part.concat.seq] = part
        if len(pieces) < part.concat.total:
            return None
        del self._partial[key]
        return self._finish([pieces[seq] for seq in sorted(pieces)])

    def _finish(self, parts: list[AcceptedSubmit]) -> SentMessage:
        message = SentMessage(
            recipient=parts[0].recipient,
            text="".join(p.text for p in parts),
            parts=len(parts),
            mr=parts[0].mr,
            mrs=tuple(p.mr for p in parts),
            time=parts[-1].time,
            srr=any(p.srr for p in parts),
            pdus=tuple(p.pdu_hex for p in parts),
        )
        self.messages.append(message)
        return message


def status_report_pdu(
    part: AcceptedSubmit,
    outcome: ReportOutcome,
    discharge: datetime.datetime,
    *,
    smsc: str | None,
) -> pdu.EncodedPdu | None:
    """The STATUS-REPORT for one part, or None when the outcome is "none"."""
    if outcome == "none":
        return None
    return pdu.encode_status_report(
        part.mr, part.recipient, part.time, discharge, REPORT_STATUS[outcome], smsc=smsc
    )
