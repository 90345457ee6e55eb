"""The AT commands the emulated modem understands, one small handler each.

A handler gets the device and the parsed command, returns the information lines of its
reply, and raises `CommandFailed` for an error result; the device frames the reply (echo,
`\\r\\n`, final result spelled per profile and `AT+CMEE`). Behaviour that differs between
firmwares is read from `device.profile`, never decided by the profile's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from smsgw.emulator import network, textmode
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.state import CommandFailed, Prompt, int_arg
from smsgw.emulator.storage import STAT_ALL, TEXT_STATS, InvalidIndex, Stat
from smsgw.exceptions import PduError

if TYPE_CHECKING:
    from smsgw.emulator.device import Device

#: Commands a SIM-PIN-locked modem still answers (everything else: +CME ERROR: 11).
NO_SIM_NEEDED = frozenset(
    {
        "E", "V", "Q", "Z", "&F", "&W", "&V", "I", "X", "H", "&C", "&D",
        "+CGMI", "+GMI", "+CGMM", "+GMM", "+CGMR", "+GMR", "+CGSN", "+GSN", "+GCAP",
        "+CMEE", "+CPIN", "+CFUN", "+CSQ", "+IPR", "+CLAC", "^CURC", "^PORTSEL", "+CIURC",
    }
)  # fmt: skip
#: Commands that fail until the SMS part of the firmware is up ("SMS Ready" on SIM800).
SMS_COMMANDS = frozenset(
    {
        "+CMGF", "+CPMS", "+CNMI", "+CMGR", "+CMGL", "+CMGS", "+CMGW", "+CMSS",
        "+CMGD", "+CMGDA", "+CSCA", "+CSMP", "+CSMS", "+CNMA",
    }
)  # fmt: skip


Handler = Callable[["Device", Command], list[str]]
#: Command name (`+CMGS`, `E`, `^CURC`) -> handler; the device looks commands up here.
HANDLERS: dict[str, Handler] = {}


def _handles(*names: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = function
        return function

    return register


def _numeric_setting(name: str, attribute: str, highest: int, test: str) -> None:
    """Register `AT<name>?`, `AT<name>=?` and `AT<name>=<n>` for a plain 0..highest setting
    kept in `device.settings.<attribute>` (a missing value means 0, as on real modems)."""

    def handler(device: Device, command: Command) -> list[str]:
        if command.form is Form.READ:
            return [f"{name}: {getattr(device.settings, attribute)}"]
        if command.form is Form.TEST:
            return [f"{name}: {test}"]
        value = int_arg((command.args() or ["0"])[0] or "0", 0, highest)
        setattr(device.settings, attribute, value)
        return []

    HANDLERS[name] = handler


_numeric_setting("+CMEE", "cmee", 2, "(0-2)")
_numeric_setting("+CMGF", "cmgf", 1, "(0,1)")
_numeric_setting("+CSDH", "csdh", 1, "(0,1)")


# ====================================================================== basic commands
@_handles("E")
def _echo(device: Device, command: Command) -> list[str]:
    device.settings.echo = int_arg(command.raw_args or "0", 0, 1) == 1
    return []


@_handles("V", "Q", "X", "&C", "&D", "&W", "H", "&V")
def _accepted_basic(device: Device, command: Command) -> list[str]:
    return []


def s_register(device: Device, command: Command) -> list[str]:
    """`ATS0=0`, `ATS7?`...: accepted; reads show 0 (auto-answer off, like the defaults)."""
    if command.form is Form.READ:
        return ["000"]
    if command.form is Form.SET:
        int_arg(command.raw_args or "0", 0, 255)
    return []


@_handles("Z", "&F")
def _reset(device: Device, command: Command) -> list[str]:
    device.settings = device.default_settings()
    return []


@_handles("I")
def _ati(device: Device, command: Command) -> list[str]:
    return list(device.profile.ati)


@_handles("D")
def _dial(device: Device, command: Command) -> list[str]:
    return ["NO CARRIER"]  # calls are out of scope: every dial fails like an unanswered one


# ====================================================================== identity and status
def _identity(field: str) -> Handler:
    """An action-only command answering one profile string (`AT+CGMI` -> `SIMCOM_Ltd`)."""

    def handler(device: Device, command: Command) -> list[str]:
        if command.form is Form.TEST:
            return []
        if command.form is not Form.ACTION:
            raise CommandFailed("error")
        return [str(getattr(device.profile, field))]

    return handler


IDENTITY_FIELDS = {
    "+CGMI": "manufacturer", "+GMI": "manufacturer", "+CGMM": "model", "+GMM": "model",
    "+CGMR": "revision", "+GMR": "revision", "+CGSN": "imei", "+GSN": "imei", "+CIMI": "imsi",
}  # fmt: skip
for _name, _field in IDENTITY_FIELDS.items():
    HANDLERS[_name] = _identity(_field)


@_handles("+GCAP")
def _gcap(device: Device, command: Command) -> list[str]:
    return ["+GCAP: +CGSM"]


@_handles("+CLAC")
def _clac(device: Device, command: Command) -> list[str]:
    if device.profile.clac is None:
        raise CommandFailed("unknown")
    return list(device.profile.clac)


@_handles("+CPIN")
def _cpin(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CPIN: {device.sim_state}"]
    if command.form is Form.TEST:
        return []
    args = command.args()
    if not args or args[0] is None:
        raise CommandFailed("cme", 3)
    if device.sim_state == "READY":
        raise CommandFailed("cme", 3)
    if device.sim_state == "SIM PIN":
        if args[0] != device.pin:
            device.pin_attempts -= 1
            if device.pin_attempts <= 0:
                device.sim_state = "SIM PUK"
                raise CommandFailed("cme", 12)
            raise CommandFailed("cme", 16)
    else:  # SIM PUK: AT+CPIN="<puk>","<new pin>"
        if args[0] != device.options.puk or len(args) < 2 or not args[1]:
            raise CommandFailed("cme", 16)
        device.pin = args[1]
    device.sim_state = "READY"
    device.pin_attempts = 3
    device.after_unlock()
    return []


@_handles("+CFUN")
def cfun(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CFUN: {device.cfun}"]
    if command.form is Form.TEST:
        return ["+CFUN: (0,1,4),(0,1)"]
    args = command.args()
    fun = int_arg(args[0] if args else None, 0, 4)
    if len(args) > 1 and args[1] == "1":
        device.schedule(0.05, device.reboot)
        return []
    device.cfun = fun
    device.set_registered(fun == 1 and device.sms_ready)
    return []


@_handles("+CSQ")
def _csq(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CSQ: (0-31,99),(0-7,99)"]
    return ["+CSQ: 18,0" if device.registered else "+CSQ: 99,99"]


@_handles("+CREG")
def _creg(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [device.creg_line(unsolicited=False)]
    if command.form is Form.TEST:
        return ["+CREG: (0-2)"]
    device.settings.creg = int_arg((command.args() or ["0"])[0] or "0", 0, 2)
    return []


@_handles("+CGREG")
def _cgreg(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CGREG: 0,{1 if device.registered else 0}"]
    if command.form is Form.TEST:
        return ["+CGREG: (0-2)"]
    return []


@_handles("+COPS")
def _cops(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        if device.registered:
            return [f'+COPS: 0,0,"{device.profile.operator}"']
        return ["+COPS: 0"]
    if command.form is Form.TEST:
        name = device.profile.operator
        return [f'+COPS: (2,"{name}","{name.split()[0]}","22610"),,(0-4),(0-2)']
    return []


@_handles("^CURC")
def _curc(device: Device, command: Command) -> list[str]:
    if not device.profile.has_curc:
        raise CommandFailed("unknown")
    if command.form is Form.READ:
        return [f"^CURC: {device.settings.curc}"]
    if command.form is Form.TEST:
        return ["^CURC: (0-1)"]
    device.settings.curc = int_arg((command.args() or [None])[0], 0, 1)
    return []


# ====================================================================== SMS settings
@_handles("+CSCS")
def _cscs(device: Device, command: Command) -> list[str]:
    profile = device.profile
    if command.form is Form.READ:
        lines = [f'+CSCS: "{device.settings.cscs}"']
        return [*lines, ""] if profile.cscs_trailing_blank else lines
    if command.form is Form.TEST:
        return [profile.cscs_test]
    args = command.args()
    charset = (args[0] or "") if args else ""
    if f'"{charset}"' not in profile.cscs_test:
        raise CommandFailed("cme", 4)
    device.settings.cscs = charset
    return []


@_handles("+CSCA")
def _csca(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        number = device.smsc
        return [f'+CSCA: "{number}",{145 if number.startswith("+") else 129}']
    if command.form is Form.TEST:
        return []
    args = command.args()
    if not args or not args[0]:
        raise CommandFailed("cms", 304)
    device.smsc = args[0]
    return []


@_handles("+CNUM")
def _cnum(device: Device, command: Command) -> list[str]:
    """27.007 §7.1 subscriber number: one line per stored MSISDN, none when the SIM has none."""
    number = device.options.own_number
    if command.form is Form.TEST or not number:
        return []
    kind = 145 if number.startswith("+") else 129
    return [f'+CNUM: "","{number}",{kind}{device.profile.cnum_trailer}']


@_handles("+CSMP")
def _csmp(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CSMP: " + ",".join(str(v) for v in device.settings.csmp)]
    if command.form is Form.TEST:
        return []
    args = command.args()
    current = list(device.settings.csmp)
    for position, value in enumerate(args[:4]):
        if value is not None:
            current[position] = int_arg(value, 0, 255)
    device.settings.csmp = (current[0], current[1], current[2], current[3])
    return []


@_handles("+CSMS")
def _csms(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CSMS: {device.settings.csms},1,1,1"]
    if command.form is Form.TEST:
        return ["+CSMS: (0,1)"]
    device.settings.csms = int_arg((command.args() or [None])[0], 0, 1)
    return ["+CSMS: 1,1,1"]


@_handles("+CNMA")
def _cnma(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CNMA: (0-2)"]
    if not device.awaiting_cnma:
        raise CommandFailed("cms", 340)
    device.acknowledge_routed()
    return []


@_handles("+CNMI")
def _cnmi(device: Device, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CNMI: " + ",".join(str(v) for v in device.settings.cnmi)]
    if command.form is Form.TEST:
        return [device.profile.cnmi_test]
    args = command.args()
    if not 1 <= len(args) <= 5:
        raise CommandFailed("error")
    values = [0, 0, 0, 0, 0]
    for position, value in enumerate(args):
        values[position] = int_arg(value if value is not None else "0", 0, 9)
    chosen = (values[0], values[1], values[2], values[3], values[4])
    if not device.profile.cnmi_rule.accepts(chosen):
        raise CommandFailed("cms", 303) if device.settings.cmee else CommandFailed("error")
    device.settings.cnmi = chosen
    if chosen[4] == 1:
        device.held_urcs.clear()  # bfr=1: buffered URCs are discarded
    # bfr=0: held URCs are flushed right after this command's OK (by _run_line).
    return []


@_handles("+CPMS")
def _cpms(device: Device, command: Command) -> list[str]:
    settings = device.settings
    if command.form is Form.TEST:
        return [device.profile.cpms_test]
    if command.form is Form.READ:
        fields = []
        for name in settings.cpms:
            storage = device.storages.get(name)
            fields.append(f'"{name}",{storage.used},{storage.capacity}')
        return ["+CPMS: " + ",".join(fields)]
    args = command.args()
    if not 1 <= len(args) <= 3:
        raise CommandFailed("cms", 302)
    chosen = list(settings.cpms)
    allowed = device.profile.cpms_test[len("+CPMS: ") :].split("),(")
    for position, wanted in enumerate(args):
        if wanted is None:
            continue
        group = allowed[min(position, len(allowed) - 1)]
        if f'"{wanted}"' not in group or wanted not in device.storages:
            raise CommandFailed("cms", 302)
        chosen[position] = wanted
    settings.cpms = (chosen[0], chosen[1], chosen[2])
    counts = []
    for name in settings.cpms:
        storage = device.storages.get(name)
        counts += [str(storage.used), str(storage.capacity)]
    return ["+CPMS: " + ",".join(counts)]


# ====================================================================== reading and deleting
def _index_arg(value: str | None) -> int:
    if value is None:
        raise CommandFailed("cms", 321)
    try:
        return int(value)
    except ValueError:
        raise CommandFailed("cms", 321) from None


@_handles("+CMGR")
def _cmgr(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    args = command.args()
    index = _index_arg(args[0] if args else None)
    _, storage = device.storage_for_read()
    try:
        message = storage.read(index)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    if device.settings.cmgf == 0:
        return [
            device.pdu_header("+CMGR", message.stat, message.tpdu_length, None),
            message.pdu_hex,
        ]
    header, body = device.text_view(message.pdu_hex, message.stat)
    return [f"+CMGR: {header}"] + ([body] if body is not None else [])


@_handles("+CMGL")
def _cmgl(device: Device, command: Command) -> list[str]:
    pdu_mode = device.settings.cmgf == 0
    if command.form is Form.TEST:
        if pdu_mode:
            return ["+CMGL: (0-4)"]
        return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")']
    args = command.args()
    wanted: int
    if not args or args[0] is None:
        wanted = 0 if pdu_mode else TEXT_STATS["REC UNREAD"]
    elif pdu_mode:
        wanted = int_arg(args[0], 0, 4)
    else:
        if args[0] not in TEXT_STATS:
            raise CommandFailed("cms", 305)
        wanted = TEXT_STATS[args[0]]
    keep_unread = len(args) > 1 and args[1] == "1"
    _, storage = device.storage_for_read()
    lines: list[str] = []
    for index, message in list(storage.items()):
        if wanted != STAT_ALL and int(message.stat) != wanted:
            continue
        stat = message.stat
        if pdu_mode:
            lines.append(device.pdu_header("+CMGL", stat, message.tpdu_length, index))
            lines.append(message.pdu_hex)
        else:
            header, body = device.text_view(message.pdu_hex, stat)
            lines.append(f"+CMGL: {index},{header}")
            if body is not None:
                lines.append(body)
        if not keep_unread and stat is Stat.REC_UNREAD:
            storage.read(index)
    return lines


@_handles("+CMGD")
def _cmgd(device: Device, command: Command) -> list[str]:
    _, storage = device.storage_for_read()
    if command.form is Form.TEST:
        low, high = storage.index_range()
        return [f"+CMGD: ({low}-{high}),(0-4)"]
    args = command.args()
    index = _index_arg(args[0] if args else None)
    delflag = int_arg(args[1], 0, 4) if len(args) > 1 and args[1] is not None else 0
    try:
        if delflag == 0:
            storage.delete(index)
        else:
            storage.delete_by_flag(delflag)
    except InvalidIndex:
        raise CommandFailed("cms", 321) from None
    device.retry_waiting_messages()
    return []


@_handles("+CMGDA")
def _cmgda(device: Device, command: Command) -> list[str]:
    if not device.profile.has_cmgda:
        raise CommandFailed("unknown")
    if command.form is not Form.SET:
        return []
    args = command.args()
    value = (args[0] or "") if args else ""
    flags = {"1": 1, "2": 1, "3": 2, "4": 3, "5": 3, "6": 4, "DEL READ": 1, "DEL ALL": 4}
    flags |= {"DEL SENT": 2, "DEL UNSENT": 3, "DEL INBOX": 1}
    if value.upper() not in flags:
        raise CommandFailed("cms", 302)
    _, storage = device.storage_for_read()
    storage.delete_by_flag(flags[value.upper()])
    device.retry_waiting_messages()
    return []


# ====================================================================== sending and writing
def _open_prompt(device: Device, command: Command, kind: Literal["cmgs", "cmgw"]) -> None:
    args = command.args()
    if device.settings.cmgf == 0:
        length = int_arg(args[0] if args else None, 1, 176) if args else None
        if length is None:
            raise CommandFailed("cms", 304)
        stat = Stat.STO_UNSENT
        if kind == "cmgw" and len(args) > 1 and args[1] is not None:
            stat = Stat(int_arg(args[1], 0, 3))
        device.prompt = Prompt(kind, length, None, stat)
        return
    if not args or not args[0]:
        raise CommandFailed("cms", 305)
    try:
        number = textmode.from_te(args[0], device.settings.cscs)
    except ValueError:
        raise CommandFailed("cms", 305) from None
    stat = Stat.STO_UNSENT
    if kind == "cmgw" and len(args) > 2 and args[2] is not None:
        text_stat = TEXT_STATS.get(args[2])
        if text_stat is None or text_stat == STAT_ALL:
            raise CommandFailed("cms", 305)
        stat = Stat(text_stat)
    device.prompt = Prompt(kind, None, number, stat)


@_handles("+CMGS")
def _cmgs(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(device, command, "cmgs")
    return []


@_handles("+CMGW")
def _cmgw(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    if command.form is not Form.SET:
        raise CommandFailed("cms", 304)
    _open_prompt(device, command, "cmgw")
    return []


@_handles("+CMSS")
def _cmss(device: Device, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return []
    args = command.args()
    index = _index_arg(args[0] if args else None)
    storage = device.storages.get(device.settings.cpms[1])
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

    device.send_submit(submit, "+CMSS", mark_sent)
    return []
