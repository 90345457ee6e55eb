"""Webhook bodies rendered inside the store's transactions (CONTRACT.md §2).

The store calls these while it commits a message or a status change, so the event body is
frozen together with the change it describes: a crash can lose neither, and every retry posts
the same bytes under the same `Idempotency-Key` (the event id).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from smsgw.models import MessageStatus
from smsgw.store.types import (
    HistoryItem,
    IncomingEventFactory,
    NewEvent,
    OpenAlert,
    ReceivedMessage,
    StatusTransition,
)
from smsgw.webhook.payloads import (
    REPORTED_STATUSES,
    ConversationTurn,
    incoming_sms_body,
    modem_alert_body,
    sms_status_body,
)


def incoming_renderer(
    history_size: int, recipient: Callable[[str], str | None] | None = None
) -> IncomingEventFactory:
    """An `IncomingEventFactory` building the `incoming_sms` body with `history_size` turns.

    The event id is the message id: stable across re-reads of the SIM, so the webhook can
    de-duplicate on `Idempotency-Key` and the API's message id is the payload's `id`.
    `recipient(modem name)` is the receiving SIM's own number (null in the payload when
    unknown); asked at render time, so a number learnt at modem start is used at once.
    """

    def render(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
        body = incoming_sms_body(
            message_id=message.id,
            sender=message.peer,
            message=message.text,
            received_at=message.smsc_timestamp,
            earlier=[ConversationTurn(item.direction, item.text, item.at) for item in earlier],
            history_size=history_size,
            modem=message.modem,
            recipient=recipient(message.modem) if recipient is not None else None,
        )
        return NewEvent(event_id=message.id, body=body)

    return render


def status_event_id(message_id: str, status: MessageStatus) -> str:
    """One event per message and status: the store skips an id it already has."""
    return f"{message_id}.{status.value}"


def render_status(transition: StatusTransition) -> NewEvent | None:
    """The `sms_status` event of a transition (None for internal states)."""
    if transition.status not in REPORTED_STATUSES:
        return None
    body = sms_status_body(
        sms_id=transition.message_id,
        status=transition.status,
        recipient=transition.peer,
        at=transition.at,
        parts=max(1, transition.parts),
        error=transition.error,
    )
    return NewEvent(event_id=status_event_id(transition.message_id, transition.status), body=body)


def alert_event_id(alert: OpenAlert, resolved: bool) -> str:
    """The start and the end of one alert occurrence: two events, two ids."""
    return f"{alert.id}.{'resolved' if resolved else 'raised'}"


def render_alert(alert: OpenAlert, resolved: bool, at: datetime.datetime, detail: str) -> NewEvent:
    """The `modem_alert` event of an alert starting (`resolved` False) or ending at `at`."""
    event_id = alert_event_id(alert, resolved)
    body = modem_alert_body(
        event_id=event_id,
        modem=alert.modem,
        alert=alert.alert,
        detail=detail,
        resolved=resolved,
        at=at,
    )
    return NewEvent(event_id=event_id, body=body)
