"""Text mode (`AT+CMGF=1`) presentation: TE character sets and 27.005 text headers.

In text mode the modem turns stored PDUs into header lines plus text, encoded in the
character set chosen with `AT+CSCS`. Only the sets clients actually use are modelled:
"GSM"/"IRA"/"8859-1" pass text through (non-representable characters become "?"), "UCS2"
is hex of UTF-16BE, "HEX" is hex of the raw bytes.

`AT+CSDH=1` ("show text mode parameters") adds the long header fields of 27.005 §3.4.3:
`+CMGR: <stat>,<oa>,[<alpha>],<scts>,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>` for a
DELIVER and `+CMGR: <stat>,<da>,[<alpha>],<toda>,<fo>,<pid>,<dcs>,[<vp>],<sca>,<tosca>,
<length>` for a SUBMIT (gammu's at-sms-txt-detail dumps), and `,<tooa>,<length>` in `+CMGL`.
"""

from __future__ import annotations

import dataclasses
import datetime

from smsgw import pdu

PASS_THROUGH = frozenset({"GSM", "IRA", "8859-1", "PCCP", "PCDN"})


def to_te(text: str, charset: str) -> str:
    """Text as the TE sees it in this character set."""
    if charset == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    if charset == "HEX":
        return text.encode("latin-1", errors="replace").hex().upper()
    return text.encode("latin-1", errors="replace").decode("latin-1")


def from_te(text: str, charset: str) -> str:
    """Text typed by the TE in this character set; ValueError when the hex is malformed."""
    if charset == "UCS2":
        return bytes.fromhex(text).decode("utf-16-be")
    if charset == "HEX":
        return bytes.fromhex(text).decode("latin-1")
    return text


def timestamp(value: datetime.datetime) -> str:
    """27.005 `"yy/MM/dd,hh:mm:ss±zz"` with the zone in quarter hours."""
    offset = value.utcoffset() or datetime.timedelta(0)
    quarters = int(offset.total_seconds() // 900)
    sign = "+" if quarters >= 0 else "-"
    return value.strftime("%y/%m/%d,%H:%M:%S") + f"{sign}{abs(quarters):02d}"


def type_of_address(number: str) -> int:
    """145 international, 208 alphanumeric, 129 national/unknown."""
    if number.startswith("+"):
        return 145
    return 129 if number.isdigit() or number == "" else 208


@dataclasses.dataclass(frozen=True, slots=True)
class TpduFields:
    """The header octets 27.005's long text header shows, read from the raw TPDU."""

    first_octet: int
    pid: int
    dcs: int
    validity: int | None
    #: TP-UD as sent, UDH included (shown as hex for UCS-2, 8-bit and UDHI messages).
    user_data: bytes

    @property
    def shown_as_hex(self) -> bool:
        """27.005 <data>: 8-bit or UCS2 coding, or a user data header, is shown as hex of the
        TP-UD octets whatever `AT+CSCS` says (the long header's <dcs> tells how to read it)."""
        udhi = bool(self.first_octet & 0x40)
        coding = self.dcs & 0x0C if self.dcs & 0xC0 in (0x00, 0x40) else None
        if self.dcs & 0xF0 == 0xF0:
            coding = 0x04 if self.dcs & 0x04 else 0x00
        return udhi or coding in (0x04, 0x08)


def tpdu_fields(pdu_hex: str) -> TpduFields:
    """First octet, TP-PID, TP-DCS (and a relative TP-VP) of a DELIVER or SUBMIT."""
    octets = bytes.fromhex(pdu_hex)
    at = 1 + octets[0]
    first = octets[at]
    submit = first & 0x03 == 0x01
    at += 2 if submit else 1  # SUBMIT carries TP-MR before the address
    address_digits = octets[at]
    at += 2 + (address_digits + 1) // 2
    pid, dcs = octets[at], octets[at + 1]
    at += 2
    vpf = (first >> 3) & 0x03
    validity = octets[at] if submit and vpf == 0x02 else None
    at += (0, 7, 1, 7)[vpf] if submit else 7  # TP-VP on a SUBMIT, TP-SCTS on a DELIVER
    return TpduFields(first, pid, dcs, validity, octets[at + 1 :])


def header_and_body(
    decoded: pdu.Pdu,
    stat_text: str,
    charset: str,
    alpha: str = '""',
    *,
    pdu_hex: str | None = None,
    detail: str = "none",
) -> tuple[str, str | None]:
    """The `+CMGR:`/`+CMGL:` payload after the prefix (and index), and the text line.

    `alpha` is the profile's empty <alpha> field: `""` on SIMCom, nothing on Huawei (the
    captured text-mode headers read `"REC READ","+31625044454",,"07/07/05,..."`).
    `detail` is "none", "read" (CMGR/CMT long header) or "list" (CMGL long header); both
    need `pdu_hex`. Status reports have no text line and no long form (27.005 §3.4.3).
    """
    if isinstance(decoded, pdu.StatusReport):
        header = (
            f'"{stat_text}",6,{decoded.reference},"{decoded.number}",'
            f"{type_of_address(decoded.number)},"
            f'"{timestamp(decoded.scts)}","{timestamp(decoded.discharge_time)}",{decoded.status}'
        )
        return header, None
    raw_body = decoded.text if decoded.text is not None else (decoded.data or b"").hex().upper()
    body = to_te(raw_body, charset)
    fields = tpdu_fields(pdu_hex) if pdu_hex is not None else None
    if fields is not None and fields.shown_as_hex:
        body = fields.user_data.hex().upper()
    # Addresses follow AT+CSCS in UCS2 (the well-known "002B0034..." numbers) but stay
    # digits in HEX, which is how gammu (which picks HEX when offered) reads them.
    number = decoded.number if charset == "HEX" else to_te(decoded.number, charset)
    head = f'"{stat_text}","{number}",{alpha}'
    scts = f'"{timestamp(decoded.scts)}"' if isinstance(decoded, pdu.Deliver) else ""
    if detail == "none" or pdu_hex is None:
        return (f"{head},{scts}" if scts else head), body
    toa = type_of_address(decoded.number)
    assert fields is not None
    length = len(fields.user_data) if fields.shown_as_hex else len(raw_body)
    if detail == "list":
        return f"{head},{scts},{toa},{length}", body
    sca = decoded.smsc or ""
    service_centre = f'"{sca}",{type_of_address(sca) if sca else 129}'
    if isinstance(decoded, pdu.Deliver):
        middle = f"{scts},{toa},{fields.first_octet},{fields.pid},{fields.dcs}"
    else:
        vp = "" if fields.validity is None else str(fields.validity)
        middle = f"{toa},{fields.first_octet},{fields.pid},{fields.dcs},{vp}"
    return f"{head},{middle},{service_centre},{length}", body
