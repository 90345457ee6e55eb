"""The seed's two-way flow end to end, with its Flask auto-responder run unchanged.

SMS "...help" on the emulated modem → gateway → the seed's Flask app (real HTTP) → its
`{"sms_text"}` goes back out through the same modem → `sms_status` sent, then delivered,
reach the same Flask app. An empty 200 sends nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.gateway import Gateway
from smsgw.store.schema import webhook_outbox
from tests.gateway.helpers import (
    SENDER,
    emulators,
    eventually,
    gateway_settings,
    running_gateway,
)
from tests.webhook.seed_examples import FlaskExample

pytestmark = pytest.mark.timeout(60)

ORDER_SHIPPED = "Your order #1234 has shipped!"


async def _posted_bodies(gateway: Gateway) -> list[dict[str, object]]:
    """Every event body the gateway froze in its outbox, in creation order (these exact bytes
    are what every attempt posts)."""
    async with gateway.db.transaction("read outbox") as connection:
        rows = (
            await connection.execute(
                sa.select(webhook_outbox.c.body, webhook_outbox.c.state).order_by(
                    webhook_outbox.c.pk
                )
            )
        ).all()
    return [json.loads(row.body) | {"_state": row.state} for row in rows]


async def test_help_gets_the_seed_reply_and_its_statuses(
    tmp_path: Path, flask_example: FlaskExample
) -> None:
    log = flask_example.log
    async with emulators(tmp_path, "sim0") as modems:
        emulator = modems["sim0"]
        settings = gateway_settings(
            tmp_path,
            webhook_url=flask_example.url,
            secret=flask_example.secret,
            modems={"sim0": tmp_path / "sim0"},
        )
        async with running_gateway(settings) as gateway:
            shipped = await gateway.submit(
                to=SENDER, text=ORDER_SHIPPED, modem=None, delivery_report=True,
                idempotency_key="order-1234",
            )  # fmt: skip
            await eventually(lambda: f"SMS {shipped.message.id} → delivered" in log.read_text())

            await emulator.deliver(SENDER, "Hi, I need help")
            await eventually(lambda: len(emulator.sent()) == 2)
            reply = emulator.sent()[1]
            assert (reply.recipient, reply.text) == (SENDER, flask_example.help_reply)
            assert reply.srr

            bodies = await _posted_bodies(gateway)
            incoming = [b for b in bodies if b["type"] == "incoming_sms"]
            assert len(incoming) == 1
            event = incoming[0]
            assert event["sender"] == SENDER
            assert event["message"] == "Hi, I need help"
            history = event["conversation_history"]
            assert isinstance(history, list)
            assert [(h["role"], h["message"]) for h in history] == [
                ("out", ORDER_SHIPPED),
                ("in", "Hi, I need help"),
            ]
            assert all(isinstance(h["timestamp"], int) for h in history)
            assert history[-1]["timestamp"] == event["timestamp"]
            assert event["_state"] == "delivered"
            assert "SMS from +40721000000: Hi, I need help (history: 2 msgs)" in log.read_text()

            # sms_status of the reply: sent, then delivered, to the same webhook.
            replies = [b for b in bodies if b["type"] == "sms_status"]
            assert [b["status"] for b in replies][:2] == ["sent", "delivered"]  # the order SMS
            await eventually(lambda: log.read_text().count("→ delivered") == 2)
            text = log.read_text()
            reply_id = [line.split()[2] for line in text.splitlines() if line.startswith("📊 SMS")][
                -1
            ]
            assert text.index(f"SMS {reply_id} → sent") < text.index(f"SMS {reply_id} → delivered")
            statuses = [b for b in await _posted_bodies(gateway) if b.get("smsId") == reply_id]
            assert [(b["status"], b["recipient"], b["parts"], b["error"]) for b in statuses] == [
                ("sent", SENDER, 1, None),
                ("delivered", SENDER, 1, None),
            ]

            # Anything else gets an empty 200: no reply.
            await emulator.deliver(SENDER, "thanks")
            await eventually(
                lambda: "SMS from +40721000000: thanks (history: 4 msgs)" in log.read_text()
            )
            for _ in range(250):  # the outcome is recorded just after the answer
                thanks = [b for b in await _posted_bodies(gateway) if b.get("message") == "thanks"]
                if thanks and thanks[0]["_state"] == "delivered":
                    break
                await asyncio.sleep(0.02)
            assert thanks[0]["_state"] == "delivered"
            assert len(emulator.sent()) == 2
