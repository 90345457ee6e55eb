"""Webhook failures lose nothing: 401/500/timeouts are retried with the same Idempotency-Key
and frozen body, across a daemon restart, until the webhook accepts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from smsgw.models import MessageStatus
from smsgw.store import repository
from tests.gateway.helpers import (
    SENDER,
    emulators,
    eventually,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.ports import free_port
from tests.webhook.http_server import Answer, Received, WebhookServer
from tests.webhook.seed_examples import FlaskExample

pytestmark = pytest.mark.timeout(60)


async def test_401_is_retried_and_delivered_after_a_restart_with_the_right_secret(
    tmp_path: Path, flask_example: FlaskExample
) -> None:
    async with emulators(tmp_path, "sim0") as modems:
        wrong = gateway_settings(
            tmp_path, webhook_url=flask_example.url, secret="not-the-secret",
            modems={"sim0": tmp_path / "sim0"},
        )  # fmt: skip
        async with running_gateway(wrong):
            await modems["sim0"].deliver(SENDER, "help after 401")
            await eventually(lambda: flask_example.log.read_text().count('" 401 ') >= 2)
        assert modems["sim0"].sent() == []
        right = gateway_settings(
            tmp_path, webhook_url=flask_example.url, secret=flask_example.secret,
            modems={"sim0": tmp_path / "sim0"},
        )  # fmt: skip
        async with running_gateway(right):
            await eventually(lambda: len(modems["sim0"].sent()) == 1)
        assert modems["sim0"].sent()[0].text == flask_example.help_reply
        assert "SMS from +40721000000: help after 401" in flask_example.log.read_text()


async def test_500_and_a_timeout_are_retried_with_the_same_key_then_one_reply(
    tmp_path: Path,
) -> None:
    script = [Answer(status=500), Answer(delay=3.0), Answer.json({"sms_text": "pong"})]

    def responder(request: Received) -> Answer:
        return script[min(request.index, len(script) - 1)]

    with WebhookServer(responder) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings):
                await modems["sim0"].deliver(SENDER, "ping")
                await eventually(lambda: len(modems["sim0"].sent()) == 1, within=20)
                incoming = [r for r in server.received if r.json()["type"] == "incoming_sms"]
                assert len(incoming) == 3
                assert len({r.headers["idempotency-key"] for r in incoming}) == 1
                assert len({r.body for r in incoming}) == 1
                assert incoming[0].headers["idempotency-key"] == incoming[0].json()["id"]
                assert [(m.recipient, m.text) for m in modems["sim0"].sent()] == [(SENDER, "pong")]


async def test_webhook_down_and_daemon_restarted_every_event_arrives_once_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/sms-webhook"
    peers = ["+40721000001", "+40721000002"]
    async with emulators(tmp_path, "sim0") as modems:
        settings = gateway_settings(tmp_path, webhook_url=url, modems={"sim0": tmp_path / "sim0"})
        failing = WebhookServer(lambda _r: Answer(status=503), port=port)
        with failing:
            async with running_gateway(settings) as gateway:
                for n in range(3):
                    for peer in peers:
                        await modems["sim0"].deliver(peer, f"message {n} from {peer}")
                outgoing = await gateway.submit(
                    to=peers[0], text="outgoing", modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                # Its delivery report is applied before the stop (a +CDS routed to a daemon
                # that is not running is the modem's business, not this test's).
                status = None
                for _ in range(500):
                    detail = await repository.get_message(gateway.db, outgoing.message.id)
                    status = detail.message.status if detail is not None else None
                    if status is MessageStatus.DELIVERED:
                        break
                    await asyncio.sleep(0.02)
                assert status is MessageStatus.DELIVERED
                # Each peer's head event has failed at least twice (one at a time per peer).
                await eventually(lambda: len(failing.received) >= 4)
        failed_keys = {r.headers["idempotency-key"] for r in failing.received}
        # Webhook down (nothing listens), daemon restarted meanwhile.
        async with running_gateway(settings):
            await asyncio.sleep(0.5)  # connection refused meanwhile
            with WebhookServer(lambda _r: Answer(), port=port) as back:
                expected = 6 + 2  # six incoming, sent + delivered of the outgoing one
                await eventually(lambda: len(back.received) >= expected, within=20)
                await asyncio.sleep(0.5)  # nothing more may arrive
    keys = [r.headers["idempotency-key"] for r in back.received]
    assert len(keys) == len(set(keys)) == expected
    assert failed_keys <= set(keys)  # retried under the key the failing attempts carried
    texts = [r.json()["message"] for r in back.received if r.json()["type"] == "incoming_sms"]
    assert sorted(texts) == sorted(f"message {n} from {p}" for n in range(3) for p in peers)
    for peer in peers:  # per-peer order survived the failures and the restart
        mine = [t for t in texts if t.endswith(peer)]
        assert mine == [f"message {n} from {peer}" for n in range(3)]
    statuses = of_type(back.received, "sms_status")
    assert [s["status"] for s in statuses] == ["sent", "delivered"]
    assert json.loads(back.received[0].body)["type"] in ("incoming_sms", "sms_status")
