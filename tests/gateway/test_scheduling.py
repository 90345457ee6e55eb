"""Scheduled sends through the whole gateway and an emulated modem: not before `send_at`,
within a second after it, also when the gateway was restarted in between; cancelled ones
never go out; an idle scheduler sleeps instead of polling."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest

from smsgw.gateway import operations
from smsgw.gateway.send_options import check_send_options
from smsgw.models import MessageStatus
from smsgw.store import repository
from smsgw.store.types import Enqueued
from tests.gateway.helpers import emulators, eventually, gateway_settings, running_gateway
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)

#: How late a scheduled message may reach the modem (the contract says within a second).
ALLOWED_LATENESS = datetime.timedelta(seconds=1)


async def _schedule(
    gateway: operations.GatewayOperations, text: str, at: datetime.datetime
) -> Enqueued:
    options = check_send_options(now=gateway.db.clock(), send_at=at.isoformat())
    outgoing = operations.check_outgoing(
        gateway.settings, to="+40722000010", text=text, modem=None, options=options
    )
    return await operations.send(gateway, outgoing, delivery_report=False, idempotency_key=None)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def test_a_send_at_three_seconds_ahead_goes_after_it_not_before(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                due = _now() + datetime.timedelta(seconds=3)
                enqueued = await _schedule(gateway, "on time", due)
                assert enqueued.message.status is MessageStatus.SCHEDULED
                await asyncio.sleep(2.5)
                assert modems["sim0"].sent() == []
                await eventually(lambda: len(modems["sim0"].sent()) == 1, within=3)
                (sent,) = modems["sim0"].sent()
                assert sent.text == "on time"
                assert due <= sent.time.astimezone(datetime.UTC) <= due + ALLOWED_LATENESS


async def test_a_scheduled_send_survives_a_restart(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            due = _now() + datetime.timedelta(seconds=3)
            async with running_gateway(settings) as gateway:
                await _schedule(gateway, "after a restart", due)
            assert modems["sim0"].sent() == []
            async with running_gateway(settings) as gateway:
                listed = await repository.list_messages(gateway.db, status=MessageStatus.SCHEDULED)
                assert [m.text for m in listed] == ["after a restart"]
                await asyncio.sleep(max(0.0, (due - _now()).total_seconds() - 0.3))
                assert modems["sim0"].sent() == []
                await eventually(lambda: len(modems["sim0"].sent()) == 1, within=3)
                (sent,) = modems["sim0"].sent()
                assert due <= sent.time.astimezone(datetime.UTC) <= due + ALLOWED_LATENESS


async def test_overdue_messages_go_at_once_after_a_restart(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                await _schedule(gateway, "missed", _now() + datetime.timedelta(seconds=1))
                # Stopped before it was due: it is sent by the next start.
            await asyncio.sleep(1.2)
            assert modems["sim0"].sent() == []
            async with running_gateway(settings):
                await eventually(lambda: len(modems["sim0"].sent()) == 1, within=3)


async def test_cancelled_scheduled_message_is_never_sent(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                due = _now() + datetime.timedelta(seconds=1)
                withdrawn = await _schedule(gateway, "withdrawn", due)
                kept = await _schedule(gateway, "kept", due)
                assert (
                    await repository.cancel_outgoing(gateway.db, withdrawn.message.id)
                ).cancelled
                await eventually(lambda: len(modems["sim0"].sent()) == 1, within=3)
                await asyncio.sleep(0.5)
                assert [m.text for m in modems["sim0"].sent()] == ["kept"]
                late = await repository.cancel_outgoing(gateway.db, kept.message.id)
                assert not late.cancelled


async def test_an_idle_scheduler_sleeps(tmp_path: Path) -> None:
    """No polling: with a message scheduled an hour ahead the scheduler looks at the store
    once per wake-up (start, the new message), not on a timer."""
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0"):
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                await eventually(lambda: gateway.scheduler.rounds >= 1)
                await _schedule(gateway, "in an hour", _now() + datetime.timedelta(hours=1))
                await eventually(lambda: gateway.scheduler.rounds >= 2)
                rounds = gateway.scheduler.rounds
                await asyncio.sleep(2.0)
                assert gateway.scheduler.rounds == rounds
