"""Home Assistant MQTT discovery: one device per modem and its entities (pure).

Topics are `<discovery_prefix>/<component>/smsgw_<node>/<modem>_<entity>/config`: the node
level marks them as this gateway's, so at start the gateway can read back what it published
before and clear (empty retained payload) the entities of modems no longer configured.
Topic names depend only on the configuration; the IMEI (the device identifier) is read from
the modem, so a modem's discovery is published once the modem has told it.

Numeric templates render `None` for a null value, which Home Assistant shows as "unknown"
(the balance stays null until it is first read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from smsgw import __version__
from smsgw.mqtt.snapshot import ModemSnapshot
from smsgw.mqtt.topics import Topics

_NOT_ID = re.compile(r"[^A-Za-z0-9_-]")

#: The event types of the event entity (the webhook's `type`).
EVENT_TYPES = ("incoming_sms", "incoming_call")


def _id(text: str) -> str:
    return _NOT_ID.sub("_", text)


def _nullable(field: str) -> str:
    return f"{{{{ value_json.{field} if value_json.{field} is not none else 'None' }}}}"


#: (component, entity key, fields beyond the common ones) for every modem.
_SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "sensor",
        "signal",
        {
            "name": "Signal",
            "device_class": "signal_strength",
            "unit_of_measurement": "dBm",
            "state_class": "measurement",
            "entity_category": "diagnostic",
            "value_template": _nullable("signal_dbm"),
        },
    ),
    ("sensor", "operator", {"name": "Operator", "value_template": _nullable("operator")}),
    (
        "sensor",
        "registration",
        {
            "name": "Registration",
            "entity_category": "diagnostic",
            "value_template": _nullable("registration"),
        },
    ),
    (
        "sensor",
        "storage",
        {
            "name": "SIM storage used",
            "unit_of_measurement": "SMS",
            "state_class": "measurement",
            "entity_category": "diagnostic",
            "value_template": _nullable("storage_used"),
            "json_attributes_topic": None,  # filled with the state topic
            "json_attributes_template": "{{ {'storage_total': value_json.storage_total}"
            " | tojson }}",
        },
    ),
    (
        "sensor",
        "sent_today",
        {
            "name": "Sent today",
            "unit_of_measurement": "SMS",
            "state_class": "total_increasing",
            "value_template": _nullable("sent_today"),
        },
    ),
    (
        "sensor",
        "balance",
        {
            "name": "Balance",
            "state_class": "measurement",
            "value_template": "{{ value_json.balance.amount if value_json.balance is mapping"
            " and value_json.balance.amount is not none else 'None' }}",
        },
    ),
    (
        "binary_sensor",
        "ready",
        {
            "name": "Ready",
            "device_class": "connectivity",
            "payload_on": "ON",
            "payload_off": "OFF",
            "value_template": "{{ 'ON' if value_json.state == 'ready' else 'OFF' }}",
        },
    ),
)


class Discovery:
    """The discovery messages of this node's modems."""

    def __init__(self, topics: Topics, discovery_prefix: str, *, notify_enabled: bool) -> None:
        self._topics = topics
        self._prefix = discovery_prefix
        self._notify = notify_enabled
        self._node_id = f"smsgw_{_id(topics.node)}"

    @property
    def ours(self) -> str:
        """The filter matching every discovery topic this node may have published."""
        return f"{self._prefix}/+/{self._node_id}/+/config"

    def _topic(self, component: str, modem: str, key: str) -> str:
        return f"{self._prefix}/{component}/{self._node_id}/{_id(modem)}_{key}/config"

    def topics_for(self, modem: str) -> list[str]:
        keys = [(component, key) for component, key, _ in _SENSORS]
        keys.append(("event", "incoming"))
        if self._notify:
            keys.append(("notify", "send"))
        return [self._topic(component, modem, key) for component, key in keys]

    def stale(self, retained: Iterable[str], modems: Iterable[str]) -> list[str]:
        """Retained discovery topics of ours that no configured modem publishes any more."""
        wanted = {topic for modem in modems for topic in self.topics_for(modem)}
        return sorted(set(retained) - wanted)

    def messages(self, modem: ModemSnapshot) -> list[tuple[str, bytes]]:
        """(topic, retained JSON) for every entity of `modem`."""
        base_id = f"smsgw_{_id(modem.imei or f'{self._topics.node}_{modem.name}')}"
        device: dict[str, Any] = {
            "identifiers": [base_id],
            "name": f"SMS gateway {modem.name}",
            "manufacturer": modem.manufacturer or "unknown",
            "model": modem.model or "GSM modem",
            "sw_version": modem.revision or "unknown",
        }
        if modem.imei:
            device["serial_number"] = modem.imei
        common = {
            "device": device,
            "origin": {"name": "smsgw", "sw_version": __version__},
            "availability": [{"topic": self._topics.availability}],
        }
        state_topic = self._topics.state(modem.name)
        out: list[tuple[str, bytes]] = []
        for component, key, fields in _SENSORS:
            config = {**common, **fields, "unique_id": f"{base_id}_{key}"}
            config["state_topic"] = state_topic
            if "json_attributes_topic" in config:
                config["json_attributes_topic"] = state_topic
            out.append((self._topic(component, modem.name, key), _json(config)))
        types = ", ".join(f"'{kind}'" for kind in EVENT_TYPES)
        event = {
            **common,
            "name": "Incoming",
            "unique_id": f"{base_id}_incoming",
            "state_topic": self._topics.event_filter(modem.name),
            "event_types": list(EVENT_TYPES),
            # Other events on the same filter (sms_status, alerts) render empty, which Home
            # Assistant ignores; incoming ones become {"event_type": ..., details...}.
            "value_template": f"{{% if value_json.type in [{types}] %}}"
            "{{ {'event_type': value_json.type, 'sender': value_json.sender"
            " if value_json.sender is defined else value_json.caller, 'message':"
            " value_json.message if value_json.message is defined else none, 'id':"
            " value_json.id, 'modem': value_json.modem} | tojson }}{% endif %}",
        }
        out.append((self._topic("event", modem.name, "incoming"), _json(event)))
        if self._notify:
            notify = {
                **common,
                "name": "Send SMS",
                "unique_id": f"{base_id}_send",
                "command_topic": self._topics.notify(modem.name),
            }
            out.append((self._topic("notify", modem.name, "send"), _json(notify)))
        return out


def _json(config: dict[str, Any]) -> bytes:
    return json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
