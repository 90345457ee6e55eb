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

from smsgw.mqtt.commands import SendCommand, SendRefused, SendResult, Submit, parse_send
from smsgw.mqtt.discovery import Discovery
from smsgw.mqtt.link import LinkDown, MqttLink, client_for, describe
from smsgw.mqtt.sink import MqttEventSink, OwedEvent, PendingEvents
from smsgw.mqtt.snapshot import ModemSnapshot
from smsgw.mqtt.status import MqttStatus
from smsgw.mqtt.topics import Topics

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
