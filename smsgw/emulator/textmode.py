"""Text mode (`AT+CMGF=1`) presentation: TE character sets and 27.005 text headers.

In text mode the modem turns stored PDUs into header lines plus text, encoded in the
character set chosen with `AT+CSCS`. Only the sets clients actually use are modelled:
"GSM"/"IRA"/"8859-1" pass text through (non-representable characters become "?"), "UCS2"
is hex of UTF-16BE, "HEX" is hex of the raw bytes.
"""

from __future__ import annotations

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


def header_and_body(
    decoded: pdu.Pdu, stat_text: str, charset: str, alpha: str = '""'
) -> tuple[str, str | None]:
    """The `+CMGR:`/`+CMGL:` payload after the prefix (and index), and the text line.

    `alpha` is the profile's empty <alpha> field: `""` on SIMCom, nothing on Huawei (the
    captured text-mode headers read `"REC READ","+31625044454",,"07/07/05,..."`).
    Status reports have no text line (27.005 §3.4.3 text-mode CMGR form for SMS-STATUS-REPORT).
    """
    if isinstance(decoded, pdu.StatusReport):
        header = (
            f'"{stat_text}",6,{decoded.reference},"{decoded.number}",'
            f"{145 if decoded.number.startswith('+') else 129},"
            f'"{timestamp(decoded.scts)}","{timestamp(decoded.discharge_time)}",{decoded.status}'
        )
        return header, None
    body = decoded.text if decoded.text is not None else (decoded.data or b"").hex().upper()
    number = to_te(decoded.number, charset)
    if isinstance(decoded, pdu.Deliver):
        return f'"{stat_text}","{number}",{alpha},"{timestamp(decoded.scts)}"', to_te(body, charset)
    return f'"{stat_text}","{number}",{alpha}', to_te(body, charset)
