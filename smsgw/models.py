"""Plain value types shared across layers (no I/O, no framework types).

Later layers add their own types here only when two or more services need them.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum


class Direction(enum.StrEnum):
    """Which way a message travelled, from the gateway's point of view."""

    IN = "in"
    OUT = "out"


class MessageStatus(enum.StrEnum):
    """Lifecycle of an outgoing message; `sent` to `expired` are the webhook's `sms_status`
    values. `scheduled` waits for its `send_at` (or the end of quiet hours) before it is
    `queued`; `cancelled` was withdrawn by a client before any part went out (no event)."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclasses.dataclass(frozen=True, slots=True)
class SendOptions:
    """How a client asked for one outgoing message to be sent, beyond its text.

    `send_at` None: as soon as possible; `validity` None: the SMSC's own default (TP-VP
    absent); `flash`: message class 0, shown on the screen and not stored by the phone;
    `encoding` None: GSM-7 when every character fits, else UCS-2.
    """

    send_at: datetime.datetime | None = None
    validity: datetime.timedelta | None = None
    flash: bool = False
    encoding: str | None = None


class WebhookEventKind(enum.StrEnum):
    """The event types the webhook receives (CONTRACT.md §2 and §8)."""

    INCOMING_SMS = "incoming_sms"
    SMS_STATUS = "sms_status"
    INCOMING_CALL = "incoming_call"
    MODEM_ALERT = "modem_alert"

    @property
    def can_reply(self) -> bool:
        """Its webhook answer may carry `{"sms_text"}` to send back (to a sender or caller)."""
        return self in (WebhookEventKind.INCOMING_SMS, WebhookEventKind.INCOMING_CALL)


class ModemAlertKind(enum.StrEnum):
    """What a `modem_alert` event is about (CONTRACT.md §8): raised once when the condition
    starts, resolved once when it ends (`smsgw.gateway.alerts`)."""

    OFFLINE = "offline"
    NOT_REGISTERED = "not_registered"
    NO_SIGNAL = "no_signal"
    SIM_ERROR = "sim_error"
    STORAGE_FULL = "storage_full"
    BALANCE_LOW = "balance_low"
    QUARANTINED = "quarantined"


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One webhook event waiting in the durable outbox.

    Shared by the store (which persists it) and the webhook dispatcher (which posts it), so
    neither has to import the other. `body` is the exact JSON posted on every attempt, frozen
    when the event was created: retries are byte-identical and carry the same `event_id` as
    `Idempotency-Key`.
    """

    id: int
    event_id: str
    kind: WebhookEventKind
    peer: str
    body: bytes
    attempts: int
    created_at: datetime.datetime
    #: The modem the event is about (the one that received the SMS, or sent it); None when
    #: it is tied to none. An auto-reply leaves through this modem.
    modem: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ModemBalance:
    """The last prepaid balance answer of a modem: `amount` None when `balance_pattern`
    found no number in `text` (the raw USSD answer, kept either way)."""

    amount: float | None
    text: str
    checked_at: datetime.datetime

    def as_json(self) -> dict[str, object]:
        return {"amount": self.amount, "text": self.text, "checked_at": self.checked_at.isoformat()}


@dataclasses.dataclass(frozen=True, slots=True)
class ModemView:
    """One modem as operators see it (a row of `GET /api/v1/modems`, a card in the inbox).

    Lives here, not in the API, because the gateway builds it and the gateway sits below the
    API: one definition both layers share.
    """

    name: str
    node: str
    port: str
    state: str
    reason: str | None
    manufacturer: str | None
    model: str | None
    revision: str | None
    operator: str | None
    signal_dbm: int | None
    registration: str | None
    storage_used: int | None
    storage_total: int | None
    counters: dict[str, int]  # e.g. received, sent, failed, today
    last_seen: datetime.datetime | None  # heartbeat (for other nodes' modems)
    balance: ModemBalance | None = None
    #: Modem alerts open now (`offline`, `not_registered`, ...), oldest rule first.
    alerts: tuple[str, ...] = ()
