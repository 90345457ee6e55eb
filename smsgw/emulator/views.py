"""How a stored or arriving PDU is shown to the host: PDU-mode and text-mode headers."""

from __future__ import annotations

from smsgw import pdu
from smsgw.emulator import textmode
from smsgw.emulator.state import CommandFailed, DeviceState
from smsgw.emulator.storage import Stat
from smsgw.exceptions import PduError


def pdu_header(state: DeviceState, prefix: str, stat: Stat, length: int, index: int | None) -> str:
    """`+CMGR: <stat>,[<alpha>],<length>` / `+CMGL: <index>,<stat>,[<alpha>],<length>`."""
    head = f"{index}," if index is not None else ""
    return f"{prefix}: {head}{int(stat)},{state.profile.pdu_alpha},{length}"


def text_view(
    state: DeviceState, pdu_hex: str, stat: Stat, *, listing: bool = False
) -> tuple[str, str | None]:
    """Text-mode header payload and text line; the long form when `AT+CSDH=1`."""
    try:
        decoded = pdu.decode(pdu_hex)
    except PduError:
        raise CommandFailed("cms", 500) from None
    detail = "none" if state.settings.csdh == 0 else ("list" if listing else "read")
    return textmode.header_and_body(
        decoded,
        stat.text,
        state.settings.cscs,
        state.profile.pdu_alpha,
        pdu_hex=pdu_hex,
        detail=detail,
    )
