"""Building PDUs: SMS-SUBMIT (what we send), SMS-DELIVER and SMS-STATUS-REPORT (what a
network would hand a modem; used by the emulator and by tests).

Each part comes back as hex with the SMSC field in front plus the TPDU length that
`AT+CMGS=<n>` needs, so no caller has to count octets itself.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7, ucs2
from smsgw.pdu.address import encode_address, encode_alphanumeric, encode_smsc, is_alphanumeric
from smsgw.pdu.dcs import build_dcs
from smsgw.pdu.model import EncodedPdu, Encoding
from smsgw.pdu.segment import split_text
from smsgw.pdu.timestamp import encode_timestamp
from smsgw.pdu.udh import build_concat_udh
from smsgw.pdu.userdata import gsm7_user_data, octet_user_data
from smsgw.pdu.validity import encode_validity

MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02
TP_MMS = 0x04  # set = no more messages waiting at the SC
TP_SRR = 0x20
TP_UDHI = 0x40
PID_DEFAULT = 0x00


def _octet(value: int, what: str) -> int:
    if not 0 <= value <= 255:
        raise PduError(f"{what} must be 0-255, not {value}")
    return value


def _user_data(part: str, encoding: Encoding, udh: bytes) -> bytes:
    """TP-UDL followed by TP-UD."""
    if encoding == "gsm7":
        udl, ud = gsm7_user_data(gsm7.text_to_septets(part), udh)
    elif encoding == "ucs2":
        udl, ud = octet_user_data(ucs2.encode(part), udh)
    else:
        udl, ud = octet_user_data(part.encode("utf-8", "surrogatepass"), udh)
    return bytes((udl,)) + ud


def _parts_with_headers(
    text: str, encoding: Encoding | None, concat_ref: int | None
) -> tuple[Encoding, list[tuple[str, bytes]]]:
    chosen, parts = split_text(text, encoding)
    if len(parts) == 1:
        return chosen, [(parts[0], b"")]
    ref = random.randrange(256) if concat_ref is None else _octet(concat_ref, "concat_ref")
    total = len(parts)
    return chosen, [(part, build_concat_udh(ref, total, seq)) for seq, part in enumerate(parts, 1)]


def _finish(smsc: str | None, tpdu: bytes) -> EncodedPdu:
    return EncodedPdu(hex=(encode_smsc(smsc) + tpdu).hex().upper(), tpdu_length=len(tpdu))


def encode_submit(
    number: str,
    text: str,
    *,
    srr: bool = False,
    reference: int = 0,
    validity: timedelta | datetime | None = None,
    smsc: str | None = None,
    flash: bool = False,
    concat_ref: int | None = None,
    encoding: Encoding | None = None,
) -> list[EncodedPdu]:
    """One SMS-SUBMIT per part; part i carries TP-MR (reference + i) % 256.

    `encoding=None` picks GSM-7 when possible, else UCS-2; "8bit" sends the UTF-8 bytes.
    `flash` sets message class 0. `concat_ref=None` picks a random 8-bit reference.
    """
    _octet(reference, "reference (TP-MR)")
    destination = encode_address(number, "recipient")
    vpf, vp = encode_validity(validity)
    chosen, parts = _parts_with_headers(text, encoding, concat_ref)
    dcs = build_dcs(chosen, 0 if flash else None)
    out = []
    for index, (part, udh) in enumerate(parts):
        first = MTI_SUBMIT | vpf | (TP_SRR if srr else 0) | (TP_UDHI if udh else 0)
        mr = (reference + index) % 256
        tpdu = bytes((first, mr)) + destination + bytes((PID_DEFAULT, dcs)) + vp
        out.append(_finish(smsc, tpdu + _user_data(part, chosen, udh)))
    return out


def encode_deliver(
    sender: str,
    text: str,
    scts: datetime,
    *,
    smsc: str | None = None,
    concat_ref: int | None = None,
    encoding: Encoding | None = None,
    message_class: int | None = None,
    more_messages_waiting: bool = False,
) -> list[EncodedPdu]:
    """SMS-DELIVER parts as an SMSC would send them to a modem.

    `sender` is "+<digits>" (international), national digits, or a name such as
    "Vodafone" (alphanumeric TOA). TP-MMS is set ("no more messages") unless
    `more_messages_waiting`.
    """
    originator = (
        encode_alphanumeric(sender) if is_alphanumeric(sender) else encode_address(sender, "sender")
    )
    timestamp = encode_timestamp(scts)
    chosen, parts = _parts_with_headers(text, encoding, concat_ref)
    dcs = build_dcs(chosen, message_class)
    out = []
    for part, udh in parts:
        first = (0 if more_messages_waiting else TP_MMS) | (TP_UDHI if udh else 0)
        tpdu = bytes((first,)) + originator + bytes((PID_DEFAULT, dcs)) + timestamp
        out.append(_finish(smsc, tpdu + _user_data(part, chosen, udh)))
    return out


def encode_status_report(
    reference: int,
    recipient: str,
    scts: datetime,
    discharge_time: datetime,
    status: int,
    *,
    smsc: str | None = None,
) -> EncodedPdu:
    """SMS-STATUS-REPORT for the SUBMIT with TP-MR `reference` (no TP-PI, like most SMSCs)."""
    tpdu = (
        bytes((MTI_STATUS_REPORT | TP_MMS, _octet(reference, "reference (TP-MR)")))
        + encode_address(recipient, "recipient")
        + encode_timestamp(scts)
        + encode_timestamp(discharge_time)
        + bytes((_octet(status, "status (TP-ST)"),))
    )
    return _finish(smsc, tpdu)
