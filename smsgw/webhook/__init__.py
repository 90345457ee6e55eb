"""The webhook side of the gateway: payloads, signing, retry policy and the outbox dispatcher.

The only package that imports httpx. It never imports the store, the modem layer or the
gateway: the durable outbox is reached through the `Outbox` Protocol, which the gateway
implements on top of the store.
"""

from smsgw.webhook.dispatcher import AttemptReport, DispatcherStats, WebhookDispatcher, utc_now
from smsgw.webhook.outbox import Outbox
from smsgw.webhook.payloads import (
    ConversationTurn,
    HistoryEntry,
    IncomingSmsPayload,
    ReplyDecision,
    SmsStatusPayload,
    UnrecordableAnswer,
    epoch_millis,
    incoming_call_body,
    incoming_sms_body,
    read_reply,
    sms_status_body,
)
from smsgw.webhook.retry import BackoffPolicy, Outcome, classify
from smsgw.webhook.settings import WebhookSettings
from smsgw.webhook.signing import SignatureError, check, request_headers, signature, verify

__all__ = [
    "AttemptReport",
    "BackoffPolicy",
    "ConversationTurn",
    "DispatcherStats",
    "HistoryEntry",
    "IncomingSmsPayload",
    "Outbox",
    "Outcome",
    "ReplyDecision",
    "SignatureError",
    "SmsStatusPayload",
    "UnrecordableAnswer",
    "WebhookDispatcher",
    "WebhookSettings",
    "check",
    "classify",
    "epoch_millis",
    "incoming_call_body",
    "incoming_sms_body",
    "read_reply",
    "request_headers",
    "signature",
    "sms_status_body",
    "utc_now",
    "verify",
]
