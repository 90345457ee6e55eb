"""Quiet hours and the daily limit through the gateway: a client send inside the window is
scheduled for its end while an auto-reply goes at once; over the daily limit a send waits
for the next day only with `limits.defer_over_limit`."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from smsgw.config import Settings
from smsgw.exceptions import SubmitRefused
from smsgw.gateway import operations
from smsgw.models import MessageStatus
from tests.gateway.helpers import (
    emulators,
    eventually,
    gateway_settings,
    running_gateway,
)
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = pytest.mark.timeout(60)


def echo(request: Received) -> Answer:
    body = request.json()
    if body["type"] == "incoming_sms":
        return Answer.json({"sms_text": f"echo: {body['message']}"})
    return Answer()


def _with_limits(settings: Settings, **limits: object) -> Settings:
    return settings.model_copy(update={"limits": settings.limits.model_copy(update=limits)})


async def test_client_sends_wait_for_the_window_to_end_replies_do_not(tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=2)
    window = f"{start:%H:%M}-{end:%H:%M}"
    with WebhookServer(echo) as server:
        async with emulators(tmp_path, "sim0") as modems:
            link = {"sim0": tmp_path / "sim0"}
            settings = _with_limits(
                gateway_settings(tmp_path, webhook_url=server.url, modems=link),
                quiet_hours=window,
                timezone="UTC",
            )
            async with running_gateway(settings) as gateway:
                outgoing = operations.check_outgoing(
                    settings, to="+40722000020", text="newsletter", modem=None
                )
                held = await operations.send(
                    gateway, outgoing, delivery_report=False, idempotency_key=None
                )
                assert held.message.status is MessageStatus.SCHEDULED
                assert held.message.send_at == end.replace(second=0, microsecond=0)
                await modems["sim0"].deliver("+40722000021", "hello")
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                assert [m.text for m in modems["sim0"].sent()] == ["echo: hello"]


async def test_over_the_daily_limit_waits_for_tomorrow_only_when_asked(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            link = {"sim0": tmp_path / "sim0"}
            base = gateway_settings(tmp_path, webhook_url=server.url, modems=link)
            settings = _with_limits(base, daily_per_modem=1, defer_over_limit=True)
            async with running_gateway(settings) as gateway:
                first = operations.check_outgoing(settings, to="+40722000030", text="one",
                                                  modem=None)  # fmt: skip
                await operations.send(gateway, first, delivery_report=False, idempotency_key=None)
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                second = operations.check_outgoing(settings, to="+40722000030", text="two",
                                                   modem="sim0")  # fmt: skip
                deferred = await operations.send(
                    gateway, second, delivery_report=False, idempotency_key=None
                )
                assert deferred.message.status is MessageStatus.SCHEDULED
                tomorrow = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
                assert deferred.message.send_at == datetime.datetime.combine(
                    tomorrow, datetime.time(0), tzinfo=datetime.UTC
                )
            refusing = _with_limits(base, daily_per_modem=1)
            async with running_gateway(refusing) as gateway:
                third = operations.check_outgoing(settings, to="+40722000030", text="three",
                                                  modem=None)  # fmt: skip
                with pytest.raises(SubmitRefused) as refused:
                    await operations.send(gateway, third, delivery_report=False,
                                          idempotency_key=None)  # fmt: skip
                assert refused.value.status_code == 429
