"""MQTT: the broker link, events as a second durable sink, retained modem state, send
topics and Home Assistant discovery.

The only package that imports aiomqtt. Like the webhook package it never imports the store
or the modems: the gateway adapts them (`PendingEvents`, `ModemSnapshot`, `Submit`).

- `topics`: every topic name, from `mqtt.prefix`;
- `link`: one connection kept up (last will, capped reconnect backoff, availability);
- `sink`: owed events published and acknowledged (QoS 1) before they count as delivered;
- `snapshot`: the retained per-modem state JSON;
- `commands`: the send topics' requests (bounded, typed) and results;
- `discovery`: Home Assistant's device and entity configs;
- `status`: the link as health, metrics and the web inbox show it.
"""

import importlib
from typing import TYPE_CHECKING, Any

from smsgw.mqtt.commands import SendCommand, SendRefused, SendResult, Submit, parse_send
from smsgw.mqtt.discovery import Discovery
from smsgw.mqtt.snapshot import ModemSnapshot
from smsgw.mqtt.status import MqttStatus
from smsgw.mqtt.topics import Topics

if TYPE_CHECKING:
    from smsgw.mqtt.link import LinkDown, MqttLink, client_for, describe
    from smsgw.mqtt.sink import MqttEventSink, OwedEvent, PendingEvents

#: The names whose modules import aiomqtt (and paho), loaded on first use: a gateway without
#: `[mqtt]` reads `MqttStatus` (health, inbox) but must not carry the client's ~4 MB.
_NEEDS_CLIENT = {
    "LinkDown": "link",
    "MqttLink": "link",
    "client_for": "link",
    "describe": "link",
    "MqttEventSink": "sink",
    "OwedEvent": "sink",
    "PendingEvents": "sink",
}


def __getattr__(name: str) -> Any:
    module = _NEEDS_CLIENT.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"smsgw.mqtt.{module}"), name)


__all__ = [
    "Discovery",
    "LinkDown",
    "ModemSnapshot",
    "MqttEventSink",
    "MqttLink",
    "MqttStatus",
    "OwedEvent",
    "PendingEvents",
    "SendCommand",
    "SendRefused",
    "SendResult",
    "Submit",
    "Topics",
    "client_for",
    "describe",
    "parse_send",
]
