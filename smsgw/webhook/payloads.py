"""The exact JSON bodies the webhook receives, and how its answer is read (CONTRACT.md §2).

Users point servers written for SMS Gateway Master at us, so field names, types and order are
fixed here and nowhere else. Bodies are built once, as bytes, when the event is created and then
frozen in the outbox: every retry posts the same bytes, so a receiver can de-duplicate on
`Idempotency-Key` and a signature check never depends on how JSON happened to be re-serialised.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
from collections.abc import Sequence
from typing import Literal, TypedDict

from smsgw.models import Direction, MessageStatus, WebhookEventKind

logger = logging.getLogger(__name__)

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_ONE_MS = datetime.timedelta(milliseconds=1)

ReportedStatus = Literal["sent", "delivered", "failed", "expired"]

#: Statuses a webhook may see; `queued` and `sending` are internal states.
REPORTED_STATUSES: dict[MessageStatus, ReportedStatus] = {
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.FAILED: "failed",
    MessageStatus.EXPIRED: "expired",
}


class HistoryEntry(TypedDict):
    """One `conversation_history` item."""

    role: Literal["in", "out"]
    message: str
    timestamp: int


class IncomingSmsPayload(TypedDict):
    """The `incoming_sms` body, keys in the order SMS Gateway Master documents them."""

    type: Literal["incoming_sms"]
    sender: str
    message: str
    timestamp: int
    conversation_history: list[HistoryEntry]
    id: str
    modem: str
    recipient: str | None


class SmsStatusPayload(TypedDict):
    """The `sms_status` body."""

    type: Literal["sms_status"]
    smsId: str  # the contract's spelling, not PEP 8's
    status: ReportedStatus
    recipient: str
    timestamp: int
    parts: int
    error: str | None


class IncomingCallPayload(TypedDict):
    """The `incoming_call` body (CONTRACT.md §8), sent once when the call has ended."""

    type: Literal["incoming_call"]
    id: str
    caller: str | None
    modem: str
    timestamp: int
    rings: int


class ModemAlertPayload(TypedDict):
    """The `modem_alert` body (CONTRACT.md §8): one when the alert starts, one when it ends."""

    type: Literal["modem_alert"]
    id: str
    modem: str
    alert: str
    detail: str
    resolved: bool
    timestamp: int


@dataclasses.dataclass(frozen=True, slots=True)
class ConversationTurn:
    """An earlier message with the same peer, as the store knows it."""

    direction: Direction
    message: str
    at: datetime.datetime


def epoch_millis(moment: datetime.datetime) -> int:
    """Milliseconds since the Unix epoch, exact (integer arithmetic, no float rounding).

    Naive datetimes are refused: an SMSC timestamp carries its own offset, and guessing the
    local zone here would shift every webhook timestamp by hours on a misconfigured Pi.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {moment.isoformat()}")
    return (moment - _EPOCH) // _ONE_MS


def clean_text(text: str) -> str:
    """Replace lone UTF-16 surrogates (from a broken UCS-2 part) so the body is valid UTF-8.

    A correctly paired surrogate sequence that arrived as two code points is joined into the
    character it encodes; anything unpaired becomes U+FFFD instead of crashing the encoder.
    """
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _encode(
    payload: IncomingSmsPayload | SmsStatusPayload | IncomingCallPayload | ModemAlertPayload,
) -> bytes:
    # Compact separators and insertion order: the same inputs always give the same bytes.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def incoming_sms_body(
    *,
    message_id: str,
    sender: str,
    message: str,
    received_at: datetime.datetime,
    earlier: Sequence[ConversationTurn],
    history_size: int,
    modem: str,
    recipient: str | None,
) -> bytes:
    """Build the `incoming_sms` body.

    `earlier` is the conversation with `sender` on `modem` *before* this message (sorted
    oldest first here, whatever order the store returned); the current message is appended
    last even if the SMSC clock puts it earlier, so the contract's "current message last"
    cannot be broken, and the list is cut to the last `history_size` entries (0 gives `[]`,
    the key stays). `received_at` is the SMSC timestamp.
    """
    if history_size < 0:
        raise ValueError(f"history_size must be >= 0, got {history_size}")
    text = clean_text(message)
    history: list[HistoryEntry] = [
        {
            "role": _role(turn.direction),
            "message": clean_text(turn.message),
            "timestamp": epoch_millis(turn.at),
        }
        for turn in sorted(earlier, key=lambda turn: turn.at)  # stable: ties keep their order
    ]
    stamp = epoch_millis(received_at)
    history.append({"role": "in", "message": text, "timestamp": stamp})
    kept = history[-history_size:] if history_size else []
    payload: IncomingSmsPayload = {
        "type": "incoming_sms",
        "sender": sender,
        "message": text,
        "timestamp": stamp,
        "conversation_history": kept,
        "id": message_id,
        "modem": modem,
        "recipient": recipient,
    }
    return _encode(payload)


def sms_status_body(
    *,
    sms_id: str,
    status: MessageStatus,
    recipient: str,
    at: datetime.datetime,
    parts: int,
    error: str | None = None,
) -> bytes:
    """Build the `sms_status` body for one logical message reaching `status` at `at`."""
    wire_status = REPORTED_STATUSES.get(status)
    if wire_status is None:
        raise ValueError(f"status {status.value!r} is internal and never sent to the webhook")
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    payload: SmsStatusPayload = {
        "type": "sms_status",
        "smsId": sms_id,
        "status": wire_status,
        "recipient": recipient,
        "timestamp": epoch_millis(at),
        "parts": parts,
        "error": error,
    }
    return _encode(payload)


def incoming_call_body(
    *, event_id: str, caller: str | None, modem: str, at: datetime.datetime, rings: int
) -> bytes:
    """Build the `incoming_call` body; `at` is when the call started ringing, `caller` None
    when the number was withheld."""
    payload: IncomingCallPayload = {
        "type": "incoming_call",
        "id": event_id,
        "caller": caller,
        "modem": modem,
        "timestamp": epoch_millis(at),
        "rings": rings,
    }
    return _encode(payload)


def modem_alert_body(
    *, event_id: str, modem: str, alert: str, detail: str, resolved: bool, at: datetime.datetime
) -> bytes:
    """Build the `modem_alert` body; `at` is when the alert started (or ended, resolved).

    `id` is the event's own id (the `Idempotency-Key`), different for the start and the end of
    one alert, so a receiver that de-duplicates on `id` still sees both."""
    payload: ModemAlertPayload = {
        "type": "modem_alert",
        "id": event_id,
        "modem": modem,
        "alert": alert,
        "detail": clean_text(detail),
        "resolved": resolved,
        "timestamp": epoch_millis(at),
    }
    return _encode(payload)


def _role(direction: Direction) -> Literal["in", "out"]:
    return "in" if direction is Direction.IN else "out"


class UnrecordableAnswer(ValueError):
    """A 2xx answer the gateway cannot act on or store: JSON nested too deeply to parse, or an
    `sms_text` no database or modem could take (a NUL character).

    Unlike an answer that simply has no reply (the event *was* delivered), this one is counted
    as a failed attempt: the event then ends by the normal rules (retried, dead-lettered at
    `max_age`) instead of being posted again every lease for ever while it holds back every
    later event of its sender.
    """


@dataclasses.dataclass(frozen=True, slots=True)
class ReplyDecision:
    """What the gateway does with a 2xx answer: send `text` back, or nothing (and why)."""

    text: str | None
    reason: str

    @property
    def replies(self) -> bool:
        return self.text is not None


_SNIPPET = 120


def read_reply(kind: WebhookEventKind, body: bytes) -> ReplyDecision:
    """Interpret a 2xx response body.

    Only `incoming_sms` and `incoming_call` answers can carry a reply; `{"sms_text": "..."}`
    (non-empty) is one.
    An empty body, non-JSON, JSON that is not an object, or a missing, empty or non-string
    `sms_text` means "no reply" — logged, never an error, because the event *was* delivered
    and retrying would not change the webhook's mind. Raises `UnrecordableAnswer` for an
    answer that cannot be recorded at all.
    """
    if not kind.can_reply:
        return ReplyDecision(None, f"{kind.value} events never trigger a reply")
    if not body.strip():
        return ReplyDecision(None, "empty response body")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return _ignored(f"response is not JSON: {_snippet(body)}")
    except RecursionError:
        raise UnrecordableAnswer("response JSON is nested too deeply to be read") from None
    if not isinstance(document, dict):
        return _ignored(f"response JSON is not an object: {_snippet(body)}")
    if "sms_text" not in document:
        return ReplyDecision(None, "response has no sms_text")
    text = document["sms_text"]
    if text is None:
        return ReplyDecision(None, "sms_text is null")
    if not isinstance(text, str):
        return _ignored(f"sms_text is {type(text).__name__}, not a string: {_snippet(body)}")
    if not text.strip():
        return ReplyDecision(None, "sms_text is empty")
    if "\x00" in text:
        raise UnrecordableAnswer("sms_text contains a NUL character, which cannot be stored")
    return ReplyDecision(clean_text(text), "sms_text present")


def _ignored(reason: str) -> ReplyDecision:
    logger.warning("webhook answer ignored, no reply sent: %s", reason)
    return ReplyDecision(None, reason)


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET].decode("utf-8", "replace")
    return repr(text) + ("..." if len(body) > _SNIPPET else "")
