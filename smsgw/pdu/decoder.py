"""`decode`: one PDU (hex or bytes) to a Deliver, Submit or StatusReport.

Dispatches on TP-MTI of the first TPDU octet. Messages read from modem storage can be any
of the three (AT+CMGL=4 lists sent SUBMITs and status reports too), so the type comes from
the PDU, never from how it arrived. Every failure is a `PduError` naming field and offset.
"""

from __future__ import annotations

import binascii

from smsgw.exceptions import PduError
from smsgw.pdu.address import read_address, read_smsc
from smsgw.pdu.dcs import parse_dcs
from smsgw.pdu.model import Deliver, Pdu, StatusReport, Submit
from smsgw.pdu.reader import OctetReader
from smsgw.pdu.timestamp import read_timestamp
from smsgw.pdu.userdata import read_user_data
from smsgw.pdu.validity import VPF_MASK, read_validity

MTI_DELIVER = 0x00
MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02
UDHI = 0x40
SRR = 0x20


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def to_bytes(pdu: str | bytes) -> bytes:
    """Hex text (any case, surrounding whitespace allowed) or raw bytes."""
    if isinstance(pdu, bytes | bytearray | memoryview):
        return bytes(pdu)
    text = pdu.strip().strip('"')  # a stray quote after the hex was captured from a modem
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):  # find out why, for the message
        pass
    bad = next((i for i, char in enumerate(text) if char not in _HEX_DIGITS), None)
    if bad is not None:
        raise PduError(f"PDU is not hex: {text[bad]!r} at character {bad}")
    raise PduError(f"PDU hex has an odd number of digits ({len(text)})")


def decode(pdu: str | bytes, *, smsc_included: bool = True) -> Pdu:
    """Decode one PDU; `smsc_included=False` for a bare TPDU (no SMSC length octet).

    `tpdu_length` of the result is every octet after the SMSC field (what `+CMGR` should
    have said), trailing garbage included; the `<length>` a modem reports is never needed.
    """
    data = to_bytes(pdu)
    if not data:
        raise PduError("PDU is empty")
    reader = OctetReader(data)
    smsc = read_smsc(reader) if smsc_included else None
    tpdu_start = reader.offset
    first = reader.octet("TPDU first octet")
    mti = first & 0x03
    if mti == MTI_DELIVER:
        return _deliver(reader, smsc, first, tpdu_start)
    if mti == MTI_SUBMIT:
        return _submit(reader, smsc, first, tpdu_start)
    if mti == MTI_STATUS_REPORT:
        return _status_report(reader, smsc, tpdu_start)
    raise PduError(f"first octet 0x{first:02X} at offset {tpdu_start}: TP-MTI 3 is reserved")


def _deliver(reader: OctetReader, smsc: str | None, first: int, tpdu_start: int) -> Deliver:
    number = read_address(reader, "TP-OA")
    pid = reader.octet("TP-PID")
    dcs_offset = reader.offset
    dcs = reader.octet("TP-DCS")
    coding = parse_dcs(dcs, dcs_offset)
    scts = read_timestamp(reader, "TP-SCTS")
    ud = read_user_data(reader, coding.encoding, bool(first & UDHI))
    return Deliver(
        smsc=smsc,
        number=number,
        text=ud.text,
        data=ud.data,
        encoding=coding.encoding,
        scts=scts,
        concat=ud.concat,
        message_class=coding.message_class,
        pid=pid,
        dcs=dcs,
        tpdu_length=reader.size - tpdu_start,
        truncated=ud.truncated,
    )


def _submit(reader: OctetReader, smsc: str | None, first: int, tpdu_start: int) -> Submit:
    reference = reader.octet("TP-MR")
    number = read_address(reader, "TP-DA")
    reader.octet("TP-PID")
    dcs_offset = reader.offset
    coding = parse_dcs(reader.octet("TP-DCS"), dcs_offset)
    validity = read_validity(reader, first & VPF_MASK)
    ud = read_user_data(reader, coding.encoding, bool(first & UDHI))
    return Submit(
        smsc=smsc,
        number=number,
        text=ud.text,
        data=ud.data,
        encoding=coding.encoding,
        reference=reference,
        concat=ud.concat,
        message_class=coding.message_class,
        validity=validity,
        srr=bool(first & SRR),
        tpdu_length=reader.size - tpdu_start,
        truncated=ud.truncated,
    )


def _status_report(reader: OctetReader, smsc: str | None, tpdu_start: int) -> StatusReport:
    reference = reader.octet("TP-MR")
    number = read_address(reader, "TP-RA")
    scts = read_timestamp(reader, "TP-SCTS")
    discharge = read_timestamp(reader, "TP-DT")
    status = reader.octet("TP-ST")
    # The optional tail (TP-PI, PID, DCS, UD) carries nothing smsgw uses; real reports stop
    # anywhere in it, so it is neither parsed nor allowed to cost us the status we have.
    return StatusReport(
        smsc=smsc,
        number=number,
        reference=reference,
        scts=scts,
        discharge_time=discharge,
        status=status,
        tpdu_length=reader.size - tpdu_start,
    )
