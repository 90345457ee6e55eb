"""`smsgw webhook test`: post one sample event exactly as the dispatcher would, and explain
what the gateway would do with the answer, without touching the outbox."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import httpx

from smsgw.config import format_duration
from smsgw.models import Direction, WebhookEventKind
from smsgw.webhook.payloads import ConversationTurn, ReplyDecision, incoming_sms_body, read_reply
from smsgw.webhook.retry import Outcome, classify
from smsgw.webhook.settings import WebhookSettings
from smsgw.webhook.transport import Attempt, post_event


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeResult:
    """The request sent, the answer received, and the gateway's verdict on it."""

    body: bytes
    attempt: Attempt
    outcome: Outcome
    decision: ReplyDecision | None
    verdict: str


def sample_incoming_sms(
    *, sender: str, message: str, now: datetime.datetime, history_size: int = 10
) -> bytes:
    """A realistic `incoming_sms` body: one earlier outgoing message, then `message`."""
    earlier = [
        ConversationTurn(
            Direction.OUT, "Your order #1234 has shipped!", now - datetime.timedelta(minutes=17)
        )
    ]
    return incoming_sms_body(
        message_id=f"test-{uuid.uuid4().hex[:12]}",
        sender=sender,
        message=message,
        received_at=now,
        earlier=earlier,
        history_size=history_size,
        modem="test",
        recipient=None,
    )


async def probe(
    settings: WebhookSettings,
    *,
    sender: str = "+40721000000",
    message: str = "help",
    client: httpx.AsyncClient | None = None,
    now: datetime.datetime | None = None,
) -> ProbeResult:
    """POST one sample `incoming_sms` with the real headers and interpret the answer."""
    moment = now or datetime.datetime.now(datetime.UTC)
    body = sample_incoming_sms(sender=sender, message=message, now=moment)
    event_id = f"test-{uuid.uuid4()}"
    if client is None:
        async with httpx.AsyncClient() as own:
            attempt = await post_event(
                own, settings, body=body, event_id=event_id, timestamp=int(moment.timestamp())
            )
    else:
        attempt = await post_event(
            client, settings, body=body, event_id=event_id, timestamp=int(moment.timestamp())
        )
    outcome = classify(attempt.http_status)
    decision: ReplyDecision | None = None
    if outcome is Outcome.DELIVERED:
        decision = (
            ReplyDecision(None, "response too long, not read")
            if attempt.truncated
            else read_reply(WebhookEventKind.INCOMING_SMS, attempt.body)
        )
        verdict = (
            f"delivered; would send the reply {decision.text!r} to {sender}"
            if decision.text is not None
            else f"delivered; no reply ({decision.reason})"
        )
    elif outcome is Outcome.DROPPED:
        verdict = "410 Gone: the event would be dropped, not retried"
    else:
        verdict = (
            f"failed ({attempt.describe()}): would retry with backoff for up to "
            f"{format_duration(settings.max_age)}, then dead-letter"
        )
        if attempt.http_status in (401, 403):
            verdict += (
                "; no secret is configured (webhook.secret), so no X-API-Key was sent"
                if not settings.secret
                else "; check that webhook.secret matches the key the server expects"
            )
    return ProbeResult(body, attempt, outcome, decision, verdict)
