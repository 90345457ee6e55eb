"""The modem layer: dialects of AT modems, kept usable by a supervisor.

Public interface (what the gateway builds on)::

    from smsgw.modem import (ModemSupervisor, SupervisorSettings, ModemSettings, Modem,
                             ModemState, ModemEvent, MessageReceived, StatusReportReceived,
                             StoredSubmitFound, UndecodablePdu, RegistrationChanged,
                             RebootDetected, StateChanged, StorageAlmostFull, serial_opener)

    async def sink(event: ModemEvent) -> None: ...      # awaited, one event at a time

    supervisor = ModemSupervisor(
        serial_opener("/dev/ttyUSB2", baudrate=115200),  # or any () -> Awaitable[Transport]
        modem_id="usb0",
        sink=sink,
        modem_settings=ModemSettings(pin="1234"),         # storage, status reports, ...
        settings=SupervisorSettings(dialect=None, health_interval=30, sweep_interval=300),
    )
    supervisor.start()                   # background task; await supervisor.stop() at exit
    supervisor.state, supervisor.reason  # ModemState + human-readable why
    modem = await supervisor.wait_ready()            # ModemError if it ends up FAILED
    refs = await supervisor.send_sms("+40722...", "text", srr=True)  # TP-MR per part
    # ModemNotReady when not READY; SendFailed(parts, references, cms_code, uncertain)

Events (frozen dataclasses in :mod:`smsgw.modem.events`, all carry ``modem_id``):

* ``MessageReceived(message: pdu.Deliver, pdu_hex, storage, index)`` — one per part;
  reassembly by ``message.concat`` is the consumer's job.
* ``StatusReportReceived(report: pdu.StatusReport, pdu_hex, storage, index)`` — match by
  ``report.reference`` (the TP-MR ``send_sms`` returned) and ``report.number``.
* ``UndecodablePdu(pdu_hex, reason, storage, index)`` — a PDU that cannot be decoded;
  deleted from storage once the sink returned, like a message (keep it aside first).
* ``StoredSubmitFound`` — left in modem storage, for the operator.
* ``IncomingCall(caller, rings, started_at, ended_at, hung_up)`` — one per call, at its end.
* ``RadioRestarted(reason, attempt)``, ``RecoveryExhausted(reason)`` — radio recovery.
* ``RegistrationChanged(registration)``, ``RebootDetected(reason)``,
  ``StateChanged(state, reason)``, ``StorageAlmostFull(storage, used, total)``.

Delivery guarantee: for entries read from modem storage the sink is awaited first and the
entry is deleted only if the sink returned normally (commit first, delete after). A sink
that raises leaves the entry on the SIM; the next sweep (``AT+CMGL=4``, at start and every
``sweep_interval``) offers it again — so the sink must tolerate seeing an entry twice.

Send guarantee: ``send_sms`` never retries by itself. On failure ``SendFailed.references``
lists the parts the network accepted, and ``uncertain`` says the link died while a part
was in the modem's hands (it may have gone out): the caller decides, and can say so.

This package imports only ``smsgw.at``, ``smsgw.pdu`` and ``smsgw.exceptions``; it never
imports the store, the webhook or the gateway.
"""

from smsgw.modem.base import (
    EventSink,
    Identity,
    Modem,
    ModemInfo,
    ModemSettings,
    StoredMessage,
    discard_events,
)
from smsgw.modem.events import (
    IncomingCall,
    MessageReceived,
    ModemEvent,
    ModemState,
    RadioRestarted,
    RebootDetected,
    RecoveryExhausted,
    RegistrationChanged,
    StateChanged,
    StatusReportReceived,
    StorageAlmostFull,
    StoredSubmitFound,
    UndecodablePdu,
)
from smsgw.modem.huawei import HuaweiModem
from smsgw.modem.open import serial_opener
from smsgw.modem.registry import DIALECTS, dialect_for
from smsgw.modem.sim800 import Sim800Modem
from smsgw.modem.supervisor import ModemSupervisor, Opener, SupervisorSettings
from smsgw.modem.ussd import UssdAnswer

__all__ = [
    "DIALECTS",
    "EventSink",
    "HuaweiModem",
    "Identity",
    "IncomingCall",
    "MessageReceived",
    "Modem",
    "ModemEvent",
    "ModemInfo",
    "ModemSettings",
    "ModemState",
    "ModemSupervisor",
    "Opener",
    "RadioRestarted",
    "RebootDetected",
    "RecoveryExhausted",
    "RegistrationChanged",
    "Sim800Modem",
    "StateChanged",
    "StatusReportReceived",
    "StorageAlmostFull",
    "StoredMessage",
    "StoredSubmitFound",
    "SupervisorSettings",
    "UndecodablePdu",
    "UssdAnswer",
    "dialect_for",
    "discard_events",
    "serial_opener",
]
