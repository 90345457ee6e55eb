"""Home Assistant discovery payloads and the config section (pure)."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr, ValidationError

from smsgw.config import MqttSection, Settings, masked
from smsgw.mqtt import Discovery, ModemSnapshot, Topics

SNAPSHOT = ModemSnapshot(
    name="sim0", state="ready", manufacturer="SIMCOM", model="SIM800", revision="R14",
    imei="861234567890123",
)  # fmt: skip


def _configs(notify: bool = True) -> dict[str, dict[str, object]]:
    discovery = Discovery(Topics("smsgw", "pi-1"), "homeassistant", notify_enabled=notify)
    return {topic: json.loads(body) for topic, body in discovery.messages(SNAPSHOT)}


def test_every_entity_has_a_unique_id_availability_and_the_imei_device() -> None:
    configs = _configs()
    assert len(configs) == 9
    for config in configs.values():
        assert config["availability"] == [{"topic": "smsgw/pi-1/availability"}]
        assert config["device"] == {
            "identifiers": ["smsgw_861234567890123"], "name": "SMS gateway sim0",
            "manufacturer": "SIMCOM", "model": "SIM800", "sw_version": "R14",
            "serial_number": "861234567890123",
        }  # fmt: skip
    assert len({config["unique_id"] for config in configs.values()}) == 9


def test_topics_are_what_the_configuration_alone_predicts() -> None:
    discovery = Discovery(Topics("smsgw", "pi-1"), "homeassistant", notify_enabled=True)
    assert sorted(discovery.topics_for("sim0")) == sorted(_configs())
    stale = discovery.stale(
        [*discovery.topics_for("sim0"), "homeassistant/sensor/smsgw_pi-1/gone_signal/config"],
        ["sim0"],
    )
    assert stale == ["homeassistant/sensor/smsgw_pi-1/gone_signal/config"]
    assert discovery.ours == "homeassistant/+/smsgw_pi-1/+/config"


def test_without_a_default_recipient_there_is_no_notify_entity() -> None:
    assert not any("/notify/" in topic for topic in _configs(notify=False))


def test_the_state_topics_and_the_event_entity() -> None:
    configs = _configs()
    signal = configs["homeassistant/sensor/smsgw_pi-1/sim0_signal/config"]
    assert (signal["device_class"], signal["unit_of_measurement"]) == ("signal_strength", "dBm")
    assert signal["state_topic"] == "smsgw/sim0/state"
    event = configs["homeassistant/event/smsgw_pi-1/sim0_incoming/config"]
    assert event["state_topic"] == "smsgw/sim0/event/+"
    assert event["event_types"] == ["incoming_sms", "incoming_call"]
    notify = configs["homeassistant/notify/smsgw_pi-1/sim0_send/config"]
    assert notify["command_topic"] == "smsgw/sim0/notify"


def test_state_payload_fields_and_null_balance() -> None:
    state = json.loads(SNAPSHOT.state_payload())
    assert state["balance"] is None
    assert state["state"] == "ready"


def test_section_urls_credentials_and_masking() -> None:
    section = MqttSection(url="mqtts://u%40x:p%3Aw@broker.lan")
    assert (section.tls, section.host, section.port) == (True, "broker.lan", 8883)
    assert section.credentials() == ("u@x", "p:w")
    assert MqttSection(url="mqtt://h", password=SecretStr("env-pw")).credentials() == (
        None,
        "env-pw",
    )
    assert section.client_id_for("pi-1") == "smsgw-pi-1"
    shown = masked(
        Settings.model_validate({"mqtt": {"url": "mqtt://gw:topsecret@h:1884", "password": "x"}})
    )
    assert "topsecret" not in json.dumps(shown)
    assert shown["mqtt"]["url"] == "mqtt://gw:********@h:1884"
    assert shown["mqtt"]["password"] == "********"


@pytest.mark.parametrize(
    "values",
    [
        {"url": "http://h"},
        {"url": "mqtt://"},
        {"url": "mqtt://h/topic"},
        {"url": "mqtt://h", "prefix": "a/+/b"},
        {"url": "mqtt://h", "qos": 3},
        {"url": "mqtt://h", "client_id": "has space"},
    ],
)
def test_bad_sections_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MqttSection.model_validate(values)
