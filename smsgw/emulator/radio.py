"""Network registration as the host sees it: `+CREG`, `+CGREG`, `+COPS`, `+CGATT`, `+CSQ`.

Registration follows the module's state (SMS Ready, `AT+CFUN`); with `AT+CREG=1|2` /
`AT+CGREG=1|2` every change is announced as a URC, with LAC and cell id when n=2. LAC/CI
are quoted 4-hex on SIMCom and unquoted variable-width hex on Huawei (§2.7, §3.2.3).
"""

from __future__ import annotations

from smsgw.emulator.state import DeviceState


def set_registered(state: DeviceState, registered: bool) -> None:
    """Attach or detach; URCs for every enabled `+CREG`/`+CGREG` report. A stuck radio
    (`state.radio_stuck`) cannot attach."""
    if registered and state.radio_stuck != "no":
        registered = False
    if registered == state.registered:
        return
    state.registered = registered
    if state.settings.creg:
        state.emit_lines(registration_line(state, "+CREG", unsolicited=True))
    if state.settings.cgreg:
        state.emit_lines(registration_line(state, "+CGREG", unsolicited=True))


def _stat(state: DeviceState, prefix: str) -> int:
    """27.007 <stat>: 1 home, 2 searching (SIM ready, not yet attached), 0 idle (radio off,
    no SIM, or detached from the packet domain with `AT+CGATT=0`)."""
    if prefix == "+CGREG" and not state.gprs_attached:
        return 0
    stuck = state.radio_stuck != "no"
    if state.forced_stat is not None and not stuck and state.cfun == 1 and state.sms_ready:
        return state.forced_stat
    if state.registered:
        return 1
    return 2 if state.sim_state == "READY" and state.cfun == 1 else 0


def registration_line(state: DeviceState, prefix: str, *, unsolicited: bool) -> str:
    """`+CREG: <n>,<stat>[,<lac>,<ci>]` (read) or `+CREG: <stat>[,<lac>,<ci>]` (URC)."""
    n = state.settings.creg if prefix == "+CREG" else state.settings.cgreg
    stat = _stat(state, prefix)
    fields = [] if unsolicited else [str(n)]
    fields.append(str(stat))
    profile = state.profile
    if n == 2 and stat in (1, 5):
        if profile.creg_quoted:
            fields += [f'"{profile.lac}"', f'"{profile.cell_id}"']
        else:
            fields += [profile.lac, profile.cell_id]
    elif n == 2 and not unsolicited and profile.unregistered_location is not None:
        # Captured only for the read form (ModemManager's E160G test); URCs stay short.
        fields.append(profile.unregistered_location)
    return f"{prefix}: " + ",".join(fields)


def operator_line(state: DeviceState) -> str:
    """`+COPS: <mode>,<format>,"<oper>"[,<AcT>]` in the format chosen with `AT+COPS=3,<f>`."""
    if not state.registered:
        return "+COPS: 0"
    profile = state.profile
    fmt = state.settings.cops_format
    name = (profile.operator, profile.operator_short, profile.operator_numeric)[fmt]
    act = f",{profile.access_technology}" if profile.access_technology is not None else ""
    return f'+COPS: 0,{fmt},"{name}"{act}'


def operators_test_line(state: DeviceState) -> str:
    """`AT+COPS=?`: the one visible network, current (2), in all three formats."""
    profile = state.profile
    act = f",{profile.access_technology}" if profile.access_technology is not None else ""
    own = f'(2,"{profile.operator}","{profile.operator_short}","{profile.operator_numeric}"{act})'
    return f"+COPS: {own},,(0-4),(0-2)"


def signal_line(state: DeviceState) -> str:
    return f"+CSQ: {state.rssi},0" if state.registered else "+CSQ: 99,99"


#: `smsgw emulator register` names and the 27.007 <stat> the network then answers.
NETWORK_STATES: dict[str, int] = {"home": 1, "searching": 2, "denied": 3, "roaming": 5}


def force_registration(state: DeviceState, name: str) -> None:
    """The network registers the SIM as `name` (home, roaming) or not (searching, denied),
    announced by `+CREG` URCs like a real change."""
    stat = NETWORK_STATES[name]
    was = _stat(state, "+CREG")
    state.forced_stat = None if stat == 1 else stat  # home: the module's own state again
    registered = stat in (1, 5)
    if registered != state.registered:
        set_registered(state, registered)
    elif stat != was and state.settings.creg:
        state.emit_lines(registration_line(state, "+CREG", unsolicited=True))


def stick(state: DeviceState, *, permanent: bool = False) -> None:
    """The "radio stuck" fault: the module drops off the network and stays off until
    `AT+CFUN` restarts its radio (`permanent`: even that does not help)."""
    state.radio_stuck = "permanent" if permanent else "until_cfun"
    set_registered(state, False)


def set_gprs_attached(state: DeviceState, attached: bool) -> None:
    """`AT+CGATT=<0|1>`: packet-domain attach; `+CGREG` follows it."""
    if attached == state.gprs_attached:
        return
    state.gprs_attached = attached
    if state.settings.cgreg and state.registered:
        state.emit_lines(registration_line(state, "+CGREG", unsolicited=True))
