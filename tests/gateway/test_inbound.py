"""Incoming SMS end to end: emulated modem on a pty → gateway → SQLite → real HTTP webhook."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from pathlib import Path
from typing import Any

import pytest

from smsgw import pdu
from smsgw.emulator import EmulatedModem
from smsgw.gateway import Gateway
from smsgw.models import OutboxEntry
from smsgw.store import repository
from tests.gateway.helpers import (
    EMULATOR_OPTIONS,
    SENDER,
    emulators,
    eventually,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)

INCOMING_KEYS = [
    "type",
    "sender",
    "message",
    "timestamp",
    "conversation_history",
    "id",
    "modem",
    "recipient",
]


async def test_an_sms_reaches_the_webhook_once_and_leaves_the_sim(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                await modems["sim0"].deliver(SENDER, "Hello there")
                await eventually(lambda: len(server.received) == 1)
                await eventually(lambda: modems["sim0"].device.storage("SM").used == 0)
                request = server.received[0]
                body = request.json()
                assert list(body) == INCOMING_KEYS
                assert body["type"] == "incoming_sms"
                assert body["sender"] == SENDER
                assert body["message"] == "Hello there"
                assert isinstance(body["timestamp"], int)
                assert abs(body["timestamp"] / 1000 - datetime.datetime.now().timestamp()) < 120
                assert body["conversation_history"] == [
                    {"role": "in", "message": "Hello there", "timestamp": body["timestamp"]}
                ]
                assert body["modem"] == "sim0"
                assert body["recipient"] is None
                assert request.headers["idempotency-key"] == body["id"]
                assert request.headers["content-type"] == "application/json"
                stored = await repository.get_message(gateway.db, body["id"])
                assert stored is not None
                assert stored.message.text == "Hello there"
                # An empty 200 is "no reply": nothing is sent.
                assert modems["sim0"].sent() == []
                assert len(server.received) == 1


def nothing_in_flight(gateway: Gateway) -> bool:
    return gateway.dispatcher is not None and not gateway.dispatcher.in_flight


def posted(server: WebhookServer, count: int) -> bool:
    return len(of_type(server.received, "incoming_sms")) == count


async def test_the_event_goes_to_the_dispatcher_from_the_transaction_that_stores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second transaction claims it: the POST starts as soon as the part's commit
    returned. What the dispatcher's own claim hands out is recorded to prove it."""
    claimed_by_loop: list[str] = []
    claim_due_events = repository.claim_due_events

    async def recording_claim(*args: Any, **kwargs: Any) -> list[OutboxEntry]:
        entries = await claim_due_events(*args, **kwargs)
        claimed_by_loop.extend(entry.event_id for entry in entries)
        return entries

    monkeypatch.setattr(repository, "claim_due_events", recording_claim)
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                for count, text in enumerate(("one", "two"), start=1):
                    await modems["sim0"].deliver(SENDER, text)
                    await eventually(functools.partial(posted, server, count))
                    await eventually(lambda: modems["sim0"].device.storage("SM").used == 0)
                    # The second arrives once the first's outcome is recorded: otherwise it
                    # is rightly left to the dispatcher's claim (its sender is pending).
                    await eventually(functools.partial(nothing_in_flight, gateway))
                events = of_type(server.received, "incoming_sms")
                assert [event["message"] for event in events] == ["one", "two"]
    assert claimed_by_loop == []


async def test_a_three_part_ucs2_message_out_of_order_is_one_event(tmp_path: Path) -> None:
    text = "Salut 😀! " + "Ünïcödé ✓ " * 12 + "🎉 end"
    parts = pdu.encode_deliver(
        SENDER, text, datetime.datetime.now(datetime.UTC), smsc="+40744000000", concat_ref=77
    )
    assert len(parts) == 3
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings):
                for part in (parts[2], parts[0], parts[1]):
                    await modems["sim0"].deliver_pdu(part.hex)
                await eventually(lambda: len(server.received) == 1)
                await eventually(lambda: modems["sim0"].device.storage("SM").used == 0)
                (event,) = of_type(server.received, "incoming_sms")
                assert event["message"] == text
                assert event["conversation_history"][-1]["message"] == text


async def test_history_holds_earlier_messages_both_ways_current_last(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}, history_size=5
            )
            async with running_gateway(settings) as gateway:
                await modems["sim0"].deliver(SENDER, "first")
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)
                await gateway.submit(
                    to=SENDER, text="Your order #1234 has shipped!", modem=None,
                    delivery_report=True, idempotency_key=None,
                )  # fmt: skip
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                await modems["sim0"].deliver(SENDER, "second")
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 2)
                history = of_type(server.received, "incoming_sms")[1]["conversation_history"]
                assert [(h["role"], h["message"]) for h in history] == [
                    ("in", "first"),
                    ("out", "Your order #1234 has shipped!"),
                    ("in", "second"),
                ]
                # Earlier turns oldest first; the current one is last even though its SMSC
                # time (whole seconds) may be a fraction earlier than the reply's send time.
                earlier = [h["timestamp"] for h in history[:-1]]
                assert earlier == sorted(earlier)


async def test_recipient_is_the_sims_own_number_or_the_configured_one(tmp_path: Path) -> None:
    """`recipient` is what AT+CNUM read from the SIM; `[[modem]] number` wins over it."""
    options = dataclasses.replace(EMULATOR_OPTIONS, own_number="+40721999000")
    with WebhookServer(lambda _r: Answer()) as server:
        async with (
            EmulatedModem("sim800", tmp_path / "simA", options=options) as read_from_sim,
            EmulatedModem("huawei", tmp_path / "simB", options=options) as configured,
        ):
            settings = gateway_settings(
                tmp_path,
                webhook_url=server.url,
                modems={"simA": tmp_path / "simA", "simB": tmp_path / "simB"},
            )
            dump = settings.model_dump()
            dump["modem"][1]["number"] = "+40 700 000 001"
            settings = settings.model_validate(dump)
            async with running_gateway(settings):
                await read_from_sim.deliver(SENDER, "to the SIM's own number")
                await configured.deliver(SENDER, "to the configured number")
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 2)
    recipients = {
        body["modem"]: body["recipient"] for body in of_type(server.received, "incoming_sms")
    }
    assert recipients == {"simA": "+40721999000", "simB": "+40700000001"}
