"""SMS settings: format, character set, service centre, routing (CNMI), storages (CPMS)."""

from __future__ import annotations

from smsgw.emulator import inbound
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import first_arg, handles, numeric_setting
from smsgw.emulator.state import CommandFailed, DeviceState, int_arg

numeric_setting("+CSDH", "csdh", 1, "(0,1)")


@handles("+CMGF")
def _cmgf(state: DeviceState, command: Command) -> list[str]:
    """PDU (0) or text (1) mode; a text-only firmware (`pdu_mode=False`) refuses 0."""
    pdu_mode = state.options.pdu_mode
    if command.form is Form.READ:
        return [f"+CMGF: {state.settings.cmgf}"]
    if command.form is Form.TEST:
        return ["+CMGF: (0,1)" if pdu_mode else "+CMGF: (1)"]
    value = int_arg(first_arg(command) or "0", 0, 1)
    if value == 0 and not pdu_mode:
        raise CommandFailed("cms", 303)
    state.settings.cmgf = value
    return []


@handles("+CSCS")
def _cscs(state: DeviceState, command: Command) -> list[str]:
    profile = state.profile
    if command.form is Form.READ:
        line = f'+CSCS: "{state.settings.cscs}"'
        return [line, ""] if profile.cscs_trailing_blank else [line]
    if command.form is Form.TEST:
        return [profile.cscs_test]
    charset = first_arg(command) or ""
    if f'"{charset}"' not in profile.cscs_test:
        raise CommandFailed("cme", 4)
    state.settings.cscs = charset
    return []


@handles("+CSCA")
def _csca(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        number = state.smsc
        return [f'+CSCA: "{number}",{145 if number.startswith("+") else 129}']
    if command.form is Form.TEST:
        return []
    given = first_arg(command)
    if not given:
        raise CommandFailed("cms", 304)
    state.smsc = given
    return []


@handles("+CNUM")
def _cnum(state: DeviceState, command: Command) -> list[str]:
    """27.007 §7.1 subscriber number: one line per stored MSISDN, none when the SIM has none."""
    number = state.options.own_number
    if command.form is Form.TEST or not number:
        return []
    kind = 145 if number.startswith("+") else 129
    return [f'+CNUM: "","{number}",{kind}{state.profile.cnum_trailer}']


@handles("+CSMP")
def _csmp(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CSMP: " + ",".join(str(v) for v in state.settings.csmp)]
    if command.form is Form.TEST:
        return []
    current = list(state.settings.csmp)
    for position, value in enumerate(command.args()[:4]):
        if value is not None:
            current[position] = int_arg(value, 0, 255)
    state.settings.csmp = (current[0], current[1], current[2], current[3])
    return []


@handles("+CSMS")
def _csms(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CSMS: {state.settings.csms},1,1,1"]
    if command.form is Form.TEST:
        return ["+CSMS: (0,1)"]
    state.settings.csms = int_arg(first_arg(command), 0, 1)
    return ["+CSMS: 1,1,1"]


@handles("+CNMA")
def _cnma(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CNMA: (0-2)"]
    if not state.awaiting_cnma:
        raise CommandFailed("cms", 340)
    inbound.acknowledge_routed(state)
    return []


@handles("+CNMI")
def _cnmi(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return ["+CNMI: " + ",".join(str(v) for v in state.settings.cnmi)]
    if command.form is Form.TEST:
        return [state.profile.cnmi_test]
    args = command.args()
    if not 1 <= len(args) <= 5:
        raise CommandFailed("error")
    values = [0, 0, 0, 0, 0]
    for position, value in enumerate(args):
        values[position] = int_arg(value if value is not None else "0", 0, 9)
    chosen = (values[0], values[1], values[2], values[3], values[4])
    if not state.profile.cnmi_rule.accepts(chosen):
        raise CommandFailed("cms", 303) if state.settings.cmee else CommandFailed("error")
    state.settings.cnmi = chosen
    if chosen[4] == 1:
        state.held_urcs.clear()  # bfr=1: buffered URCs are discarded
    # bfr=0: held URCs are flushed right after this command's OK (by the interpreter).
    return []


@handles("+CPMS")
def _cpms(state: DeviceState, command: Command) -> list[str]:
    settings = state.settings
    if command.form is Form.TEST:
        return [state.profile.cpms_test]
    if command.form is Form.READ:
        fields = []
        for name in settings.cpms:
            storage = state.storages.get(name)
            fields.append(f'"{name}",{storage.used},{storage.capacity}')
        return ["+CPMS: " + ",".join(fields)]
    args = command.args()
    if not 1 <= len(args) <= 3:
        raise CommandFailed("cms", 302)
    chosen = list(settings.cpms)
    allowed = state.profile.cpms_test[len("+CPMS: ") :].split("),(")
    for position, wanted in enumerate(args):
        if wanted is None:
            continue
        group = allowed[min(position, len(allowed) - 1)]
        if f'"{wanted}"' not in group or wanted not in state.storages:
            raise CommandFailed("cms", 302)
        chosen[position] = wanted
    settings.cpms = (chosen[0], chosen[1], chosen[2])
    counts = []
    for name in settings.cpms:
        storage = state.storages.get(name)
        counts += [str(storage.used), str(storage.capacity)]
    return ["+CPMS: " + ",".join(counts)]
