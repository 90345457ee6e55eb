"""Value types the store takes and returns (plain frozen dataclasses, no SQLAlchemy objects).

Only the gateway, the API and the CLI see these (they may import the store); types that the
webhook dispatcher also needs live in `smsgw.models` (`OutboxEntry`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Callable, Mapping, Sequence

from smsgw.models import Direction, MessageStatus, OutboxEntry


class PartStatus(enum.StrEnum):
    """Where one part of an outgoing message is."""

    PENDING = "pending"  # not yet accepted by the modem (no TP-MR)
    SENT = "sent"  # +CMGS answered; a temporary status report keeps it here
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class OutboxState(enum.StrEnum):
    """Where a webhook event is; only `pending` events are ever claimed."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # retried until max_age; kept for the API/CLI
    DROPPED = "dropped"  # the webhook answered 410 Gone


@dataclasses.dataclass(frozen=True, slots=True)
class IncomingPart:
    """One SMS-DELIVER as read from the modem: a whole SMS or one part of a concatenated one.

    `concat_ref` is None for a single SMS (then total and seq must be 1). `text` may end or
    start with half a UTF-16 surrogate pair when a UCS-2 message was split inside an emoji; the
    store joins the parts before decoding, so the pair is restored.
    """

    modem: str
    sender: str
    smsc_timestamp: datetime.datetime
    text: str
    encoding: str = "gsm7"
    concat_ref: int | None = None
    concat_total: int = 1
    concat_seq: int = 1
    storage_index: int | None = None

    def __post_init__(self) -> None:
        if self.smsc_timestamp.tzinfo is None or self.smsc_timestamp.utcoffset() is None:
            raise ValueError("IncomingPart.smsc_timestamp must be timezone-aware")
        if not 1 <= self.concat_total <= 255 or not 1 <= self.concat_seq <= self.concat_total:
            raise ValueError(
                f"concat seq/total out of range: {self.concat_seq}/{self.concat_total}"
            )
        if self.concat_ref is None and self.concat_total != 1:
            raise ValueError("a multipart SMS needs a concat_ref")
        if not self.modem or not self.sender:
            raise ValueError("IncomingPart needs a modem name and a sender")


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A reassembled incoming message, as committed together with its `incoming_sms` event."""

    id: str
    modem: str
    peer: str
    text: str
    encoding: str
    parts: int
    missing_parts: tuple[int, ...]  # part numbers that never arrived (reassembly timed out)
    smsc_timestamp: datetime.datetime
    received_at: datetime.datetime

    @property
    def complete(self) -> bool:
        return not self.missing_parts


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryItem:
    """One earlier message of a conversation (both directions), for `conversation_history`.

    `at` is the SMSC timestamp for incoming messages and the send time (or, before sending,
    the creation time) for outgoing ones.
    """

    message_id: str
    direction: Direction
    text: str
    at: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class NewEvent:
    """A webhook event the caller rendered: the outbox stores `body` verbatim forever."""

    event_id: str
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class EventClaim:
    """Claim the webhook event an operation creates for `node`'s dispatcher, in the very
    transaction that creates it, for `lease` (as `claim_due_events` would, one commit later).

    Only taken when the new event is the oldest pending one of its peer, so per-peer order
    holds; if the node dies before posting it, the lease runs out (or the node's restart
    releases it) and the event is claimable again: still delivered at least once.
    """

    node: str
    lease: datetime.timedelta


@dataclasses.dataclass(frozen=True, slots=True)
class ClaimingPart:
    """An incoming part whose message event, if the part completes one, is claimed with
    `claim` (`PartStored.claimed`)."""

    part: IncomingPart
    claim: EventClaim


@dataclasses.dataclass(frozen=True, slots=True)
class PartStored:
    """Result of storing one incoming part (committed in either case)."""

    is_new: bool  # False: this exact part was stored before (SIM re-read after a crash)
    message: ReceivedMessage | None  # set when this part completed a message
    #: The message's event, claimed for `ClaimingPart.claim` (None: not asked, or not the
    #: head of its peer): the caller must hand it to that node's dispatcher.
    claimed: OutboxEntry | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StatusTransition:
    """An outgoing message reached a new reported status (`sent`/`delivered`/`failed`/`expired`)."""

    message_id: str
    peer: str
    modem: str | None
    status: MessageStatus
    at: datetime.datetime
    parts: int
    error: str | None


#: Renders the `incoming_sms` event of a new message, given the earlier conversation (oldest
#: first, at most `history_size` items, the new message NOT included). Called inside the
#: transaction: it must be pure and quick; if it raises, nothing is stored.
IncomingEventFactory = Callable[[ReceivedMessage, Sequence[HistoryItem]], NewEvent]

#: Renders the `sms_status` event of a transition, or None for no webhook event. The event is
#: inserted in the same transaction as the status change; an `event_id` already in the outbox
#: is skipped, so a deterministic id (e.g. f"{message_id}.{status}") makes it exactly-once.
StatusEventFactory = Callable[[StatusTransition], NewEvent | None]


@dataclasses.dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message row as the API and CLI show it."""

    id: str
    direction: Direction
    peer: str
    modem: str | None
    text: str
    encoding: str | None
    parts: int
    status: MessageStatus | None  # None for incoming messages
    error: str | None
    smsc_timestamp: datetime.datetime | None
    received_at: datetime.datetime | None
    sent_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    idempotency_key: str | None
    delivery_report: bool
    missing_parts: tuple[int, ...]
    reply_to: str | None  # id of the incoming message this auto-reply answers
    send_at: datetime.datetime | None = None  # scheduled: not sent before this
    validity: datetime.timedelta | None = None  # TP-VP asked for (None: the SMSC's default)
    flash: bool = False  # message class 0


@dataclasses.dataclass(frozen=True, slots=True)
class PartRecord:
    """One part of an outgoing message."""

    seq: int
    status: PartStatus
    tp_mr: int | None
    sent_at: datetime.datetime | None
    report_at: datetime.datetime | None
    tp_st: int | None
    error: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class StatusEventRecord:
    """One entry of a message's status history (`part_seq` None: the whole message)."""

    status: str
    at: datetime.datetime
    detail: str | None
    part_seq: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class MessageDetail:
    """A message with its parts and its full status history (oldest first)."""

    message: MessageRecord
    parts: tuple[PartRecord, ...]
    events: tuple[StatusEventRecord, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Enqueued:
    """Result of queueing an outgoing message."""

    message: MessageRecord
    created: bool  # False: the idempotency key was seen before; `message` is the earlier one


@dataclasses.dataclass(frozen=True, slots=True)
class StatusReport:
    """A decoded SMS-STATUS-REPORT, as received on `modem`."""

    modem: str
    tp_mr: int
    recipient: str
    tp_st: int
    smsc_timestamp: datetime.datetime | None = None
    discharge_time: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ReportApplied:
    """What a status report did."""

    matched: bool  # False: stored as unmatched
    message_id: str | None
    part_seq: int | None
    transitions: tuple[StatusTransition, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ReplyRequest:
    """An auto-reply the webhook asked for (already cut to `max_parts` by the caller)."""

    text: str
    parts: int
    encoding: str
    delivery_report: bool = True


class ReplyOutcome(enum.StrEnum):
    NO_REPLY = "no_reply"  # the webhook did not ask for one
    QUEUED = "queued"
    SUPPRESSED = "suppressed"  # per-peer hourly limit reached; recorded in suppressed_replies
    OPTED_OUT = "opted_out"  # the peer is on the opt-out list: recorded as a failed message
    ALREADY_DONE = "already_done"  # the event was no longer pending (another node finished it)


@dataclasses.dataclass(frozen=True, slots=True)
class ReplyResult:
    outcome: ReplyOutcome
    message: MessageRecord | None  # the queued auto-reply (the failed one when OPTED_OUT)


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """A webhook event that was given up on, for the API and CLI."""

    entry: OutboxEntry
    last_error: str | None
    dead_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class ModemHeartbeat:
    """The last thing a node said about one of its modems."""

    name: str
    node: str
    state: str
    info: Mapping[str, object]
    last_seen: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class QuarantineItem:
    """An SMS read from a modem that could not be decoded, to be kept as it was read.

    `storage`/`storage_index` are None for a PDU the modem routed directly (+CMT/+CDS)."""

    modem: str
    storage: str | None
    storage_index: int | None
    pdu_hex: str
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """A quarantined SMS as the API and CLI list it."""

    id: int
    modem: str
    storage: str | None
    storage_index: int | None
    pdu_hex: str
    error: str
    received_at: datetime.datetime
    last_seen_at: datetime.datetime
    times_seen: int


@dataclasses.dataclass(frozen=True, slots=True)
class Quarantined:
    """What storing a `QuarantineItem` did (committed in every case)."""

    id: int
    is_new: bool  # False: the same entry was quarantined before (read again)
    alert_raised: bool  # True: this opened the modem's `quarantined` alert (an event queued)


@dataclasses.dataclass(frozen=True, slots=True)
class OpenAlert:
    """A modem alert that has been raised and not resolved yet.

    `id` names this occurrence: both its events (raised, resolved) carry it."""

    modem: str
    alert: str  # models.ModemAlertKind value
    id: str
    detail: str
    raised_at: datetime.datetime


#: Renders the `modem_alert` event of `alert`, raised (`resolved` False) or resolved, at a
#: moment and with a detail; called inside the transaction that opens or closes the alert.
AlertEventFactory = Callable[[OpenAlert, bool, datetime.datetime, str], NewEvent]
