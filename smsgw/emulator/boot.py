"""Power: the boot sequence, noise URCs, SMS readiness, unlocking the SIM, power loss.

SIM800 boot timing (PROTOCOL.md §2.1, the profile's `banner`): `RDY` at power-on,
`+CFUN: 1` at 0.05 s, `+CPIN: READY` at 0.1 s, `Call Ready` at 0.3 s and `SMS Ready` at
0.4 s, all multiplied by `DeviceOptions.boot_scale`. Until `SMS Ready` the module answers
basic and identity commands, but every SMS command fails with `+CMS ERROR: 302`
(`ERROR` while `AT+CMEE=0`) and no SMS is delivered; the network keeps them meanwhile.
Huawei sticks have no banner; they emit `^BOOT`/`^MODE`/`^SRVST`/`^SIMST` unless `^CURC=0`.
"""

from __future__ import annotations

import functools

from smsgw.emulator import inbound, radio
from smsgw.emulator.state import DeviceState

SMS_READY_LINES = ("Call Ready", "SMS Ready")


def power_on(state: DeviceState, now: float | None = None) -> None:
    """Boot: banner and noise are scheduled; volatile settings start from defaults."""
    if now is not None:
        state.timers.advance(now)
    state.timers.new_generation()
    state.out.powered = True
    state.settings = state.default_settings()
    state.prompt = None
    state.busy_until = None
    state.held_input.clear()
    state.held_urcs.clear()
    state.sms_ready = False
    state.registered = False
    state.cfun = 1
    state.ussd_session = None
    state.call = None
    if state.sim_state != "SIM PUK":
        state.pin = state.options.pin
        if state.pin is not None:
            state.sim_state = "SIM PIN"
    scale = state.options.boot_scale
    profile = state.profile
    for delay, line in profile.banner:
        state.schedule(delay * scale, functools.partial(_banner_line, state, line))
    for position, line in enumerate(profile.boot_noise):
        state.schedule(0.01 * position, functools.partial(_noise, state, line))
    interval = state.options.noise_interval
    if interval is None:
        interval = profile.periodic_noise_interval
    if profile.periodic_noise and interval > 0:
        state.schedule(interval, functools.partial(_periodic_noise, state, interval))
    if state.sim_state == "READY":
        state.schedule(profile.sms_ready_after * scale, functools.partial(_sms_ready, state))


def power_off(state: DeviceState) -> None:
    """Power lost (unplug): nothing in or out, pending boot timers are void."""
    state.out.powered = False
    state.timers.new_generation()
    state.out.clear()
    if state.awaiting_cnma:  # never acknowledged: the network still has it
        inbound.refuse_routed(state)


def after_unlock(state: DeviceState) -> None:
    """PIN accepted: `+CPIN: READY`, then the deferred Call/SMS Ready lines (§2.1)."""
    scale = state.options.boot_scale
    state.schedule(0.05 * scale, functools.partial(state.emit_lines, "+CPIN: READY"))
    for delay, line in state.profile.banner:
        if line in SMS_READY_LINES:
            state.schedule(
                0.1 * scale + delay * scale / 4, functools.partial(_banner_line, state, line)
            )
    state.schedule(
        0.1 * scale + state.profile.sms_ready_after * scale / 4,
        functools.partial(_sms_ready, state),
    )


def _banner_line(state: DeviceState, line: str) -> None:
    if line.startswith("+CPIN:"):
        state.emit_lines(f"+CPIN: {state.sim_state}")
    elif line in SMS_READY_LINES and state.sim_state != "READY":
        return
    elif line == "Call Ready" and state.settings.plain.get("+CIURC") == 0:
        return  # AT+CIURC=0 silences "Call Ready" (never "SMS Ready", §2.3)
    else:
        state.emit_lines(line)


def _noise(state: DeviceState, line: str) -> None:
    if state.settings.curc != 0:
        state.emit_lines(line)


def _periodic_noise(state: DeviceState, interval: float) -> None:
    if state.profile.periodic_noise:
        _noise(state, state.profile.periodic_noise)
    state.schedule(interval, functools.partial(_periodic_noise, state, interval))


def _sms_ready(state: DeviceState) -> None:
    state.sms_ready = True
    radio.set_registered(state, state.cfun == 1)
    queued, state.network_queue = state.network_queue, []
    for action in queued:
        action()
