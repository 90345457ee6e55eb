"""The plain values the modem layer takes and hands out.

Settings, identity, one stored entry, the ``smsgw modem info`` record and the event sink
type live here, apart from the classes that produce them, so that the command surface
(:mod:`smsgw.modem.base`), the inbound pipeline (:mod:`smsgw.modem.inbound`) and the
supervisor can share them without importing each other.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from smsgw import pdu
from smsgw.at.storage import StorageUse
from smsgw.modem.events import ModemEvent

__all__ = [
    "Cnmi",
    "EventSink",
    "Identity",
    "ModemInfo",
    "ModemSettings",
    "StoredMessage",
    "discard_events",
]

log = logging.getLogger(__name__)

EventSink = Callable[[ModemEvent], Awaitable[None]]
Cnmi = tuple[int, int, int, int, int]


async def discard_events(event: ModemEvent) -> None:
    """The default sink: log and drop (used by `smsgw modem info`)."""
    log.debug("event without a consumer: %r", event)


@dataclass(frozen=True)
class ModemSettings:
    """Behaviour knobs; the defaults are what a gateway wants."""

    pin: str | None = None
    storage: str | None = None
    """Force a message storage (``"SM"``, ``"ME"``); default: the dialect's preference."""
    request_status_reports: bool = True
    ready_timeout: float = 20.0
    """How long to keep asking while the SIM / SMS service is still starting."""
    retry_pause: float = 0.5
    calls: Literal["ignore", "hangup"] = "ignore"
    """What to do with an incoming voice call: let it ring, or reject it."""
    call_rings: int = 1
    """With ``calls = "hangup"``: rings counted before hanging up."""


@dataclass(frozen=True)
class Identity:
    manufacturer: str
    model: str
    revision: str | None = None
    imei: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """One entry of modem storage; ``message`` is None when the PDU did not decode."""

    storage: str
    index: int
    stat: int | None
    pdu_hex: str
    message: pdu.Pdu | None
    error: str | None = None


@dataclass(frozen=True)
class ModemInfo:
    """Everything ``smsgw modem info`` prints; fields are None when the modem would not say."""

    dialect: str
    identity: Identity
    sim: str | None
    operator: str | None
    signal_dbm: int | None
    signal_rssi: int | None
    registration: str | None
    storage: list[StorageUse]
    storage_support: tuple[tuple[str, ...], ...]
    cnmi_support: str | None
    service_center: str | None
    own_number: str | None = None

    def as_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["storage"] = [dataclasses.asdict(s) for s in self.storage]
        return data
