"""SIM, power level, registration, operator, packet attach, caller id and hang-up."""

from __future__ import annotations

from smsgw.emulator import boot, calls, radio
from smsgw.emulator.atline import Command, Form
from smsgw.emulator.commands.registry import first_arg, handles
from smsgw.emulator.state import CommandFailed, DeviceState, int_arg


@handles("+CLIP")
def _clip(state: DeviceState, command: Command) -> list[str]:
    """Caller id presentation: `+CLIP: <n>,<m>`, m=1 (CLIP provisioned on the SIM)."""
    if command.form is Form.READ:
        return [f"+CLIP: {state.settings.clip},1"]
    if command.form is Form.TEST:
        return ["+CLIP: (0,1)"]
    state.settings.clip = int_arg(first_arg(command) or "0", 0, 1)
    return []


@handles("+CPIN")
def _cpin(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CPIN: {state.sim_state}"]
    if command.form is Form.TEST:
        return []
    args = command.args()
    if not args or args[0] is None:
        raise CommandFailed("cme", 3)
    if state.sim_state == "READY":
        raise CommandFailed("cme", 3)
    if state.sim_state == "SIM PIN":
        if args[0] != state.pin:
            state.pin_attempts -= 1
            if state.pin_attempts <= 0:
                state.sim_state = "SIM PUK"
                raise CommandFailed("cme", 12)
            raise CommandFailed("cme", 16)
    else:  # SIM PUK: AT+CPIN="<puk>","<new pin>"
        if args[0] != state.options.puk or len(args) < 2 or not args[1]:
            raise CommandFailed("cme", 16)
        state.pin = args[1]
    state.sim_state = "READY"
    state.pin_attempts = 3
    boot.after_unlock(state)
    return []


@handles("+CFUN")
def _cfun(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CFUN: {state.cfun}"]
    if command.form is Form.TEST:
        return ["+CFUN: (0,1,4),(0,1)"]
    args = command.args()
    fun = int_arg(args[0] if args else None, 0, 4)
    if state.radio_stuck == "until_cfun":
        state.radio_stuck = "no"  # a radio restart (or reset) is what clears a stuck radio
    if len(args) > 1 and args[1] == "1":
        state.schedule(0.05, state.reboot)
        return []
    state.cfun = fun
    radio.set_registered(state, fun == 1 and state.sms_ready)
    return []


@handles("+CSQ")
def _csq(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.TEST:
        return ["+CSQ: (0-31,99),(0-7,99)"]
    return [radio.signal_line(state)]


def _registration(prefix: str, attribute: str) -> None:
    @handles(prefix)
    def handler(state: DeviceState, command: Command) -> list[str]:
        if command.form is Form.READ:
            return [radio.registration_line(state, prefix, unsolicited=False)]
        if command.form is Form.TEST:
            return [f"{prefix}: (0-2)"]
        setattr(state.settings, attribute, int_arg(first_arg(command) or "0", 0, 2))
        return []


_registration("+CREG", "creg")
_registration("+CGREG", "cgreg")


@handles("+COPS")
def _cops(state: DeviceState, command: Command) -> list[str]:
    """Read, test, `AT+COPS=0` (automatic) and `AT+COPS=3,<format>` (answer format)."""
    if command.form is Form.READ:
        return [radio.operator_line(state)]
    if command.form is Form.TEST:
        return [radio.operators_test_line(state)]
    args = command.args()
    mode = int_arg(args[0] if args else "0", 0, 4) if args and args[0] is not None else 0
    if mode == 3:
        state.settings.cops_format = int_arg(args[1] if len(args) > 1 else None, 0, 2)
    elif mode != 0:
        raise CommandFailed("cme", 3)  # manual selection: one network only, stay automatic
    return []


@handles("+CGATT")
def _cgatt(state: DeviceState, command: Command) -> list[str]:
    if command.form is Form.READ:
        return [f"+CGATT: {1 if state.gprs_attached and state.registered else 0}"]
    if command.form is Form.TEST:
        return ["+CGATT: (0,1)"]
    attach = int_arg(first_arg(command), 0, 1) == 1
    if attach and not state.registered:
        raise CommandFailed("cme", 30)
    radio.set_gprs_attached(state, attach)
    return []


@handles("^CURC")
def _curc(state: DeviceState, command: Command) -> list[str]:
    if not state.profile.has_curc:
        raise CommandFailed("unknown")
    if command.form is Form.READ:
        return [f"^CURC: {state.settings.curc}"]
    if command.form is Form.TEST:
        return ["^CURC: (0-1)"]
    state.settings.curc = int_arg(first_arg(command), 0, 1)
    return []


@handles("H", "+CHUP")
def _hang_up(state: DeviceState, command: Command) -> list[str]:
    """Reject the ringing call (RING stops); with none it is a plain OK, as 27.007 says."""
    if command.form is Form.TEST:
        return []
    if command.name == "H":
        int_arg(command.raw_args or "0", 0, 0)
    calls.hang_up(state)
    return []
