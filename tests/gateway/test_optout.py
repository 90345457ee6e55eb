"""Opt-out through the whole gateway: a STOP from a phone is posted to the webhook, puts the
sender on the list and is answered by the confirmation alone; later webhook replies to that
number are dropped as `failed`, client sends refused with 409; START undoes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw import metrics
from smsgw.config import Settings
from smsgw.exceptions import StoreError, SubmitRefused
from smsgw.gateway import operations
from smsgw.models import Direction, MessageStatus
from smsgw.store import repository
from smsgw.store.repository.replies import OPTED_OUT_ERROR
from tests.gateway.helpers import (
    emulators,
    eventually,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = pytest.mark.timeout(60)

PHONE = "+40721000555"


def echo(request: Received) -> Answer:
    body = request.json()
    if body["type"] == "incoming_sms":
        return Answer.json({"sms_text": f"echo: {body['message']}"})
    return Answer()


def _with_optout(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"optout": settings.optout.model_copy(update={"enabled": True})}
    )


def _refusals(path: str) -> float:
    value = metrics.REGISTRY.get_sample_value("smsgw_optout_refusals_total", {"path": path})
    return value or 0.0


async def test_stop_and_start_from_a_phone(tmp_path: Path) -> None:
    with WebhookServer(echo) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = _with_optout(
                gateway_settings(
                    tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
                )
            )
            sim = modems["sim0"]
            async with running_gateway(settings) as gateway:
                await sim.deliver(PHONE, "Stop!")
                await eventually(lambda: len(sim.sent()) == 1)
                assert sim.sent()[0].text == settings.optout.confirm_text
                # The event still reached the webhook; its reply ("echo: Stop!") was not sent.
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)
                assert of_type(server.received, "incoming_sms")[0]["message"] == "Stop!"
                listed = await repository.get_optout(gateway.db, PHONE)
                assert listed is not None
                assert (listed.source, listed.modem) == ("sms", "sim0")

                # A later message: the webhook's reply is dropped, recorded as failed.
                replies_before = _refusals("reply")
                await sim.deliver(PHONE, "what are your hours?")
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 2)
                await eventually(lambda: _refusals("reply") == replies_before + 1)
                outgoing = await repository.list_messages(
                    gateway.db, peer=PHONE, direction=Direction.OUT
                )
                dropped = [m for m in outgoing if m.text == "echo: what are your hours?"]
                assert [(m.status, m.error) for m in dropped] == [
                    (MessageStatus.FAILED, OPTED_OUT_ERROR)
                ]

                # A client's send is refused with 409 (API, inbox and MQTT share this path).
                api_before = _refusals("api")
                outgoing_send = operations.check_outgoing(
                    settings, to=PHONE, text="promo", modem=None
                )
                with pytest.raises(SubmitRefused) as refused:
                    await operations.send(
                        gateway, outgoing_send, delivery_report=True, idempotency_key=None
                    )
                assert refused.value.status_code == 409
                assert "opt-out list" in refused.value.detail
                assert _refusals("api") == api_before + 1

                await sim.deliver(PHONE, "stârt")
                await eventually(lambda: len(sim.sent()) == 2)
                assert sim.sent()[1].text == settings.optout.start_confirm_text
                assert await repository.get_optout(gateway.db, PHONE) is None
                await operations.send(
                    gateway, outgoing_send, delivery_report=True, idempotency_key=None
                )
                await eventually(lambda: len(sim.sent()) == 3)
                assert sim.sent()[2].text == "promo"
                # Nothing else went out: no echo of STOP, START or the question.
                assert not any(m.text.startswith("echo:") for m in sim.sent())


async def test_keywords_are_ordinary_messages_when_opt_out_is_off(tmp_path: Path) -> None:
    with WebhookServer(echo) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                await modems["sim0"].deliver(PHONE, "STOP")
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                assert modems["sim0"].sent()[0].text == "echo: STOP"
                assert await repository.get_optout(gateway.db, PHONE) is None


async def test_a_stop_the_gateway_failed_to_act_on_is_acted_on_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookServer(echo) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = _with_optout(
                gateway_settings(
                    tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
                )
            )
            sim = modems["sim0"]
            with monkeypatch.context() as patch:

                async def database_refuses(*_args: object, **_kwargs: object) -> None:
                    raise StoreError("database is locked")

                patch.setattr(repository, "add_optout", database_refuses)
                async with running_gateway(settings) as gateway:
                    await sim.deliver(PHONE, "STOP")
                    await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)
                    stored = await repository.list_messages(gateway.db, peer=PHONE)
                    assert [m.text for m in stored] == ["STOP"]  # kept, but not acted on
                    assert await repository.get_optout(gateway.db, PHONE) is None
            assert sim.sent() == []

            async with running_gateway(settings) as gateway:
                await eventually(lambda: len(sim.sent()) == 1)
                assert sim.sent()[0].text == settings.optout.confirm_text
                assert await repository.get_optout(gateway.db, PHONE) is not None
