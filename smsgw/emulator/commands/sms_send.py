"""Sending and writing: `+CMGS`/`+CMGW` open the `> ` prompt, `+CMSS` sends a stored one."""

from __future__ import annotations

import dataclasses
from typing import Literal

from smsgw.emulator import network, outbound, textmode
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import handles
from smsgw.emulator.commands.sms_storage import index_arg
from smsgw.emulator.state import CommandFailed, DeviceState, Prompt, int_arg
from smsgw.emulator.storage import STAT_ALL, TEXT_STATS, InvalidIndex, Stat
from smsgw.exceptions import PduError


def _open_prompt(state: DeviceState, command: Command, kind: Literal["cmgs", "cmgw"]) -> None:
    args = command.args()
    if state.settings.cmgf == 0:
        length = int_arg(args[0] if args else None, 1, 176) if args else None
        if length is None:
            raise CommandFailed("cms", 304)
        stat = Stat.STO_UNSENT
        if kind == "cmgw" and len(args) > 1 and args[1] is not None:
            stat = Stat(int_arg(args[1], 0, 3))
        state.prompt = Prompt(kind, length, None, stat)
        return
    if not args or not args[0]:
        raise CommandFailed("cms", 305)
    try:
        number = textmode.from_te(args[0], state.settings.cscs)
    except ValueError:
        raise CommandFailed("cms", 305) from None
    stat = Stat.STO_UNSENT
    if kind == "cmgw" and len(args) > 2 and args[2] is not None:
        text_stat = TEXT_STATS.get(args[2])
        if text_stat is None or text_stat == STAT_ALL:
            raise CommandFailed("cms", 305)
        stat = Stat(text_stat)
    state.prompt = Prompt(kind, None, number, stat)


@handles("+CMGS")
def _cmgs(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(state, command, "cmgs")
    return []


@handles("+CMGW")
def _cmgw(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(state, command, "cmgw")
    return []


@handles("+CMSS")
def _cmss(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    args = command.args()
    index = index_arg(args[0] if args else None)
    storage = state.storages.get(state.settings.cpms[1])
    try:
        message = storage.get(index)
        submit = network.parse_submit(message.pdu_hex, None)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    except PduError:
        raise CommandFailed("cms", 302) from None
    if len(args) > 1 and args[1]:
        submit = dataclasses.replace(submit, number=args[1])

    def mark_sent() -> None:
        message.stat = Stat.STO_SENT

    outbound.send_submit(state, submit, "+CMSS", mark_sent, pdu_hex=message.pdu_hex)
    return []
