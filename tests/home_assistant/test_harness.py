"""The harness itself: a real Home Assistant, onboarded, with MQTT on the test broker.

Discovery messages shaped like the contract's (one device with identifiers from the IMEI, a
signal sensor, a connectivity binary sensor, an incoming-SMS event entity and a notify entity,
all behind the node's availability topic) are published by Debian's `mosquitto_pub`, a client
that is not smsgw. If this test fails, the end-to-end test against the product cannot tell
Home Assistant's behaviour from smsgw's; if it passes, these shapes are known to work with the
pinned Home Assistant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.home_assistant import clients
from tests.home_assistant.server import HomeAssistant
from tests.mqtt.broker import Broker

pytestmark = pytest.mark.timeout(600)

IMEI = "860000000000099"
AVAILABILITY = "harness/node/availability"
STATE = "harness/gsm9/state"
EVENTS = "harness/gsm9/event/incoming_sms"
SEND = "harness/gsm9/send"
DEVICE = {
    "identifiers": [f"harness_{IMEI}"],
    "name": "Harness modem",
    "manufacturer": "SIMCOM",
    "model": "SIM800",
    "sw_version": "1418B05SIM800L24",
}


def _config(name: str, key: str, **fields: Any) -> str:
    return json.dumps(
        {"name": name, "unique_id": f"harness_{IMEI}_{key}", "device": DEVICE,
         "availability_topic": AVAILABILITY, **fields}
    )  # fmt: skip


DISCOVERY = {
    "homeassistant/sensor/harness_gsm9/signal/config": _config(
        "Signal", "signal", state_topic=STATE, value_template="{{ value_json.signal_dbm }}",
        device_class="signal_strength", unit_of_measurement="dBm", state_class="measurement",
    ),
    "homeassistant/binary_sensor/harness_gsm9/ready/config": _config(
        "Connected", "ready", state_topic=STATE, device_class="connectivity",
        value_template="{{ 'ON' if value_json.state == 'ready' else 'OFF' }}",
    ),
    "homeassistant/event/harness_gsm9/incoming_sms/config": _config(
        "Incoming SMS", "incoming_sms", state_topic=EVENTS, event_types=["incoming_sms"],
        value_template="{{ {'event_type': value_json.type, 'sender': value_json.sender,"
        " 'message': value_json.message} | tojson }}",
    ),
    "homeassistant/notify/harness_gsm9/sms/config": _config(
        "SMS", "sms", command_topic=SEND,
        command_template="{{ {'to': '+40700000099', 'text': value} | tojson }}",
    ),
}  # fmt: skip

ENTITIES = {
    "sensor": "sensor.harness_modem_signal",
    "binary_sensor": "binary_sensor.harness_modem_connected",
    "event": "event.harness_modem_incoming_sms",
    "notify": "notify.harness_modem_sms",
}


@pytest.fixture
def published(broker: Broker) -> Any:
    if (reason := clients.missing()) is not None:
        pytest.skip(reason)
    clients.publish(broker.port, AVAILABILITY, "online", retain=True)
    for topic, payload in DISCOVERY.items():
        clients.publish(broker.port, topic, payload, retain=True)
    clients.publish(
        broker.port, STATE, json.dumps({"state": "ready", "signal_dbm": -71}), retain=True
    )
    yield
    for topic in DISCOVERY:
        clients.publish(broker.port, topic, "", retain=True)
    clients.publish(broker.port, STATE, "", retain=True)
    clients.publish(broker.port, AVAILABILITY, "", retain=True)


def test_discovery_makes_one_device_whose_entities_follow_the_topics(
    home_assistant: HomeAssistant, broker: Broker, published: None
) -> None:
    hass = home_assistant
    # Discovery, availability and state arrive in any order: wait for all three to settle.
    hass.wait_for(lambda: _state_of(hass, ENTITIES["sensor"]) == "-71", 30, "the signal sensor")
    signal = hass.state(ENTITIES["sensor"])
    assert signal is not None
    assert signal["attributes"]["device_class"] == "signal_strength"
    assert signal["attributes"]["unit_of_measurement"] == "dBm"
    device = hass.device_of(ENTITIES["sensor"])
    assert device is not None
    assert device["identifiers"] == [["mqtt", f"harness_{IMEI}"]]
    assert (device["manufacturer"], device["model"]) == ("SIMCOM", "SIM800")
    assert sorted(device["entities"]) == sorted(ENTITIES.values())
    hass.wait_for(
        lambda: _state_of(hass, ENTITIES["binary_sensor"]) == "on", 30, "the connectivity sensor"
    )
    connected = hass.state(ENTITIES["binary_sensor"])
    assert connected is not None
    assert connected["attributes"]["device_class"] == "connectivity"

    # The availability topic going offline makes every entity unavailable, as a lost gateway
    # (its last will) should.
    clients.publish(broker.port, AVAILABILITY, "offline", retain=True)
    hass.wait_for(
        lambda: all(
            (state := hass.state(entity)) is not None and state["state"] == "unavailable"
            for entity in ENTITIES.values()
        ),
        30,
        "every entity to become unavailable",
    )
    clients.publish(broker.port, AVAILABILITY, "online", retain=True)
    hass.wait_for(
        lambda: _state_of(hass, ENTITIES["sensor"]) == "-71", 30, "the sensor to come back"
    )


def test_an_event_message_fires_the_event_entity_and_notify_publishes_a_send(
    home_assistant: HomeAssistant, broker: Broker, published: None
) -> None:
    hass = home_assistant
    hass.wait_for(lambda: hass.state(ENTITIES["event"]), 30, "the event entity")
    event = {"type": "incoming_sms", "sender": "+40722000111", "message": "hello house",
             "timestamp": 1707400000000, "id": "evt-1", "modem": "gsm9", "recipient": None,
             "conversation_history": []}  # fmt: skip
    clients.publish(broker.port, EVENTS, json.dumps(event))
    hass.wait_for(
        lambda: _attribute(hass, ENTITIES["event"], "event_type"), 30, "the event entity to fire"
    )
    fired = hass.state(ENTITIES["event"])
    assert fired is not None
    assert fired["attributes"]["event_type"] == "incoming_sms"
    assert fired["attributes"]["sender"] == "+40722000111"
    assert fired["attributes"]["message"] == "hello house"

    subscriber = clients.subscribe(broker.port, SEND)
    try:
        hass.call("notify", "send_message", {"entity_id": ENTITIES["notify"], "message": "gate"})
        assert subscriber.stdout is not None
        line = clients.PROBE
        while line.strip() == clients.PROBE:
            line = subscriber.stdout.readline()
    finally:
        subscriber.terminate()
        subscriber.wait()
    assert json.loads(line) == {"to": "+40700000099", "text": "gate"}


def test_an_empty_retained_config_removes_the_entity(
    home_assistant: HomeAssistant, broker: Broker, published: None
) -> None:
    hass = home_assistant
    hass.wait_for(lambda: hass.state(ENTITIES["notify"]), 30, "the notify entity")
    clients.publish(broker.port, "homeassistant/notify/harness_gsm9/sms/config", "", retain=True)
    hass.wait_for(lambda: hass.state(ENTITIES["notify"]) is None, 30, "the entity to go")
    device = hass.device_of(ENTITIES["sensor"])
    assert device is not None
    assert ENTITIES["notify"] not in device["entities"]


def _state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.state(entity_id)
    return None if state is None else str(state["state"])


def _attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.state(entity_id)
    return None if state is None else state["attributes"].get(name)
