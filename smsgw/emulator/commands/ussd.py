"""USSD: `AT+CUSD=1,"*100#",15` -> OK, then the network's answer as a `+CUSD:` URC.

The answer comes from `DeviceOptions.ussd` (a `UssdService`) after `ussd_delay` seconds
and is spelled per profile: text in the `AT+CSCS` set on SIMCom, packed GSM-7 hex on
Huawei while `AT^USSDMODE=1` (its default; `^USSDMODE=0` switches to text). A request in
the wrong spelling is an ERROR, as on the E1752 (PROTOCOL.md §3.3.8). With `AT+CUSD=0`
the request still goes out but no `+CUSD:` is shown; `AT+CUSD=2` ends the session.
"""

from __future__ import annotations

import functools

from smsgw.emulator import textmode, ussd
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import first_arg, handles
from smsgw.emulator.state import CommandFailed, DeviceState, int_arg

#: DCS 72 (UCS2): what the network uses when the answer is not GSM-7 (E3276 capture).
UCS2_DCS = 72


def _packed(state: DeviceState) -> bool:
    return state.profile.ussd_packed and state.settings.ussdmode == 1


def _decode_request(state: DeviceState, raw: str) -> str:
    try:
        if _packed(state):
            return ussd.unpack_hex(raw)
        return textmode.from_te(raw, state.settings.cscs)
    except ValueError:
        raise CommandFailed("error") from None


def answer_line(state: DeviceState, answer: ussd.UssdAnswer) -> str:
    """`+CUSD: <m>,"<str>",<dcs>` in this profile's spelling."""
    text = answer.text
    if not ussd.encodable(text):
        spelled, dcs = text.encode("utf-16-be").hex().upper(), UCS2_DCS
    elif _packed(state):
        spelled, dcs = ussd.pack_hex(text), ussd.USSD_DCS
    else:
        spelled, dcs = textmode.to_te(text, state.settings.cscs), ussd.USSD_DCS
    return f'+CUSD: {answer.status},"{spelled}",{dcs}'


def _present(state: DeviceState, answer: ussd.UssdAnswer) -> None:
    if state.settings.cusd == 1:
        state.line_urc(answer_line(state, answer))


@handles("+CUSD")
def _cusd(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CUSD: {state.settings.cusd}"]
    if command.form is Form.TEST:
        return ["+CUSD: (0-2)"]
    args = command.args()
    n = int_arg(args[0] if args and args[0] is not None else "0", 0, 2)
    if n == 2:
        state.ussd_session = None
        return []
    state.settings.cusd = n
    if len(args) < 2 or args[1] is None:
        return []
    if len(args) > 2 and args[2] is not None:
        int_arg(args[2], 0, 255)
    if not state.registered:
        raise CommandFailed("cme", 30)
    request = _decode_request(state, args[1])
    session = state.ussd_session or []
    answer = state.options.ussd.answer(tuple(session), request)
    state.ussd_session = [*session, request] if answer.status == 1 else None
    state.schedule(state.options.ussd_delay, functools.partial(_present, state, answer))
    return []


@handles("^USSDMODE")
def _ussdmode(state: DeviceState, command: Command) -> list[str]:
    if not state.profile.has_ussdmode:
        raise CommandFailed("unknown")
    if command.form is Form.READ:
        return [f"^USSDMODE: {state.settings.ussdmode}"]
    if command.form is Form.TEST:
        return ["^USSDMODE: (0-1)"]
    state.settings.ussdmode = int_arg(first_arg(command), 0, 1)
    return []
