"""Messages to the network: what was typed at the `> ` prompt, `AT+CMGS`/`AT+CMSS`, the
TP-MR counter, the configured send delay and failures, and the status reports after.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from smsgw import pdu
from smsgw.emulator import inbound, network, textmode
from smsgw.emulator.state import CommandFailed, DeviceState, Prompt
from smsgw.emulator.storage import StorageFull
from smsgw.exceptions import PduError


def submit_prompt(state: DeviceState, prompt: Prompt) -> None:
    """Ctrl-Z ended the prompt: store (`AT+CMGW`) or send (`AT+CMGS`) what was typed."""
    try:
        if prompt.kind == "cmgw":
            index = _write_prompt(state, prompt)
            state.finish([[f"+CMGW: {index}"]], None)
            return
        pdu_hex = _prompt_pdu(state, prompt)
        parsed = network.parse_submit(pdu_hex, prompt.pdu_length)
    except CommandFailed as failure:
        state.finish([], failure)
        return
    except PduError:
        state.finish([], CommandFailed("cms", 304 if prompt.pdu_length else 305))
        return
    send_submit(state, parsed, "+CMGS", pdu_hex=pdu_hex)


def _prompt_pdu(state: DeviceState, prompt: Prompt) -> str:
    """The PDU typed at the prompt (PDU mode) or one built from the typed text."""
    typed = prompt.typed.decode("latin-1")
    if prompt.pdu_length is not None:
        return typed.strip().upper()
    try:
        text = textmode.from_te(typed, state.settings.cscs)
    except ValueError:
        raise CommandFailed("cms", 305) from None
    assert prompt.number is not None
    parts = pdu.encode_submit(
        prompt.number, text, srr=bool(state.settings.csmp[0] & 0x20), smsc=None
    )
    if len(parts) != 1:
        raise CommandFailed("cms", 305)  # one text-mode CMGS sends one SMS
    return parts[0].hex


def _write_prompt(state: DeviceState, prompt: Prompt) -> int:
    pdu_hex = _prompt_pdu(state, prompt)
    try:
        decoded = pdu.decode(pdu_hex)
    except PduError:
        raise CommandFailed("cms", 304 if prompt.pdu_length else 305) from None
    if prompt.pdu_length is not None and decoded.tpdu_length != prompt.pdu_length:
        raise CommandFailed("cms", 304)
    try:
        return state.storages.get(state.settings.cpms[1]).store(prompt.stat, pdu_hex)
    except StorageFull:
        raise CommandFailed("cms", 322) from None


def send_submit(
    state: DeviceState,
    submit: pdu.Submit,
    result_prefix: str,
    on_success: Callable[[], None] | None = None,
    *,
    pdu_hex: str = "",
) -> None:
    """Hand a SUBMIT to the network; the reply comes after the configured CMGS delay."""
    if state.send_failures:
        state.finish([], CommandFailed("cms", state.send_failures.pop(0)))
        return
    if not state.registered:
        state.finish([], CommandFailed("cms", 331))
        return
    mr = state.next_mr
    state.next_mr = (state.next_mr + 1) % 256
    accepted = network.AcceptedSubmit(
        recipient=submit.number,
        text=submit.text if submit.text is not None else (submit.data or b"").hex(),
        mr=mr,
        srr=submit.srr,
        concat=submit.concat,
        time=state.options.wall_clock(),
        pdu_hex=pdu_hex,
    )
    complete = functools.partial(_complete, state, accepted, result_prefix, on_success)
    delay = state.options.cmgs_delay
    if delay <= 0:
        complete()
        return
    state.busy_until = state.now + delay
    state.schedule(delay, complete)


def _complete(
    state: DeviceState,
    accepted: network.AcceptedSubmit,
    result_prefix: str,
    on_success: Callable[[], None] | None,
) -> None:
    state.busy_until = None
    state.sent_log.add(accepted)
    if on_success is not None:
        on_success()
    state.finish([[f"{result_prefix}: {accepted.mr}"]], None)
    if accepted.srr and state.options.report_status != "none":
        state.schedule(
            state.options.report_delay,
            functools.partial(_report, state, accepted),
            survives_reboot=True,
        )
    if state.held_input and state.resume_input is not None:
        held = bytes(state.held_input)
        state.held_input.clear()
        state.resume_input(held)


def _report(state: DeviceState, accepted: network.AcceptedSubmit) -> None:
    encoded = network.status_report_pdu(
        accepted, state.options.report_status, state.options.wall_clock(), smsc=state.smsc
    )
    if encoded is not None:
        hex_pdu = encoded.hex
        inbound.via_network(state, functools.partial(inbound.receive_status_report, state, hex_pdu))
