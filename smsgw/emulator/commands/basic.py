"""V.250 basic commands, identity, and the vendor settings a firmware only remembers."""

from __future__ import annotations

from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import HANDLERS, Handler, handles, numeric_setting
from smsgw.emulator.state import CommandFailed, DeviceState, int_arg

numeric_setting("+CMEE", "cmee", 2, "(0-2)")


@handles("E")
def _echo(state: DeviceState, command: Command) -> list[str]:
    state.settings.echo = int_arg(command.raw_args or "0", 0, 1) == 1
    return []


@handles("V", "Q", "X", "&C", "&D", "&V")
def _accepted_basic(state: DeviceState, command: Command) -> list[str]:
    """Result-code format and DTR/DCD handling: the pty has no such lines; the values
    V1/Q0/X4/&C1/&D2 are what every client sets anyway."""
    return []


@handles("&W")
def _store_profile(state: DeviceState, command: Command) -> list[str]:
    """Vendor settings survive a reboot once stored (SIM800 `AT+CIURC=0` + `AT&W`, §2.3)."""
    state.saved_plain = dict(state.settings.plain)
    return []


def s_register(state: DeviceState, command: Command) -> list[str]:
    """`ATS0=0`, `ATS7?`...: accepted; reads show 0 (auto-answer off, like the defaults)."""
    if command.form is Form.READ:
        return ["000"]
    if command.form is Form.SET:
        int_arg(command.raw_args or "0", 0, 255)
    return []


@handles("Z", "&F")
def _reset(state: DeviceState, command: Command) -> list[str]:
    state.settings = state.default_settings()
    return []


@handles("I")
def _ati(state: DeviceState, command: Command) -> list[str]:
    return list(state.profile.ati)


@handles("D")
def _dial(state: DeviceState, command: Command) -> list[str]:
    return ["NO CARRIER"]  # calls are out of scope: every dial fails like an unanswered one


def _identity(field: str) -> Handler:
    """An action-only command answering one profile string (`AT+CGMI` -> `SIMCOM_Ltd`)."""

    def handler(state: DeviceState, command: Command) -> list[str]:
        if command.form is Form.TEST:
            return []
        if command.form is not Form.ACTION:
            raise CommandFailed("error")
        return [str(getattr(state.profile, field))]

    return handler


IDENTITY_FIELDS = {
    "+CGMI": "manufacturer", "+GMI": "manufacturer", "+CGMM": "model", "+GMM": "model",
    "+CGMR": "revision", "+GMR": "revision", "+CGSN": "imei", "+GSN": "imei", "+CIMI": "imsi",
}  # fmt: skip
for _name, _field in IDENTITY_FIELDS.items():
    HANDLERS[_name] = _identity(_field)


@handles("+GCAP")
def _gcap(state: DeviceState, command: Command) -> list[str]:
    return ["+GCAP: +CGSM"]


@handles("+CLAC")
def _clac(state: DeviceState, command: Command) -> list[str]:
    if state.profile.clac is None:
        raise CommandFailed("unknown")
    return [f"{name}{state.profile.clac_line_end}" for name in state.profile.clac]


def plain_setting(state: DeviceState, command: Command) -> list[str]:
    """A profile's remembered vendor setting (`AT+CLTS=1`, `AT^PORTSEL?`...)."""
    setting = state.profile.plain_settings[command.name]
    if command.form is Form.READ:
        return [f"{command.name}: {state.settings.plain[command.name]}"]
    if command.form is Form.TEST:
        return [f"{command.name}: {setting.test}"]
    if command.form is Form.ACTION:
        return []
    args = command.args()
    value = int_arg(args[0] if args else None, 0, max(setting.allowed))
    if value not in setting.allowed:
        raise CommandFailed("error")
    state.settings.plain[command.name] = value
    return []
