"""Daemon behaviour around the flows: reassembly timeout, a dead modem, systemd notify."""

from __future__ import annotations

import asyncio
import datetime
import socket
from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.gateway import Gateway
from smsgw.modem import ModemState
from smsgw.sdnotify import Notifier
from smsgw.store import repository
from tests.gateway.helpers import (
    SENDER,
    emulators,
    eventually,
    fast_supervisors,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)


async def test_an_incomplete_message_is_delivered_after_the_timeout_with_the_gap_marked(
    tmp_path: Path,
) -> None:
    parts = pdu.encode_deliver(
        SENDER, "A" * 153 + "B" * 153 + "C" * 10, datetime.datetime.now(datetime.UTC),
        concat_ref=9,
    )  # fmt: skip
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            timeout = datetime.timedelta(seconds=0.5)
            async with running_gateway(settings, reassembly_timeout=timeout):
                await modems["sim0"].deliver_pdu(parts[0].hex)
                await modems["sim0"].deliver_pdu(parts[2].hex)
                await eventually(lambda: len(server.received) == 1)
                (event,) = of_type(server.received, "incoming_sms")
                assert event["message"] == ("A" * 153 + repository.MISSING_PART_MARKER + "C" * 10)


async def test_a_dead_modem_does_not_stop_the_other(tmp_path: Path) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path,
                webhook_url=server.url,
                modems={"sim0": tmp_path / "sim0", "gone": tmp_path / "no-such-port"},
            )
            async with Gateway(settings, supervisor_settings=fast_supervisors) as gateway:
                await eventually(lambda: gateway.supervisor("sim0").state is ModemState.READY)
                assert gateway.supervisor("gone").state is not ModemState.READY
                ready, why = await gateway.ready()
                assert ready, why
                assert "1/2 modems ready" in why
                await modems["sim0"].deliver(SENDER, "still working")
                await eventually(lambda: len(server.received) == 1)
                sent = await gateway.submit(
                    to=SENDER, text="via the live one", modem=None, delivery_report=True,
                    idempotency_key=None,
                )  # fmt: skip
                # The sender last talked to sim0, which is READY: the answer sticks to it.
                assert sent.message.modem == "sim0"
                await eventually(lambda: len(modems["sim0"].sent()) == 1)
                views = {view.name: view for view in await gateway.modems()}
                assert views["sim0"].state == "ready"
                assert views["gone"].state != "ready"
                assert views["sim0"].counters["received"] == 1


async def test_systemd_hears_ready_and_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(5)
        async with emulators(tmp_path, "sim0"):
            settings = gateway_settings(
                tmp_path, webhook_url="", modems={"sim0": tmp_path / "sim0"}
            )
            notifier = Notifier(env={"NOTIFY_SOCKET": address})
            async with running_gateway(settings, notifier=notifier):
                first = listener.recv(4096).decode()
            datagrams = [first]
            listener.setblocking(False)
            while True:
                try:
                    datagrams.append(listener.recv(4096).decode())
                except BlockingIOError:
                    break
    assert first.startswith("READY=1")
    assert "STATUS=" in first
    assert any(d.startswith("STOPPING=1") for d in datagrams)


async def test_modem_details_are_shown_as_soon_as_the_modem_is_ready(tmp_path: Path) -> None:
    """Operator and signal come from a read when the modem turns READY, not from the next
    60 s info heartbeat (the start-up one found the modem unplugged and skipped it)."""
    async with emulators(tmp_path, "sim0") as modems:
        await modems["sim0"].unplug()
        settings = gateway_settings(tmp_path, webhook_url="", modems={"sim0": tmp_path / "sim0"})
        async with Gateway(settings, supervisor_settings=fast_supervisors) as gateway:
            supervisor = gateway.supervisor("sim0")

            async def details() -> tuple[str | None, int | None]:
                [view] = await gateway.modems()
                return view.operator, view.signal_dbm

            await eventually(lambda: bool(supervisor.reason))  # tried and found no modem
            assert await details() == (None, None)
            await modems["sim0"].replug()
            async with asyncio.timeout(5):
                await supervisor.wait_ready()
                while None in await details():  # noqa: ASYNC110 - polling the API view
                    await asyncio.sleep(0.05)
            operator, signal = await details()
            assert operator
            assert signal is not None
            assert signal < 0
            async with asyncio.timeout(5):  # the heartbeat row other nodes read, too
                while True:
                    [beat] = await repository.list_modem_heartbeats(gateway.db)
                    if isinstance(beat.info, dict) and beat.info.get("operator") == operator:
                        break
                    await asyncio.sleep(0.05)
            # The last details stay visible while the modem is away (kept between reads).
            await modems["sim0"].unplug()
            await eventually(lambda: supervisor.state is not ModemState.READY)
            [view] = await gateway.modems()
            assert (view.operator, view.signal_dbm) == (operator, signal)
