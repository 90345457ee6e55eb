"""Pydantic models of the REST API wire format (CONTRACT.md §3).

Deliberately separate from the store's dataclasses: the database may grow columns (or
rename them) without changing what API clients see, and the OpenAPI document is generated
from these models alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from smsgw.models import Direction, ModemView
from smsgw.store.types import Enqueued, MessageDetail, MessageRecord

#: Longest text accepted on the wire: 255 parts of 153 GSM characters, rounded up. The real
#: limit is `limits.max_parts`; this one only bounds the work a single request can cause.
MAX_TEXT_CHARS = 40_000
MAX_NUMBER_CHARS = 64
MAX_MODEM_NAME_CHARS = 128
#: Recipients in one list send (see smsgw.api.recipients).
MAX_RECIPIENTS = 100


class ErrorOut(BaseModel):
    """Every error answer: ``{"detail": ...}`` (a string, or a list for validation errors)."""

    detail: str | list[dict[str, object]]


class SendRequest(BaseModel):
    """Body of ``POST /api/v1/messages``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "+40721000000", "text": "Your order has shipped", "modem": None},
            ]
        }
    )

    to: (
        Annotated[str, Field(max_length=MAX_NUMBER_CHARS)]
        | Annotated[
            list[Annotated[str, Field(max_length=MAX_NUMBER_CHARS)]],
            Field(min_length=1, max_length=MAX_RECIPIENTS),
        ]
    ) = Field(
        description="Recipient: E.164 (+40721000000) or a national number of "
        "`api.default_region`; normalised to E.164. A list (up to 100) sends one message to "
        "each and answers with one result per recipient.",
    )
    text: str = Field(
        max_length=MAX_TEXT_CHARS,
        description="Message text; must fit in `limits.max_parts` parts.",
    )
    modem: str | None = Field(
        default=None,
        max_length=MAX_MODEM_NAME_CHARS,
        description="Send through this modem; null lets the gateway choose.",
    )
    delivery_report: bool = Field(default=True, description="Request SMSC status reports.")
    send_at: str | None = Field(
        default=None,
        max_length=64,
        description="Send at this time (ISO-8601 with offset, e.g. 2026-12-24T09:00:00+02:00); "
        "until then the message is `scheduled` and can be cancelled. A past time sends now.",
    )
    validity: str | None = Field(
        default=None,
        max_length=64,
        description='How long the network keeps trying to deliver: "30m", "12h", "1d", up to '
        '"63w" (rounded up to the next step the SMS format has). Null: the network default.',
    )
    flash: bool = Field(
        default=False, description="Flash SMS (class 0): shown at once, not stored by the phone."
    )
    encoding: Literal["auto", "gsm7", "ucs2"] = Field(
        default="auto",
        description="auto: GSM-7 when every character fits, else UCS-2. gsm7 refuses a text "
        "with a character GSM-7 cannot carry (422 naming it).",
    )


class SendAccepted(BaseModel):
    """Answer of ``POST /api/v1/messages`` (202)."""

    id: str = Field(description="Message id: use it with GET /api/v1/messages/{id}.")
    status: str = Field(description="`queued` for a new message; the current status on replay.")
    parts: int
    encoding: str | None
    to: str = Field(description="The recipient, normalised to E.164.")
    modem: str | None
    delivery_report: bool
    created: bool = Field(
        description="False when the Idempotency-Key was used before: nothing new was queued "
        "and this is the earlier message."
    )
    created_at: datetime
    send_at: datetime | None = Field(
        default=None, description="When a `scheduled` message goes out (UTC)."
    )


def accepted(enqueued: Enqueued) -> SendAccepted:
    """The answer for one queued (or scheduled, or repeated) message."""
    message = enqueued.message
    return SendAccepted(
        id=message.id,
        status=message.status.value if message.status is not None else "queued",
        parts=message.parts,
        encoding=message.encoding,
        to=message.peer,
        modem=message.modem,
        delivery_report=message.delivery_report,
        created=enqueued.created,
        created_at=message.created_at,
        send_at=message.send_at,
    )


class MessageOut(BaseModel):
    """One message, either direction, as listed."""

    id: str
    direction: Direction
    peer: str = Field(description="The other party: sender (in) or recipient (out).")
    modem: str | None
    text: str
    encoding: str | None
    parts: int
    status: str | None = Field(description="Outgoing only: queued, sending, sent, ...")
    error: str | None
    smsc_timestamp: datetime | None
    received_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
    delivery_report: bool
    missing_parts: list[int] = Field(description="Incoming parts that never arrived.")
    reply_to: str | None = Field(description="For auto-replies: the incoming message answered.")
    send_at: datetime | None = Field(
        default=None, description="Outgoing, scheduled: not sent before this time."
    )
    validity_seconds: int | None = Field(
        default=None, description="Outgoing: validity period asked of the network (TP-VP)."
    )
    flash: bool = Field(default=False, description="Outgoing: sent as flash SMS (class 0).")

    @classmethod
    def of(cls, record: MessageRecord) -> MessageOut:
        return cls(
            id=record.id,
            direction=record.direction,
            peer=record.peer,
            modem=record.modem,
            text=record.text,
            encoding=record.encoding,
            parts=record.parts,
            status=None if record.status is None else record.status.value,
            error=record.error,
            smsc_timestamp=record.smsc_timestamp,
            received_at=record.received_at,
            sent_at=record.sent_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
            delivery_report=record.delivery_report,
            missing_parts=list(record.missing_parts),
            reply_to=record.reply_to,
            send_at=record.send_at,
            validity_seconds=(
                None if record.validity is None else int(record.validity.total_seconds())
            ),
            flash=record.flash,
        )


class PartOut(BaseModel):
    """One part of an outgoing message."""

    seq: int
    status: str
    reference: int | None = Field(description="TP-MR the modem gave this part.")
    sent_at: datetime | None
    report_at: datetime | None
    report_status: int | None = Field(description="TP-ST of the last status report.")
    error: str | None


class StatusEventOut(BaseModel):
    """One entry of a message's status history, oldest first."""

    status: str
    at: datetime
    detail: str | None
    part: int | None = Field(description="Part number, or null for the whole message.")


class MessageDetailOut(MessageOut):
    """``GET /api/v1/messages/{id}``: the message, its parts and its status history."""

    part_detail: list[PartOut]
    history: list[StatusEventOut]

    @classmethod
    def of_detail(cls, detail: MessageDetail) -> MessageDetailOut:
        base = MessageOut.of(detail.message).model_dump()
        return cls(
            **base,
            part_detail=[
                PartOut(
                    seq=part.seq,
                    status=part.status.value,
                    reference=part.tp_mr,
                    sent_at=part.sent_at,
                    report_at=part.report_at,
                    report_status=part.tp_st,
                    error=part.error,
                )
                for part in detail.parts
            ],
            history=[
                StatusEventOut(
                    status=event.status, at=event.at, detail=event.detail, part=event.part_seq
                )
                for event in detail.events
            ],
        )


class MessagePage(BaseModel):
    """``GET /api/v1/messages``: newest first, with the cursor of the next page."""

    messages: list[MessageOut]
    next_before: str | None = Field(
        description="Pass as `before` to get the next (older) page; null on the last page."
    )


class BalanceOut(BaseModel):
    """The last balance check (`balance_ussd`): `amount` null when the pattern found none."""

    amount: float | None
    text: str
    checked_at: datetime

    model_config = ConfigDict(from_attributes=True)


class ModemOut(BaseModel):
    """One modem as ``GET /api/v1/modems`` shows it."""

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
    counters: dict[str, int]
    last_seen: datetime | None
    balance: BalanceOut | None = None
    alerts: list[str] = Field(
        default_factory=list, description="Modem alerts open now (offline, no_signal, ...)."
    )

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, view: ModemView) -> ModemOut:
        return cls.model_validate(view)


class ModemList(BaseModel):
    modems: list[ModemOut]


class Liveness(BaseModel):
    status: str = "ok"


class MqttHealth(BaseModel):
    """The MQTT link (no broker address: /health/ready needs no key)."""

    connected: bool
    pending: int | None = Field(description="Events the broker has not acknowledged yet.")
    published: int = Field(description="Events acknowledged since start.")
    failures: int = Field(description="Unacknowledged publishes and failed connects since start.")


class Readiness(BaseModel):
    ready: bool
    reason: str
    mqtt: MqttHealth | None = Field(
        default=None,
        description="The MQTT link when [mqtt] is configured. A broker outage does not make "
        "the gateway unready: events wait for the broker in the database.",
    )


class DeadLetterOut(BaseModel):
    """A webhook event given up on after `webhook.max_age` (CONTRACT.md §2)."""

    id: int = Field(description="Outbox entry id: use it to retry.")
    event_id: str = Field(description="The Idempotency-Key the event was posted with.")
    kind: str = Field(description="incoming_sms or sms_status.")
    peer: str
    attempts: int
    created_at: datetime
    dead_at: datetime | None
    last_error: str | None
    payload: object = Field(description="The JSON body that was posted on every attempt.")


class DeadLetterPage(BaseModel):
    events: list[DeadLetterOut]
    next_before: int | None = Field(
        description="Pass as `before` to get the next (older) page; null on the last page."
    )


class RetryAccepted(BaseModel):
    id: int
    status: str = "pending"
