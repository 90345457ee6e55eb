"""USSD, balance and calls through the whole gateway: emulated SIM800 and Huawei on real ptys,
the REST API in-process, a real webhook server. The AT traffic is recorded by the emulator's
wire tap and printed (run with -s to read the transcripts)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsgw import metrics
from smsgw.api.app import create_app
from smsgw.config import Settings
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.emulator.ussd import MenuTree
from smsgw.gateway import Gateway
from smsgw.gateway.alert_rules import DEFAULT_RULES, AlertTracker
from smsgw.gateway.alert_watch import AlertWatch, StoredAlerts
from smsgw.modem import SupervisorSettings
from smsgw.webapp import create_app as create_webapp
from tests.gateway.helpers import eventually, fast_supervisors, of_type
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = [pytest.mark.timeout(60)]

PROFILES = ["sim800", "huawei"]
KEY = "k" * 24
MENU = MenuTree(
    {
        "*133#": ("Credit: 12.50 EUR, valid until 31/12/2026", {}),
        "*100#": (
            "1 Balance 2 Offers",
            {
                "1": ("Credit: 12.50 EUR", {}),
                "2": (
                    "1 Data 2 Minutes",
                    {"1": ("1 Buy 1GB 2 Buy 5GB", {"2": ("5GB bought", {})})},
                ),
            },
        ),
        "*200#": ("Solde: 3,20 € — merci", {}),
    }
)


class Transcript:
    """The emulator's wire tap: every byte each way, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, direction: str, data: bytes, _at: float) -> None:
        text = data.decode("utf-8", "replace").replace("\r", "\\r").replace("\n", "\\n")
        self.lines.append(f"{direction} {text}")

    def mark(self) -> int:
        return len(self.lines)

    def since(self, mark: int) -> str:
        return "\n".join(self.lines[mark:])


def _settings(tmp_path: Path, link: Path, webhook: str, **modem: object) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'smsgw.db'}"},
            "webhook": {
                "url": webhook,
                "timeout": 2.0,
                "backoff_initial": datetime.timedelta(seconds=0.2),
                "backoff_max": datetime.timedelta(seconds=1),
            },
            "node": {"name": "test-node"},
            "modem": [{"name": "gsm", "port": str(link), **modem}],
        }
    )


@contextlib.asynccontextmanager
async def _rig(
    tmp_path: Path, profile: str, responder: Any, **modem: object
) -> AsyncIterator[tuple[Gateway, EmulatedModem, httpx.AsyncClient, WebhookServer, Transcript]]:
    options = DeviceOptions(boot_scale=0.0, report_delay=0.3, cmgs_delay=0.05, ussd=MENU,
                            ussd_delay=0.1)  # fmt: skip
    tap = Transcript()
    with WebhookServer(responder) as server:
        async with EmulatedModem(profile, tmp_path / "gsm", options=options) as emulator:
            emulator.add_wire_tap(tap)
            settings = _settings(tmp_path, tmp_path / "gsm", server.url, **modem)
            gateway = Gateway(settings, supervisor_settings=fast_supervisors)
            gateway.unattended.alerts.interval = 0.05  # judge alerts often: balance_low at once
            async with gateway:
                async with asyncio.timeout(15):
                    await gateway.supervisor("gsm").wait_ready()
                app = create_app(gateway, KEY)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://gw", headers={"X-API-Key": KEY}
                ) as client:
                    yield gateway, emulator, client, server, tap


def _no_reply(_request: Received) -> Answer:
    return Answer()


@pytest.mark.parametrize("profile", PROFILES)
async def test_balance_is_read_parsed_and_shown(tmp_path: Path, profile: str) -> None:
    async with _rig(
        tmp_path,
        profile,
        _no_reply,
        balance_ussd="*133#",
        balance_pattern=r"Credit: (?P<amount>[0-9.]+)",
        balance_alert_below=20,
    ) as (gateway, _emulator, client, server, tap):
        runtime = gateway.fleet.get("gsm")
        await eventually(lambda: runtime.balance is not None)
        await eventually(lambda: len(of_type(server.received, "modem_alert")) == 1)
        await asyncio.sleep(0.5)
        (alert,) = of_type(server.received, "modem_alert")  # once, not once per poll
        assert (alert["alert"], alert["resolved"]) == ("balance_low", False)
        assert "12.5" in alert["detail"]
        modems = (await client.get("/api/v1/modems")).json()["modems"]
        assert modems[0]["alerts"] == ["balance_low"]
        balance = modems[0]["balance"]
        assert balance["amount"] == 12.5
        assert balance["text"] == "Credit: 12.50 EUR, valid until 31/12/2026"
        assert balance["checked_at"]
        assert metrics.MODEM_BALANCE.labels(modem="gsm")._value.get() == 12.5
        print(f"\n--- {profile}: USSD balance check ---")
        print("\n".join(line for line in tap.lines if "CUSD" in line))


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_pattern_that_does_not_match_keeps_the_text(
    tmp_path: Path, profile: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with _rig(
        tmp_path,
        profile,
        _no_reply,
        balance_ussd="*200#",
        balance_pattern=r"Credit (?P<amount>\d+)",
    ) as (gateway, _emulator, client, _server, _tap):
        runtime = gateway.fleet.get("gsm")
        await eventually(lambda: runtime.balance is not None)
        balance = (await client.get("/api/v1/modems")).json()["modems"][0]["balance"]
        assert balance["amount"] is None
        assert balance["text"] == "Solde: 3,20 € — merci"  # UCS-2 on the wire
        assert "balance_pattern found no amount" in caplog.text


@pytest.mark.parametrize("profile", PROFILES)
async def test_three_level_menu_through_the_api(tmp_path: Path, profile: str) -> None:
    async with _rig(tmp_path, profile, _no_reply) as (_gateway, _emulator, client, _s, _tap):
        url = "/api/v1/modems/gsm/ussd"
        first = (await client.post(url, json={"code": "*100#"})).json()
        assert (first["status"], first["text"]) == ("more", "1 Balance 2 Offers")
        session = first["session"]
        busy = await client.post(url, json={"code": "*133#"})
        assert busy.status_code == 409
        texts = []
        for answer in ("2", "1", "2"):
            reply = await client.post(url, json={"code": answer, "session": session})
            assert reply.status_code == 200, reply.text
            texts.append((reply.json()["status"], reply.json()["text"]))
        assert texts == [
            ("more", "1 Data 2 Minutes"),
            ("more", "1 Buy 1GB 2 Buy 5GB"),
            ("done", "5GB bought"),
        ]
        # the session is over: a new one may start, and be ended by DELETE
        again = (await client.post(url, json={"code": "*100#"})).json()
        assert again["status"] == "more"
        ended = await client.delete(f"{url}/{again['session']}")
        assert ended.status_code == 200
        assert (await client.delete(f"{url}/{again['session']}")).status_code == 404
        assert (await client.post(url, json={"code": "*133#"})).status_code == 200


async def test_ussd_errors_map_to_the_contract(tmp_path: Path) -> None:
    async with _rig(tmp_path, "sim800", _no_reply) as (_gateway, emulator, client, _s, _tap):
        nope = await client.post("/api/v1/modems/nope/ussd", json={"code": "*1#"})
        assert nope.status_code == 404
        for bad in ("100", "*100#\r\nAT+CMGD=1", '*1"#', ""):
            answer = await client.post("/api/v1/modems/gsm/ussd", json={"code": bad})
            assert answer.status_code == 422, bad
        unknown = await client.post(
            "/api/v1/modems/gsm/ussd", json={"code": "1", "session": "0123456789abcdef"}
        )
        assert unknown.status_code == 404
        emulator.device.state.registered = False  # out of coverage: the modem says +CME 30
        refused = await client.post("/api/v1/modems/gsm/ussd", json={"code": "*133#"})
        assert refused.status_code == 502
        assert "refused" in refused.json()["detail"]


def _call_back(request: Received) -> Answer:
    if request.json().get("type") == "incoming_call":
        return Answer.json({"sms_text": "We will call you back"})
    return Answer()


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_call_becomes_one_event_and_its_answer_an_sms(
    tmp_path: Path, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smsgw.emulator.calls as emulated_calls

    monkeypatch.setattr(emulated_calls, "RING_INTERVAL", 0.3)
    async with _rig(tmp_path, profile, _call_back, calls="hangup", call_rings=2) as (
        _gateway,
        emulator,
        _client,
        server,
        tap,
    ):
        mark = tap.mark()
        await emulator.ring("+40721000123", rings=6)
        await eventually(lambda: len(of_type(server.received, "incoming_call")) == 1)
        (event,) = of_type(server.received, "incoming_call")
        assert event["caller"] == "+40721000123"
        assert event["rings"] == 2
        assert event["modem"] == "gsm"
        assert set(event) == {"type", "id", "caller", "modem", "timestamp", "rings"}
        await eventually(lambda: any(m.recipient == "+40721000123" for m in emulator.sent()))
        assert [m.text for m in emulator.sent()] == ["We will call you back"]
        await asyncio.sleep(0.5)
        assert len(of_type(server.received, "incoming_call")) == 1
        print(f"\n--- {profile}: incoming call, hung up after 2 rings ---")
        print(tap.since(mark))


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no {name} field"
    return found.group(1)


async def test_the_modems_page_shows_the_balance_and_runs_a_menu(tmp_path: Path) -> None:
    async with _rig(
        tmp_path, "huawei", _no_reply, balance_ussd="*133#",
        balance_pattern=r"Credit: (?P<amount>[0-9.]+)",
    ) as (gateway, _emulator, _client, _server, _tap):  # fmt: skip
        await eventually(lambda: gateway.fleet.get("gsm").balance is not None)
        app = create_webapp(gateway, KEY, include_ui=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as ui:
            login = await ui.get("/ui/login")
            await ui.post("/ui/login", data={"login_token": _field(login.text, "login_token"),
                                             "api_key": KEY})  # fmt: skip
            page = await ui.get("/ui/modems")
            assert "12.50" in page.text
            assert "Credit: 12.50 EUR" in page.text
            csrf = _field(page.text, "csrf")
            menu = await ui.post("/ui/modems/ussd", data={"csrf": csrf, "modem": "gsm",
                                                          "code": "*100#"})  # fmt: skip
            assert "1 Balance 2 Offers" in menu.text
            session = _field(menu.text, "session")
            form = {"csrf": csrf, "modem": "gsm", "code": "1", "session": session}
            answer = await ui.post("/ui/modems/ussd", data=form)
            assert "Credit: 12.50 EUR" in answer.text
            assert 'data-status="done"' in answer.text
            forged = await ui.post("/ui/modems/ussd", data={"csrf": "x", "modem": "gsm",
                                                            "code": "*100#"})  # fmt: skip
            assert forged.status_code == 403


@pytest.mark.parametrize("profile", PROFILES)
async def test_transient_cms_errors_are_retried_permanent_ones_fail_at_once(
    tmp_path: Path, profile: str
) -> None:
    async with _rig(tmp_path, profile, _no_reply) as (gateway, emulator, _c, server, tap):
        gateway.worker("gsm").retry_backoff = 0.05
        emulator.device.faults.fail_next_send(332)  # network timeout
        emulator.device.faults.fail_next_send(42)  # congestion
        mark = tap.mark()
        retried = await gateway.submit(to="+40722000021", text="try again", modem="gsm",
                                       delivery_report=False, idempotency_key=None)  # fmt: skip
        await eventually(lambda: [m.text for m in emulator.sent()] == ["try again"])
        await eventually(lambda: _status(server, retried.message.id) == ["sent"])
        assert tap.since(mark).count("rx AT+CMGS=") == 3

        emulator.device.faults.fail_next_send(21)  # short message transfer rejected: permanent
        mark = tap.mark()
        refused = await gateway.submit(to="+40722000022", text="rejected", modem="gsm",
                                       delivery_report=False, idempotency_key=None)  # fmt: skip
        await eventually(lambda: _status(server, refused.message.id) == ["failed"])
        assert tap.since(mark).count("rx AT+CMGS=") == 1
        (failed,) = [e for e in of_type(server.received, "sms_status")
                     if e["smsId"] == refused.message.id]  # fmt: skip
        assert failed["error"] == "+CMS ERROR: 21"
        assert [m.text for m in emulator.sent()] == ["try again"]


def _status(server: WebhookServer, message_id: str) -> list[str]:
    return [e["status"] for e in of_type(server.received, "sms_status") if e["smsId"] == message_id]


class RecordingAlerts:
    """An AlertSink keeping what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool]] = []

    async def raise_alert(self, modem: str, alert: str, detail: str) -> bool:
        self.calls.append((modem, alert, True))
        return True

    async def resolve_alert(self, modem: str, alert: str, detail: str = "") -> bool:
        self.calls.append((modem, alert, False))
        return True


def _quick_recovery(_modem: object) -> SupervisorSettings:
    return SupervisorSettings(backoff_initial=0.1, backoff_max=0.5, health_interval=30,
                              sweep_interval=60, recover_after=1.0, recover_max_per_hour=2,
                              radio_check_interval=0.1, radio_pause=0.05)  # fmt: skip


@pytest.mark.parametrize("profile", PROFILES)
async def test_stuck_radio_recovered_once_and_its_alert_opened_and_resolved_once(
    tmp_path: Path, profile: str
) -> None:
    rules = {
        name: dataclasses.replace(rule, raise_after=0.3, resolve_after=0.3)
        for name, rule in DEFAULT_RULES.items()
    }
    tap = Transcript()
    options = DeviceOptions(boot_scale=0.0, report_delay=0.3)
    async with EmulatedModem(profile, tmp_path / "gsm", options=options) as emulator:
        emulator.add_wire_tap(tap)
        settings = _settings(tmp_path, tmp_path / "gsm", "")
        gateway = Gateway(settings, supervisor_settings=_quick_recovery)
        sink = RecordingAlerts()
        gateway.unattended.alerts = AlertWatch(
            lambda: gateway.fleet, sink, tracker=AlertTracker(rules), interval=0.05
        )
        async with gateway:
            modem = await asyncio.wait_for(gateway.supervisor("gsm").wait_ready(), 15)
            await asyncio.sleep(0.5)
            # healthy: the start only closes whatever a previous run may have left open
            assert all(not raised for _m, _a, raised in sink.calls)
            sink.calls.clear()
            mark = tap.mark()
            emulator.device.faults.stick_radio()
            await eventually(lambda: ("gsm", "not_registered", False) in sink.calls)
            await asyncio.sleep(1.0)  # many more polls: nothing new
            assert sink.calls == [("gsm", "not_registered", True), ("gsm", "not_registered", False)]
            assert modem.channel.sent["AT+CFUN=0"] == 1
            assert metrics.MODEM_ALERT.labels(modem="gsm", alert="not_registered")._value.get() == 0
            modems = (await gateway.modems())[0]
            assert modems.alerts == ()
            print(f"\n--- {profile}: stuck radio recovered ---")
            print("\n".join(line for line in tap.lines[mark:] if "CREG" in line or "CFUN" in line))


async def test_a_withheld_call_has_a_null_caller_and_gets_no_sms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smsgw.emulator.calls as emulated_calls

    monkeypatch.setattr(emulated_calls, "RING_INTERVAL", 0.3)
    async with _rig(tmp_path, "huawei", _call_back, calls="hangup", call_rings=1) as (
        _gateway, emulator, _client, server, _tap,
    ):  # fmt: skip
        await emulator.call("", rings=4)
        await eventually(lambda: len(of_type(server.received, "incoming_call")) == 1)
        (event,) = of_type(server.received, "incoming_call")
        assert (event["caller"], event["rings"]) == (None, 1)
        await asyncio.sleep(1.0)
        assert emulator.sent() == []


@pytest.mark.parametrize("profile", PROFILES)
async def test_alert_events_reach_the_webhook_once_each_way(tmp_path: Path, profile: str) -> None:
    rules = {
        name: dataclasses.replace(rule, raise_after=0.3, resolve_after=0.3)
        for name, rule in DEFAULT_RULES.items()
    }
    options = DeviceOptions(boot_scale=0.0, report_delay=0.3)
    with WebhookServer(_no_reply) as server:
        async with EmulatedModem(profile, tmp_path / "gsm", options=options) as emulator:
            settings = _settings(tmp_path, tmp_path / "gsm", server.url)
            gateway = Gateway(settings, supervisor_settings=_quick_recovery)
            gateway.unattended.alerts = AlertWatch(
                lambda: gateway.fleet,
                StoredAlerts(gateway.alerts),
                tracker=AlertTracker(rules),
                interval=0.05,
            )
            async with gateway:
                await asyncio.wait_for(gateway.supervisor("gsm").wait_ready(), 15)
                await asyncio.sleep(0.5)
                assert of_type(server.received, "modem_alert") == []
                await emulator.faults.stick_radio()
                await eventually(lambda: len(of_type(server.received, "modem_alert")) == 2)
                await asyncio.sleep(1.0)
                alerts = of_type(server.received, "modem_alert")
                assert [(a["alert"], a["resolved"]) for a in alerts] == [
                    ("not_registered", False),
                    ("not_registered", True),
                ]
                assert {a["modem"] for a in alerts} == {"gsm"}
                assert await gateway.alerts.open_alerts("gsm") == []
