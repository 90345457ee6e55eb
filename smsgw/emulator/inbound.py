"""Messages from the network: storing with `+CMTI`/`+CDSI`, routing as `+CMT`/`+CDS`,
and the `AT+CNMA` acknowledgement cycle of 27.005 §3.4.4.

Network events wait at the SMSC while the module is off, booting or unregistered, and
while the storage is full (a real SMSC keeps the message and retries).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from smsgw import pdu
from smsgw.emulator import views
from smsgw.emulator.state import DeviceState
from smsgw.emulator.storage import Stat, StorageFull
from smsgw.exceptions import PduError


def deliver_pdu(state: DeviceState, pdu_hex: str) -> None:
    """A DELIVER (or STATUS-REPORT) PDU arrives verbatim (hex with the SMSC octet)."""
    pdu_hex = pdu_hex.strip().upper()
    bytes.fromhex(pdu_hex)  # ValueError for non-hex before anything is queued
    try:
        decoded: pdu.Pdu | None = pdu.decode(pdu_hex)
    except PduError:
        decoded = None
    if isinstance(decoded, pdu.StatusReport):
        via_network(state, functools.partial(receive_status_report, state, pdu_hex))
    else:
        message_class = decoded.message_class if isinstance(decoded, pdu.Deliver) else None
        via_network(state, functools.partial(_receive_deliver, state, pdu_hex, message_class))


def via_network(state: DeviceState, action: Callable[[], None]) -> None:
    """Run now if the module can receive, else queue at the SMSC."""
    if state.powered and state.sms_ready and state.registered:
        action()
    else:
        state.network_queue.append(action)


def retry_waiting_messages(state: DeviceState) -> None:
    """Space was freed: messages the SMSC kept (storage full) are delivered now."""
    if state.network_queue and state.sms_ready and state.registered:
        queued, state.network_queue = state.network_queue, []
        for action in queued:
            action()


def _tpdu_length(pdu_hex: str) -> int:
    return len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)


def _receive_deliver(state: DeviceState, pdu_hex: str, message_class: int | None) -> None:
    mt = state.settings.cnmi[1]
    direct = (mt == 2 and message_class != 2) or (mt == 3 and message_class == 3)
    if direct:
        again = functools.partial(_receive_deliver, state, pdu_hex, message_class)
        if state.settings.cmgf == 0:
            header = f"+CMT: {state.profile.pdu_alpha},{_tpdu_length(pdu_hex)}"
            _route(state, header, pdu_hex, again)
        else:
            payload, body = views.text_view(state, pdu_hex, Stat.REC_UNREAD)
            _route(state, "+CMT: " + payload.split(",", 1)[1], body or "", again)
        return
    mem3 = state.settings.cpms[2]
    try:
        index = state.storages.get(mem3).store(Stat.REC_UNREAD, pdu_hex)
    except StorageFull:
        state.network_queue.append(
            functools.partial(_receive_deliver, state, pdu_hex, message_class)
        )
        return
    if mt != 0:
        state.urc(f'+CMTI: "{mem3}",{index}')


def receive_status_report(state: DeviceState, pdu_hex: str) -> None:
    ds = state.settings.cnmi[3]
    if ds == 1:
        again = functools.partial(receive_status_report, state, pdu_hex)
        _route(state, f"+CDS: {_tpdu_length(pdu_hex)}", pdu_hex, again)
    elif ds == 2:
        name = state.profile.status_report_storage or state.settings.cpms[2]
        try:
            index = state.storages.get(name).store(Stat.REC_UNREAD, pdu_hex)
        except StorageFull:
            return
        state.urc(f'+CDSI: "{name}",{index}')


def _route(state: DeviceState, header: str, body: str, again: Callable[[], None]) -> None:
    """Send a `+CMT`/`+CDS` to the host. With `AT+CSMS=1` it must be acknowledged with
    `AT+CNMA` within `cnma_timeout`; until then later ones wait. Unacknowledged, the ME
    refuses it to the network (which offers it again after `network_retry`) and sets
    `<mt>` and `<ds>` to 0. With `AT+CSMS=0` the ME acknowledges it itself: a host that
    is not listening loses it."""
    if state.settings.csms != 1:
        state.urc(header, body)
        return
    if state.awaiting_cnma:
        state.routed_backlog.append(again)
        return
    state.awaiting_cnma = True
    state.unacked = again
    state.ack_token += 1
    token = state.ack_token
    state.urc(header, body)
    state.schedule(state.options.cnma_timeout, functools.partial(_ack_timed_out, state, token))


def acknowledge_routed(state: DeviceState) -> None:
    """`AT+CNMA` accepted: the routed PDU is the host's now; the next one may follow."""
    state.awaiting_cnma = False
    state.unacked = None
    backlog, state.routed_backlog = state.routed_backlog, []
    for again in backlog:
        again()


def _ack_timed_out(state: DeviceState, token: int) -> None:
    if not state.awaiting_cnma or token != state.ack_token:
        return
    mode, _, bm, _, bfr = state.settings.cnmi
    state.settings.cnmi = (mode, 0, bm, 0, bfr)
    refuse_routed(state)


def refuse_routed(state: DeviceState) -> None:
    """RP-ERROR to the network for the unacknowledged PDU and the ones waiting behind it:
    the SMSC offers each again later, to whatever routing the host has set by then."""
    pending = [state.unacked, *state.routed_backlog] if state.unacked else []
    state.awaiting_cnma = False
    state.unacked = None
    state.routed_backlog = []
    for again in pending:
        state.schedule(
            state.options.network_retry,
            functools.partial(via_network, state, again),
            survives_reboot=True,
        )
