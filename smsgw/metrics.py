"""Prometheus metrics: one dedicated registry, updated by the gateway, rendered by the API.

A leaf module (imports only prometheus_client) so that every layer may update a metric
without importing the API, and so that tests and several in-process daemons never collide
with prometheus_client's global default registry.

Label values are bounded on purpose (modem names, statuses, event kinds, AT command
names without arguments): never put phone numbers or message ids in a label.
"""

from __future__ import annotations

import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)
from prometheus_client.exposition import generate_latest

__all__ = [
    "API_REQUESTS",
    "AT_COMMAND_ERRORS",
    "AT_COMMAND_SECONDS",
    "CONTENT_TYPE",
    "INBOUND_QUARANTINED",
    "MESSAGES_IN",
    "MESSAGES_OUT",
    "MODEM_ALERT",
    "MODEM_BALANCE",
    "MODEM_SIGNAL_DBM",
    "MODEM_STATE",
    "MQTT_CONNECTED",
    "MQTT_FAILURES",
    "MQTT_LATENCY",
    "MQTT_PENDING",
    "MQTT_PUBLISHED",
    "OUTBOX_EVENTS",
    "OUTGOING_QUEUE",
    "REGISTRY",
    "WEBHOOK_ATTEMPTS",
    "WEBHOOK_FAILURES",
    "WEBHOOK_LATENCY",
    "render",
    "set_modem_state",
]

REGISTRY = CollectorRegistry(auto_describe=True)
# process_* (CPU, resident memory, open fds, start time): what a Pi operator checks first.
ProcessCollector(registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST

MESSAGES_IN = Counter(
    "smsgw_messages_in",
    "Incoming messages stored (reassembled, one per logical message).",
    ["modem"],
    registry=REGISTRY,
)
INBOUND_QUARANTINED = Counter(
    "smsgw_inbound_quarantined",
    "Inbound SMS that could not be decoded, set aside in the quarantine and deleted from the "
    "modem (a re-read of one already quarantined is not counted again).",
    ["modem"],
    registry=REGISTRY,
)
OPTOUT_REFUSALS = Counter(
    "smsgw_optout_refusals",
    "Sends refused because the recipient is on the opt-out list, by path: api (any client "
    "send: API, inbox, MQTT) or reply (a webhook auto-reply).",
    ["path"],
    registry=REGISTRY,
)
OPTOUT_KEYWORDS = Counter(
    "smsgw_optout_keywords",
    "Opt-out keywords received, by action: stop or start.",
    ["action"],
    registry=REGISTRY,
)

MESSAGES_OUT = Counter(
    "smsgw_messages_out",
    "Outgoing messages by status reached: queued, sent, delivered, failed, expired.",
    ["modem", "status"],
    registry=REGISTRY,
)
OUTGOING_QUEUE = Gauge(
    "smsgw_outgoing_queue_depth",
    "Outgoing messages waiting to be sent, per modem ('any' = no modem chosen).",
    ["modem"],
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "smsgw_webhook_attempts",
    "Webhook POSTs made, by event type (incoming_sms, sms_status).",
    ["kind"],
    registry=REGISTRY,
)
WEBHOOK_FAILURES = Counter(
    "smsgw_webhook_failures",
    "Webhook POSTs that did not succeed, by event type and reason "
    "(timeout, connect, http_<code>, ...).",
    ["kind", "reason"],
    registry=REGISTRY,
)
WEBHOOK_LATENCY = Histogram(
    "smsgw_webhook_latency_seconds",
    "Time from sending a webhook POST to its full response.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
OUTBOX_EVENTS = Gauge(
    "smsgw_outbox_events",
    "Webhook events in the durable outbox, by state (pending, delivered, dead, dropped).",
    ["state"],
    registry=REGISTRY,
)
MQTT_CONNECTED = Gauge(
    "smsgw_mqtt_connected", "1 while connected to the MQTT broker.", registry=REGISTRY
)
MQTT_PUBLISHED = Counter(
    "smsgw_mqtt_published",
    "Events the MQTT broker acknowledged, by event type.",
    ["kind"],
    registry=REGISTRY,
)
MQTT_FAILURES = Counter(
    "smsgw_mqtt_failures",
    "MQTT event publishes not acknowledged (kept and published again later), and failed "
    "connection attempts.",
    ["what"],
    registry=REGISTRY,
)
MQTT_PENDING = Gauge(
    "smsgw_mqtt_pending_events",
    "Events the MQTT broker has not acknowledged yet (the MQTT sink's durable backlog).",
    registry=REGISTRY,
)
MQTT_LATENCY = Histogram(
    "smsgw_mqtt_event_latency_seconds",
    "Time from an event's creation to the broker's acknowledgement of its publish.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 60.0, 600.0, 3600.0),
    registry=REGISTRY,
)
MODEM_STATE = Gauge(
    "smsgw_modem_state",
    "1 for the state each modem is in now, 0 for the states it was in before.",
    ["modem", "state"],
    registry=REGISTRY,
)
MODEM_SIGNAL_DBM = Gauge(
    "smsgw_modem_signal_dbm",
    "Received signal strength reported by the modem (AT+CSQ), in dBm.",
    ["modem"],
    registry=REGISTRY,
)
MODEM_ALERT = Gauge(
    "smsgw_modem_alert",
    "1 while the modem alert is open (offline, not_registered, no_signal, sim_error, "
    "storage_full, balance_low), 0 once resolved.",
    ["modem", "alert"],
    registry=REGISTRY,
)
MODEM_BALANCE = Gauge(
    "smsgw_modem_balance",
    "Prepaid balance last read by USSD (balance_ussd), in the SIM's currency.",
    ["modem"],
    registry=REGISTRY,
)
AT_COMMAND_SECONDS = Histogram(
    "smsgw_at_command_seconds",
    "AT command round-trip time, by modem and command name (no arguments).",
    ["modem", "command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0),
    registry=REGISTRY,
)
AT_COMMAND_ERRORS = Counter(
    "smsgw_at_command_errors",
    "AT commands that ended in an error, by modem, command name and error kind "
    "(timeout, cme, cms, error, connection_lost).",
    ["modem", "command", "error"],
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "smsgw_api_requests",
    "REST API requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)

_modem_states: dict[str, str] = {}
_modem_states_lock = threading.Lock()


def set_modem_state(modem: str, state: str) -> None:
    """Mark `state` as the current state of `modem` (1) and its previous one as 0.

    A gauge per (modem, state) lets dashboards show "which modems are READY" with a plain
    sum, which prometheus_client's Enum cannot do without knowing every state up front.
    """
    with _modem_states_lock:
        previous = _modem_states.get(modem)
        if previous is not None and previous != state:
            MODEM_STATE.labels(modem=modem, state=previous).set(0)
        MODEM_STATE.labels(modem=modem, state=state).set(1)
        _modem_states[modem] = state


def render() -> bytes:
    """The whole registry in the Prometheus text exposition format (`CONTENT_TYPE`)."""
    return generate_latest(REGISTRY)
