"""Outgoing messages: routing over several modems, failures, limits, crash recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.gateway import SubmitRefused
from smsgw.models import MessageStatus
from smsgw.store import open_database, repository, upgrade_database
from tests.gateway.helpers import (
    emulators,
    eventually,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = pytest.mark.timeout(60)


def echo(request: Received) -> Answer:
    body = request.json()
    if body["type"] == "incoming_sms":
        return Answer.json({"sms_text": f"re: {body['message']} via {body['modem']}"})
    return Answer()


async def test_replies_leave_through_the_modem_that_received(tmp_path: Path) -> None:
    with WebhookServer(echo) as server:
        async with emulators(tmp_path, "sim0", "sim1") as modems:
            settings = gateway_settings(
                tmp_path,
                webhook_url=server.url,
                modems={name: tmp_path / name for name in modems},
            )
            async with running_gateway(settings):
                await modems["sim1"].deliver("+40721000001", "to one")
                await modems["sim0"].deliver("+40721000002", "to zero")
                await modems["sim1"].deliver("+40721000002", "to one again")
                await eventually(lambda: sum(len(m.sent()) for m in modems.values()) == 3)
                sent = {
                    name: sorted((m.recipient, m.text) for m in e.sent())
                    for name, e in modems.items()
                }
                assert sent == {
                    "sim0": [("+40721000002", "re: to zero via sim0")],
                    "sim1": [
                        ("+40721000001", "re: to one via sim1"),
                        ("+40721000002", "re: to one again via sim1"),
                    ],
                }
                await eventually(
                    lambda: (
                        [s["status"] for s in of_type(server.received, "sms_status")].count(
                            "delivered"
                        )
                        == 3
                    )
                )


async def test_api_sends_use_the_named_or_first_ready_modem(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0", "sim1") as modems:
            settings = gateway_settings(
                tmp_path,
                webhook_url=server.url,
                modems={name: tmp_path / name for name in modems},
                limits={"daily_per_modem": 3},
            )
            async with running_gateway(settings) as gateway:
                named = await gateway.submit(
                    to="+40722000000", text="named", modem="sim1", delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                assert named.message.modem == "sim1"
                with pytest.raises(SubmitRefused) as unknown:
                    await gateway.submit(
                        to="+40722000000", text="x", modem="nope", delivery_report=True,
                        idempotency_key=None,
                    )  # fmt: skip
                assert unknown.value.status_code == 422
                with pytest.raises(SubmitRefused) as too_long:
                    await gateway.submit(
                        to="+40722000000", text="x" * 2000, modem=None, delivery_report=True,
                        idempotency_key=None,
                    )  # fmt: skip
                assert too_long.value.status_code == 422
                await eventually(lambda: len(modems["sim1"].sent()) == 1)
                # Without `modem` a send to someone new stays unbound until a READY modem
                # claims it (on any node when several share PostgreSQL); both modems here are
                # READY. Each send has its own number: a recipient sticks to their last modem.
                chosen = []
                for n in range(4):
                    enqueued = await gateway.submit(
                        to=f"+4072200001{n}", text=f"any {n}", modem=None, delivery_report=True,
                        idempotency_key=None,
                    )  # fmt: skip
                    assert enqueued.message.modem is None
                    chosen.append(enqueued.message.id)
                await eventually(lambda: sum(len(m.sent()) for m in modems.values()) == 5)
                for message_id in chosen:
                    detail = await repository.get_message(gateway.db, message_id)
                    assert detail is not None
                    assert detail.message.modem in {"sim0", "sim1"}
                # Daily limit: 3 per modem; 5 used, one more fits, then 429.
                await gateway.submit(
                    to="+40722000020", text="last", modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                await eventually(lambda: sum(len(m.sent()) for m in modems.values()) == 6)
                with pytest.raises(SubmitRefused) as limited:
                    await gateway.submit(
                        to="+40722000021", text="over", modem=None, delivery_report=True,
                        idempotency_key=None,
                    )  # fmt: skip
                assert limited.value.status_code == 429


async def test_a_cms_error_fails_the_message_with_its_cause(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                modems["sim0"].faults.fail_next_send(27)  # permanent: destination out of service
                enqueued = await gateway.submit(
                    to="+40722000000", text="doomed", modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                await eventually(lambda: len(of_type(server.received, "sms_status")) == 1)
                (status,) = of_type(server.received, "sms_status")
                assert status["smsId"] == enqueued.message.id
                assert status["status"] == "failed"
                assert status["error"] == "+CMS ERROR: 27"
                # The modem keeps working for the next message.
                await gateway.submit(
                    to="+40722000000", text="fine", modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                await eventually(lambda: [m.text for m in modems["sim0"].sent()] == ["fine"])


async def test_a_send_cut_by_a_crash_is_reported_interrupted_not_resent(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            # A previous run of this node claimed a message and died mid-send.
            db = open_database(settings.database.url)
            await upgrade_database(db)
            queued = await repository.enqueue_outgoing(
                db, peer="+40722000000", text="maybe sent", parts=1, encoding="gsm7"
            )
            claimed = await repository.claim_next_outgoing(db, modem="sim0", node="test-node")
            assert claimed is not None
            await db.close()
            async with running_gateway(settings) as gateway:
                await eventually(lambda: len(of_type(server.received, "sms_status")) == 1)
                (status,) = of_type(server.received, "sms_status")
                assert (status["smsId"], status["status"], status["error"]) == (
                    queued.message.id,
                    "failed",
                    repository.INTERRUPTED,
                )
                detail = await repository.get_message(gateway.db, queued.message.id)
                assert detail is not None
                assert detail.message.status is MessageStatus.FAILED
            assert modems["sim0"].sent() == []


async def test_a_link_lost_during_cmgs_is_reported_interrupted_not_resent(
    tmp_path: Path,
) -> None:
    slow = DeviceOptions(boot_scale=0.0, report_delay=0.3, cmgs_delay=1.0)
    with WebhookServer(lambda _r: Answer()) as server:
        async with EmulatedModem("sim800", tmp_path / "sim0", options=slow) as emulator:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                enqueued = await gateway.submit(
                    to="+40722000000", text="in the modem's hands", modem=None,
                    delivery_report=True, idempotency_key=None,
                )  # fmt: skip
                await asyncio.sleep(0.5)  # AT+CMGS written, the network has not answered
                await emulator.unplug(for_s=1.0)
                await eventually(lambda: len(of_type(server.received, "sms_status")) == 1)
                (status,) = of_type(server.received, "sms_status")
                assert (status["smsId"], status["status"], status["error"]) == (
                    enqueued.message.id,
                    "failed",
                    repository.INTERRUPTED,
                )
                await gateway.supervisor("sim0").wait_ready()
                await asyncio.sleep(0.5)
                assert [m.text for m in emulator.sent()] == []  # not silently repeated


async def test_over_the_daily_limit_a_message_waits_in_the_queue(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path,
                webhook_url=server.url,
                modems={"sim0": tmp_path / "sim0"},
                limits={"daily_per_modem": 1},
            )
            async with running_gateway(settings) as gateway:
                # Both queued at once (e.g. by two API calls racing the first claim).
                first, second = [
                    await repository.enqueue_outgoing(
                        gateway.db, peer="+40722000000", text=text, parts=1, encoding="gsm7",
                        delivery_report=False,
                    )
                    for text in ("today", "tomorrow")
                ]  # fmt: skip
                gateway.worker("sim0").wake()
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                await asyncio.sleep(0.5)
                assert [m.text for m in modems["sim0"].sent()] == ["today"]
                waiting = await repository.get_message(gateway.db, second.message.id)
                assert waiting is not None
                assert waiting.message.status is MessageStatus.QUEUED
                assert first.message.id != second.message.id


async def test_reports_of_early_parts_arriving_mid_send_still_count(tmp_path: Path) -> None:
    # A slow SMSC answer per part and a fast network: part 1's report is in before part 3
    # is accepted, so each part's TP-MR must be on record as soon as the modem returns it.
    options = DeviceOptions(boot_scale=0.0, report_delay=0.05, cmgs_delay=0.4)
    with WebhookServer(lambda _r: Answer()) as server:
        async with EmulatedModem("sim800", tmp_path / "sim0", options=options) as emulator:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                enqueued = await gateway.submit(
                    to="+40722000000", text="x" * 400, modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                assert enqueued.message.parts == 3
                await eventually(lambda: len(of_type(server.received, "sms_status")) == 2)
                statuses = of_type(server.received, "sms_status")
                assert [(s["status"], s["parts"]) for s in statuses] == [
                    ("sent", 3),
                    ("delivered", 3),
                ]
                assert [m.parts for m in emulator.sent()] == [3]
