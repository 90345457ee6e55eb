"""An incoming voice call, as far as an SMS gateway sees one: `RING` every few seconds,
followed by the caller's number when `AT+CLIP=1`, until the host hangs up (`ATH` /
`AT+CHUP`) or the caller gives up. Nobody answers: voice is out of scope.

SIMCom spells the caller line `+CLIP: "+40...",145,"",0,"",0`; the other personas use
the 27.007 short form `+CLIP: "+40...",145,,,,0` (python-gsmmodem's recorded replies).
"""

from __future__ import annotations

import functools

from smsgw.emulator.state import Call, DeviceState

#: Seconds between two RINGs (GSM ringing cadence is about 5 s; modems repeat RING on it).
RING_INTERVAL = 5.0


def incoming_call(state: DeviceState, number: str, rings: int = 6) -> None:
    """The network offers a call from `number`; it rings `rings` times unless hung up."""
    if not state.powered or not state.registered:
        return  # nobody can reach a module that is off or out of coverage
    call = Call(number, rings)
    state.call = call
    _ring(state, call)


def hang_up(state: DeviceState) -> bool:
    """End the ringing call; True if there was one."""
    ringing = state.call is not None
    state.call = None
    return ringing


def clip_line(state: DeviceState, number: str) -> str:
    kind = 145 if number.startswith("+") else 129
    return f'+CLIP: "{number}",{kind}{state.profile.clip_trailer}'


def _ring(state: DeviceState, call: Call) -> None:
    if state.call is not call:
        return  # hung up meanwhile
    if call.rings_left <= 0:
        state.call = None  # the caller gave up: ringing just stops
        return
    call.rings_left -= 1
    state.line_urc("RING")
    if state.settings.clip:
        state.line_urc(clip_line(state, call.number))
    state.schedule(RING_INTERVAL, functools.partial(_ring, state, call))
