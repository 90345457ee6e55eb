"""What the modem layer tells the outside world: plain frozen dataclasses.

A consumer (the gateway) passes one async callable, an :data:`EventSink`, to the
supervisor. The modem **awaits** the sink for every event, one at a time, in arrival order.
For :class:`MessageReceived`, :class:`StatusReportReceived` and :class:`UndecodablePdu` taken
from modem storage, the sink returning normally means "I have stored it durably": only then
does the modem delete the entry (``AT+CMGD``). If the sink raises, the entry stays on the SIM
and the next storage sweep offers it again, so nothing is lost between a crash and a commit
(DESIGN.md: delete only after the database commit). The sink must therefore be
idempotent for stored entries (a sweep may offer an entry whose delete failed).

Nothing here imports the store, the webhook or the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from smsgw import pdu
from smsgw.at.network import Registration


class ModemState(Enum):
    """Supervisor states (DESIGN.md): the gateway and API show them as-is."""

    DISCONNECTED = "disconnected"
    OPENING = "opening"
    PROBING = "probing"
    INITIALISING = "initialising"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class MessageReceived:
    """One received SMS-DELIVER part (concatenated messages arrive as several events).

    ``storage``/``index`` say where it was read from (``None`` for ``+CMT`` routed
    directly, which the modem has already acknowledged with ``AT+CNMA`` if required).
    """

    modem_id: str
    message: pdu.Deliver
    pdu_hex: str
    storage: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class StatusReportReceived:
    """An SMS-STATUS-REPORT: match ``report.reference`` (TP-MR) and ``report.number``."""

    modem_id: str
    report: pdu.StatusReport
    pdu_hex: str
    storage: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class StoredSubmitFound:
    """A SUBMIT (stat 2/3) found by the storage sweep; left in place, reported once per sweep."""

    modem_id: str
    message: pdu.Submit
    storage: str
    index: int


@dataclass(frozen=True)
class UndecodablePdu:
    """A stored or routed PDU the codec rejected (or a SUBMIT routed as if received).

    Like a received message, a stored one is deleted once the sink returned normally (the
    gateway has quarantined it), and left in storage when the sink raised: undecodable
    entries must not pile up until the storage is full and the network holds back the rest.
    """

    modem_id: str
    pdu_hex: str
    reason: str
    storage: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class RegistrationChanged:
    modem_id: str
    registration: Registration


@dataclass(frozen=True)
class RebootDetected:
    """The modem announced a (re)boot (``RDY``, ``SMS Ready``, ``^SIMST``...) or lost its
    settings; the supervisor re-initialises it."""

    modem_id: str
    reason: str


@dataclass(frozen=True)
class StateChanged:
    modem_id: str
    state: ModemState
    reason: str = ""


@dataclass(frozen=True)
class StorageAlmostFull:
    """Used/total of the receive storage after a sweep, when at least 80 % is used."""

    modem_id: str
    storage: str
    used: int
    total: int


@dataclass(frozen=True)
class IncomingCall:
    """A voice call that was offered and has ended (one per call, not per ``RING``).

    ``caller`` is None when the number was withheld or not available; ``hung_up`` says
    smsgw rejected it (``calls = "hangup"``) rather than the caller giving up."""

    modem_id: str
    caller: str | None
    rings: int
    started_at: datetime
    ended_at: datetime
    hung_up: bool


@dataclass(frozen=True)
class RadioRestarted:
    """The modem was not registered for ``recover_after``: its radio was restarted
    (``AT+CFUN=0`` then ``AT+CFUN=1``). ``attempt`` counts restarts in the last hour."""

    modem_id: str
    reason: str
    attempt: int


@dataclass(frozen=True)
class RecoveryExhausted:
    """The modem is still not registered but the hourly restart budget is spent: it stays
    as it is (its alert stays open) until the budget allows another attempt."""

    modem_id: str
    reason: str


ModemEvent = (
    MessageReceived
    | StatusReportReceived
    | StoredSubmitFound
    | UndecodablePdu
    | RegistrationChanged
    | RebootDetected
    | StateChanged
    | StorageAlmostFull
    | IncomingCall
    | RadioRestarted
    | RecoveryExhausted
)
