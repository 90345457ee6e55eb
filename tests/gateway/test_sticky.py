"""Sticky SIM with three modems: a recipient gets API sends from the modem they last talked
to; when that modem goes offline, from another READY one; someone new from any of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw.gateway import operations
from smsgw.gateway.daemon import Gateway
from smsgw.modem import ModemState
from smsgw.store.types import Enqueued
from tests.gateway.helpers import emulators, eventually, gateway_settings, running_gateway
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)

ALICE = "+40722000040"


async def _send(gateway: Gateway, to: str, text: str) -> Enqueued:
    outgoing = operations.check_outgoing(gateway.settings, to=to, text=text, modem=None)
    return await operations.send(gateway, outgoing, delivery_report=False, idempotency_key=None)


async def test_the_recipient_keeps_their_sim_while_it_is_ready(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0", "sim1", "sim2") as modems:
            links = {name: tmp_path / name for name in modems}
            settings = gateway_settings(tmp_path, webhook_url=server.url, modems=links)
            async with running_gateway(settings) as gateway:
                await modems["sim1"].deliver(ALICE, "hi, it's Alice")
                # Stored (and posted) before the sends below look for Alice's last modem.
                await eventually(lambda: len(server.received) == 1)

                def sent_by(name: str) -> list[str]:
                    return [m.text for m in modems[name].sent()]

                for n in range(3):
                    enqueued = await _send(gateway, ALICE, f"to Alice {n}")
                    assert enqueued.message.modem == "sim1"
                await eventually(lambda: len(sent_by("sim1")) == 3)
                assert sent_by("sim0") == sent_by("sim2") == []

                # Someone new: unbound, whichever READY modem is idle first.
                stranger = await _send(gateway, "+40722000041", "hello stranger")
                assert stranger.message.modem is None

                await modems["sim1"].unplug()
                await eventually(lambda: gateway.supervisor("sim1").state is not ModemState.READY)
                moved = await _send(gateway, ALICE, "while sim1 is away")
                assert moved.message.modem is None
                await eventually(lambda: "while sim1 is away" in sent_by("sim0") + sent_by("sim2"))
                assert "while sim1 is away" not in sent_by("sim1")
