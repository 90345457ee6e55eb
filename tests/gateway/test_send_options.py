"""Sending options reach the network: the SUBMIT PDU the emulated modem received carries
message class 0 for flash, the relative TP-VP asked for, and the forced alphabet."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.gateway import operations
from smsgw.gateway.mqtt_sends import mqtt_submitter
from smsgw.gateway.send_options import check_send_options
from smsgw.mqtt import SendCommand, SendRefused
from tests.gateway.helpers import emulators, eventually, gateway_settings, running_gateway
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)


def _decoded_submits(pdus: tuple[str, ...]) -> list[pdu.Submit]:
    decoded = [pdu.decode(hex_pdu) for hex_pdu in pdus]
    assert all(isinstance(part, pdu.Submit) for part in decoded)
    return [part for part in decoded if isinstance(part, pdu.Submit)]


async def test_flash_validity_and_encoding_are_in_the_pdu_the_modem_sent(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                now = gateway.db.clock()
                flash = operations.check_outgoing(
                    settings, to="+40722000001", text="Flash", modem=None,
                    options=check_send_options(now=now, flash=True, validity="30m"),
                )  # fmt: skip
                plain = operations.check_outgoing(
                    settings, to="+40722000002", text="Plain " * 40, modem=None,
                    options=check_send_options(now=now, validity="2d", encoding="ucs2"),
                )  # fmt: skip
                for outgoing in (flash, plain):
                    await operations.send(
                        gateway, outgoing, delivery_report=False, idempotency_key=None
                    )
                await eventually(lambda: len(modems["sim0"].sent()) == 2)
                sent = {message.recipient: message for message in modems["sim0"].sent()}
                (flash_pdu,) = _decoded_submits(sent["+40722000001"].pdus)
                assert flash_pdu.message_class == 0
                assert flash_pdu.validity == datetime.timedelta(minutes=30)
                assert flash_pdu.text == "Flash"
                plain_pdus = _decoded_submits(sent["+40722000002"].pdus)
                assert len(plain_pdus) == 4  # 240 characters in UCS-2: 67 per part
                for part in plain_pdus:
                    assert part.message_class is None
                    assert part.validity == datetime.timedelta(days=2)
                    assert part.encoding == "ucs2"
                    assert part.srr is False


async def test_mqtt_sends_take_the_same_options(tmp_path: Path) -> None:
    """The MQTT send topic goes through the API's checks: its options reach the PDU, and a
    forced gsm7 it cannot carry is refused with the API's reason."""
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                submit = mqtt_submitter(gateway)
                await submit(
                    SendCommand(to="+40722000003", text="Door open", request_id=None,
                                delivery_report=False, modem=None, flash=True, validity="1h")
                )  # fmt: skip
                with pytest.raises(SendRefused, match="cannot be sent as gsm7"):
                    await submit(
                        SendCommand(to="+40722000003", text="Uşă", request_id=None,
                                    delivery_report=False, modem=None, encoding="gsm7")
                    )  # fmt: skip
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                (part,) = _decoded_submits(modems["sim0"].sent()[0].pdus)
                assert part.message_class == 0
                assert part.validity == datetime.timedelta(hours=1)
