"""smsgw and a real Home Assistant, end to end, through a real Mosquitto broker.

`smsgw run` (a child process, MQTT only: no webhook) reads an emulated SIM800 on a pty. Home
Assistant's MQTT integration on the same broker must find the modem as a device through
smsgw's discovery messages, see an incoming SMS fire the event entity, and send an SMS when
its notify entity is called. Every check goes through Home Assistant's REST or websocket API,
the emulator's control socket (what the modem received with AT+CMGS) or smsgw's REST API.
The automations of docs/home-assistant.md are loaded verbatim, so the documentation is tested
as written.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsgw.emulator.profiles import get_profile
from tests.home_assistant.gateway import Emulator, Gateway, wait_until
from tests.home_assistant.server import OWNER, OWNER_PASSWORD, HomeAssistant
from tests.mqtt.broker import Broker
from tests.ui.browser import SCREENSHOTS, chromium, screenshots_wanted

pytestmark = pytest.mark.timeout(600)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "home-assistant.md"
MODEM = "gsm1"
SIM800 = get_profile("sim800")
DEFAULT_RECIPIENT = "+40700000001"
ALICE = "+40722000111"
#: What the emulated network answers the balance code: under the guide's threshold of 5.
BALANCE_ANSWER = "Credit: 3.50 EUR, valid until 31.12"
#: The entity ids the documentation uses for a modem named gsm1.
DOCUMENTED = {
    "ready": "binary_sensor.sms_gateway_gsm1_ready",
    "signal": "sensor.sms_gateway_gsm1_signal",
    "operator": "sensor.sms_gateway_gsm1_operator",
    "registration": "sensor.sms_gateway_gsm1_registration",
    "storage": "sensor.sms_gateway_gsm1_sim_storage_used",
    "sent_today": "sensor.sms_gateway_gsm1_sent_today",
    "balance": "sensor.sms_gateway_gsm1_balance",
    "incoming": "event.sms_gateway_gsm1_incoming",
    "send": "notify.sms_gateway_gsm1_send_sms",
}


@pytest.fixture(scope="module")
def gateway(
    home_assistant: HomeAssistant, broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Emulator, Gateway]]:
    directory = tmp_path_factory.mktemp("smsgw")
    emulator = Emulator(directory, MODEM, own_number="+40700000999", ussd={"*133#": BALANCE_ANSWER})
    gateway = Gateway(
        directory,
        {MODEM: emulator.link},
        {"url": broker.url(), "default_recipient": DEFAULT_RECIPIENT},
        {"balance_ussd": "*133#"},
    )
    # The guide's automations are in place before smsgw starts, as on a running home: the
    # low-balance one must see the balance arrive (smsgw checks it as soon as the modem is up).
    home_assistant.load_automations(_documented_automations())
    try:
        emulator.start()
        gateway.start()
        yield emulator, gateway
    finally:
        gateway.stop()
        emulator.stop()


def _device(hass: HomeAssistant) -> dict[str, Any]:
    """Home Assistant's device for the modem, found by the IMEI in its identifiers, once it has
    every documented entity (discovery configs arrive one by one, the signal sensor first)."""

    def complete() -> dict[str, Any] | None:
        if hass.state(DOCUMENTED["signal"]) is None:
            return None
        device = hass.device_of(DOCUMENTED["signal"])
        if device is None or SIM800.imei not in str(device["identifiers"]):
            return None
        return device if set(DOCUMENTED.values()) <= set(device["entities"]) else None

    return hass.wait_for(
        complete, 60, f"a device with the IMEI {SIM800.imei} and entities {DOCUMENTED}"
    )


def _attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.state(entity_id)
    return None if state is None else state["attributes"].get(name)


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.state(entity_id)
    return None if state is None else str(state["state"])


def test_home_assistant_discovers_the_modem_as_a_device_with_its_entities(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    hass = home_assistant
    device = _device(hass)
    assert device["name"] == f"SMS gateway {MODEM}"
    assert device["model"] == SIM800.model
    assert SIM800.manufacturer.split("_")[0] in device["manufacturer"]
    assert device["sw_version"] == SIM800.revision.removeprefix("Revision:")  # AT+CGMR's answer

    hass.wait_for(
        lambda: all(_state(hass, entity) != "unavailable" for entity in DOCUMENTED.values()),
        60,
        "every entity available",
    )
    hass.wait_for(lambda: _state(hass, DOCUMENTED["ready"]) == "on", 60, "the modem ready")
    ready = hass.state(DOCUMENTED["ready"])
    assert ready is not None
    assert ready["attributes"]["device_class"] == "connectivity"
    hass.wait_for(
        lambda: (_state(hass, DOCUMENTED["signal"]) or "x").lstrip("-").isdigit(), 60, "a signal"
    )
    signal = hass.state(DOCUMENTED["signal"])
    assert signal is not None
    assert signal["attributes"]["device_class"] == "signal_strength"
    assert signal["attributes"]["unit_of_measurement"] == "dBm"
    assert -113 <= int(signal["state"]) <= -51
    hass.wait_for(
        lambda: _state(hass, DOCUMENTED["operator"]) not in (None, "unknown", "unavailable"),
        60,
        "the operator",
    )
    assert _attribute(hass, DOCUMENTED["incoming"], "event_types") == [
        "incoming_sms",
        "incoming_call",
    ]
    assert _state(hass, DOCUMENTED["send"]) is not None


def test_an_incoming_sms_fires_the_event_entity(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    hass = home_assistant
    emulator, _ = gateway
    _device(hass)
    hass.wait_for(lambda: _state(hass, DOCUMENTED["ready"]) == "on", 60, "the modem ready")
    before = hass.state(DOCUMENTED["incoming"])
    assert before is not None

    emulator.deliver("+40733000555", "Is the gate open?")
    hass.wait_for(
        lambda: _attribute(hass, DOCUMENTED["incoming"], "message") == "Is the gate open?",
        60,
        "the event entity to fire",
    )
    fired = hass.state(DOCUMENTED["incoming"])
    assert fired is not None
    assert fired["state"] != before["state"]  # the state is the time it last fired
    assert fired["attributes"]["event_type"] == "incoming_sms"
    assert fired["attributes"]["sender"] == "+40733000555"
    assert fired["attributes"]["modem"] == MODEM


def test_the_notify_entity_sends_an_sms_to_the_default_recipient(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    hass = home_assistant
    emulator, smsgw = gateway
    _device(hass)
    hass.wait_for(
        lambda: _state(hass, DOCUMENTED["send"]) not in (None, "unavailable"), 60, "notify"
    )
    text = "Gate opened at 18:02"

    hass.call("notify", "send_message", {"entity_id": DOCUMENTED["send"], "message": text})
    sent = wait_until(
        lambda: [m for m in emulator.sent() if m["text"] == text], 60, "AT+CMGS with the text"
    )
    assert [message["recipient"] for message in sent] == [DEFAULT_RECIPIENT]
    outgoing = wait_until(
        lambda: [m for m in smsgw.messages() if m["direction"] == "out" and m["text"] == text],
        30,
        "the message in smsgw's history",
    )
    assert outgoing[0]["peer"] == DEFAULT_RECIPIENT
    wait_until(
        lambda: (
            next(m for m in smsgw.messages() if m["text"] == text)["status"]
            in ("sent", "delivered")
        ),
        30,
        "the message sent",
    )
    # The modem's retained state carries the day's count; the contract allows it to lag a
    # change by up to its 60 s refresh.
    hass.wait_for(
        lambda: (
            (_state(hass, DOCUMENTED["sent_today"]) or "0").isdigit()
            and int(_state(hass, DOCUMENTED["sent_today"]) or 0) >= 1
        ),
        70,
        "the sent-today sensor to count the SMS",
    )


def test_mqtt_publish_from_home_assistant_texts_any_number_once_per_id(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    """The guide's way to text someone other than default_recipient: `mqtt.publish` to the
    send topic. Published twice with the same `id` (a retried action), it sends once."""
    hass = home_assistant
    emulator, _ = gateway
    _device(hass)
    hass.wait_for(lambda: _state(hass, DOCUMENTED["ready"]) == "on", 60, "the modem ready")
    payload = json.dumps({"to": "+40733000222", "text": "ALARM at home", "id": "alarm-1"})
    for _ in range(2):
        hass.call("mqtt", "publish", {"topic": "smsgw/send", "payload": payload})
    wait_until(
        lambda: [m for m in emulator.sent() if m["recipient"] == "+40733000222"], 60, "the SMS"
    )
    time.sleep(2)  # room for a second, wrong, send to show up
    sent = [m for m in emulator.sent() if m["recipient"] == "+40733000222"]
    assert [message["text"] for message in sent] == ["ALARM at home"]


def _documented_automations() -> str:
    """The YAML automations of docs/home-assistant.md, exactly as a reader would paste them."""
    blocks = re.findall(r"```yaml\n(- id: .*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 3, "the guide shows three automations"
    return "\n".join(blocks)


def test_the_documented_automations_work_as_written(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    hass = home_assistant
    emulator, _ = gateway
    _device(hass)
    hass.wait_for(lambda: _state(hass, DOCUMENTED["ready"]) == "on", 60, "the modem ready")
    for automation_id in ("smsgw_sms_from_alice", "smsgw_alarm_sms", "smsgw_low_balance"):
        loaded = hass.wait_for(
            functools.partial(hass.automation, automation_id), 30, f"automation {automation_id}"
        )
        assert loaded["state"] == "on", loaded

    # The balance smsgw read at start (3.50) is below 5: the third automation warned.
    low = hass.wait_for(
        lambda: [n for n in hass.notifications() if n.get("title") == "SIM balance low"],
        60,
        "the low-balance notification",
    )
    assert len(low) == 1
    assert "3.5" in low[0]["message"]

    # An SMS from Alice shows as a notification; one from anybody else does not.
    emulator.deliver("+40799000000", "Not Alice")
    hass.wait_for(
        lambda: _attribute(hass, DOCUMENTED["incoming"], "message") == "Not Alice", 60, "event"
    )
    emulator.deliver(ALICE, "Back home at 7")
    notes = hass.wait_for(
        lambda: [n for n in hass.notifications() if n.get("title") == "SMS from Alice"],
        60,
        "the notification for Alice's SMS",
    )
    assert [note["message"] for note in notes] == ["Back home at 7"]

    # The alarm triggers: the second automation texts the default recipient.
    hass.call(
        "alarm_control_panel", "alarm_arm_away", {"entity_id": "alarm_control_panel.home_alarm"}
    )
    hass.wait_for(
        lambda: _state(hass, "alarm_control_panel.home_alarm") == "armed_away", 30, "armed"
    )
    hass.call(
        "alarm_control_panel", "alarm_trigger", {"entity_id": "alarm_control_panel.home_alarm"}
    )
    sent = wait_until(
        lambda: [m for m in emulator.sent() if m["text"].startswith("ALARM at home: Home Alarm")],
        60,
        "the alarm SMS",
    )
    assert [message["recipient"] for message in sent] == [DEFAULT_RECIPIENT]


def test_the_device_page_shows_the_modem_and_its_entities(
    home_assistant: HomeAssistant, gateway: tuple[Emulator, Gateway]
) -> None:
    """Home Assistant's own frontend, signed in as a person would, on the modem's device page
    (the guide's screenshot: written to docs/screenshots/ only with SMSGW_SCREENSHOTS=1)."""
    hass = home_assistant
    device = _device(hass)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 1150})
        # The frontend fetches brand icons from the internet; a test talks to loopback only.
        context.route(
            re.compile(r"^(?!" + re.escape(hass.base) + r"/)"), lambda route: route.abort()
        )
        page = context.new_page()
        page.goto(hass.base + "/")
        page.get_by_label("Username").fill(OWNER)
        page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/lovelace/**", timeout=30_000)
        page.goto(f"{hass.base}/config/devices/device/{device['id']}")
        for text in (f"SMS gateway {MODEM}", "Signal", "Operator", "Incoming", "Send SMS"):
            page.get_by_text(text, exact=True).first.wait_for(timeout=30_000)
        page.get_by_text(f"by {device['manufacturer']}").wait_for(timeout=10_000)
        page.wait_for_timeout(1000)  # the cards' icons and relative times settle
        png = page.screenshot(full_page=False)
    assert len(png) > 10_000
    if screenshots_wanted():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "home-assistant-device.png").write_bytes(png)


def test_a_modem_removed_from_the_config_leaves_home_assistant(
    home_assistant: HomeAssistant,
    gateway: tuple[Emulator, Gateway],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Last in this module on purpose: it restarts the module's gateway without gsm1."""
    hass = home_assistant
    _, smsgw = gateway
    gsm1 = _device(hass)
    huawei = Emulator(tmp_path_factory.mktemp("gsm2"), "gsm2", "+40700000998", profile="huawei")
    huawei.start()
    try:
        smsgw.stop()
        smsgw.configure({"gsm2": huawei.link})
        smsgw.start()
        hass.wait_for(
            lambda: all(hass.state(entity) is None for entity in DOCUMENTED.values()),
            60,
            "gsm1's entities to be removed",
        )
        assert hass.device_of(DOCUMENTED["signal"]) is None
        replacement = hass.wait_for(
            lambda: hass.device_of("sensor.sms_gateway_gsm2_signal"), 60, "gsm2's device"
        )
        assert replacement["id"] != gsm1["id"]
        assert get_profile("huawei").imei in str(replacement["identifiers"])
    finally:
        smsgw.stop()
        huawei.stop()
