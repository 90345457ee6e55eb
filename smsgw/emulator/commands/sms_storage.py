"""Reading, listing and deleting stored messages (`+CMGR`, `+CMGL`, `+CMGD`, `+CMGDA`).

A listing is one response block: each `+CMGL:` header is directly followed by its PDU or
text (`+CMGL: 1,0,,24\\r\\n<pdu>\\r\\n+CMGL: 2,...`), as real firmwares send it.
"""

from __future__ import annotations

from smsgw.emulator import inbound, views
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import first_arg, handles
from smsgw.emulator.state import CommandFailed, DeviceState, int_arg
from smsgw.emulator.storage import STAT_ALL, TEXT_STATS, InvalidIndex, Stat


def index_arg(value: str | None) -> int:
    if value is None:
        raise CommandFailed("cms", 321)
    try:
        return int(value)
    except ValueError:
        raise CommandFailed("cms", 321) from None


@handles("+CMGR")
def _cmgr(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    index = index_arg(first_arg(command))
    _, storage = state.storage_for_read()
    try:
        message = storage.read(index)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    if state.settings.cmgf == 0:
        header = views.pdu_header(state, "+CMGR", message.stat, message.tpdu_length, None)
        return [header, message.pdu_hex]
    payload, body = views.text_view(state, message.pdu_hex, message.stat)
    return [f"+CMGR: {payload}"] + ([body] if body is not None else [])


def _wanted_stat(state: DeviceState, args: list[str | None]) -> int:
    pdu_mode = state.settings.cmgf == 0
    if not args or args[0] is None:
        return 0 if pdu_mode else TEXT_STATS["REC UNREAD"]
    if pdu_mode:
        return int_arg(args[0], 0, 4)
    if args[0] not in TEXT_STATS:
        raise CommandFailed("cms", 305)
    return TEXT_STATS[args[0]]


@handles("+CMGL")
def _cmgl(state: DeviceState, command: Command) -> list[str]:
    pdu_mode = state.settings.cmgf == 0
    if command.form is Form.TEST:
        if pdu_mode:
            return ["+CMGL: (0-4)"]
        return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")']
    args = command.args()
    wanted = _wanted_stat(state, args)
    keep_unread = len(args) > 1 and args[1] == "1"
    _, storage = state.storage_for_read()
    lines: list[str] = []
    for index, message in list(storage.items()):
        if wanted != STAT_ALL and int(message.stat) != wanted:
            continue
        stat = message.stat
        if pdu_mode:
            lines.append(views.pdu_header(state, "+CMGL", stat, message.tpdu_length, index))
            lines.append(message.pdu_hex)
        else:
            payload, body = views.text_view(state, message.pdu_hex, stat, listing=True)
            lines.append(f"+CMGL: {index},{payload}")
            if body is not None:
                lines.append(body)
        if not keep_unread and stat is Stat.REC_UNREAD:
            storage.read(index)
    return lines


@handles("+CMGD")
def _cmgd(state: DeviceState, command: Command) -> list[str]:
    _, storage = state.storage_for_read()
    if command.form is Form.TEST:
        low, high = storage.index_range()
        return [f"+CMGD: ({low}-{high}),(0-4)"]
    args = command.args()
    index = index_arg(args[0] if args else None)
    delflag = int_arg(args[1], 0, 4) if len(args) > 1 and args[1] is not None else 0
    try:
        if delflag == 0:
            storage.delete(index)
        else:
            storage.delete_by_flag(delflag)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    inbound.retry_waiting_messages(state)
    return []


CMGDA_FLAGS = {
    "1": 1, "2": 1, "3": 2, "4": 3, "5": 3, "6": 4,
    "DEL READ": 1, "DEL ALL": 4, "DEL SENT": 2, "DEL UNSENT": 3, "DEL INBOX": 1,
}  # fmt: skip


@handles("+CMGDA")
def _cmgda(state: DeviceState, command: Command) -> list[str]:
    if not state.profile.has_cmgda:
        raise CommandFailed("unknown")
    if command.form is not Form.SET:
        return []
    value = (first_arg(command) or "").upper()
    if value not in CMGDA_FLAGS:
        raise CommandFailed("cms", 302)
    _, storage = state.storage_for_read()
    storage.delete_by_flag(CMGDA_FLAGS[value])
    inbound.retry_waiting_messages(state)
    return []
