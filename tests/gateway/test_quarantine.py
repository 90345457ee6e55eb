"""Undecodable inbound SMS end to end: emulated modem on a pty -> gateway -> quarantine.

They are kept aside and deleted from the SIM, so they cannot fill it; good messages keep
flowing; the `quarantined` alert is raised once and resolved when the operator clears the
modem's last entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.emulator import EmulatedModem
from smsgw.emulator.storage import Stat
from smsgw.exceptions import PduError
from smsgw.gateway import Gateway, operations
from smsgw.store import repository
from tests.gateway.helpers import (
    EMULATOR_OPTIONS,
    SENDER,
    eventually,
    gateway_settings,
    of_type,
    running_gateway,
)
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(90)

BAD_COUNT = 60
GOOD_COUNT = 5


#: A good DELIVER the undecodable ones are made from (a fixed time: the same bytes each call).
_TEMPLATE = pdu.encode_deliver(
    SENDER, "x", datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC), smsc="+40744000000"
)[0].hex


def undecodable(serial: int) -> str:
    """A distinct PDU no decoder takes: a DELIVER whose first octet says TP-MTI 3
    (reserved), with `serial` in what would be the user data."""
    return f"{_TEMPLATE[:16]}03{_TEMPLATE[18:-4]}{serial:04X}"


def undecodable_report(serial: int) -> str:
    """A STATUS-REPORT (TP-MTI 2) cut off inside its recipient address."""
    return f"07910447040000F0020B91042701{serial:04X}"


@contextlib.asynccontextmanager
async def highest_use(modem: EmulatedModem, storage: str) -> AsyncIterator[list[int]]:
    """Sample `storage`'s use every few ms while the body runs; yields [highest so far]."""
    highest = [0]

    async def sample() -> None:
        while True:
            highest[0] = max(highest[0], modem.device.storage(storage).used)
            await asyncio.sleep(0.002)

    task = asyncio.create_task(sample())
    try:
        yield highest
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _all_quarantined(gateway: Gateway) -> list[int]:
    return [entry.id for entry in await repository.list_quarantine(gateway.db, limit=1000)]


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_undecodable_sms_never_fill_the_sim_and_good_ones_keep_flowing(
    tmp_path: Path, profile: str
) -> None:
    with WebhookServer(lambda _r: Answer.json({"sms_text": "auto"})) as server:
        async with EmulatedModem(profile, tmp_path / "sim0", options=EMULATOR_OPTIONS) as modem:
            capacity = modem.device.storage("SM").capacity
            assert capacity < BAD_COUNT  # without quarantine the SIM fills up
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                async with highest_use(modem, "SM") as highest:
                    for serial in range(BAD_COUNT):
                        await modem.deliver_pdu(undecodable(serial))
                        await asyncio.sleep(0.01)
                    for number in range(GOOD_COUNT):
                        await modem.deliver(SENDER, f"good {number}")
                    await eventually(
                        lambda: len(of_type(server.received, "incoming_sms")) == GOOD_COUNT,
                        within=30,
                    )
                    await eventually(lambda: modem.device.storage("SM").used == 0)
                assert highest[0] < capacity
                assert not modem.device.state.network_queue  # nothing held back at the SMSC
                texts = sorted(body["message"] for body in of_type(server.received, "incoming_sms"))
                assert texts == [f"good {number}" for number in range(GOOD_COUNT)]

                entries = await repository.list_quarantine(gateway.db, limit=1000)
                assert len(entries) == BAD_COUNT
                assert {entry.pdu_hex for entry in entries} == {
                    undecodable(serial) for serial in range(BAD_COUNT)
                }
                assert all("TP-MTI 3 is reserved" in entry.error for entry in entries)
                assert all(entry.modem == "sim0" and entry.storage == "SM" for entry in entries)

                # One alert for all sixty, and no auto-reply to it.
                await eventually(lambda: len(of_type(server.received, "modem_alert")) == 1)
                alert = of_type(server.received, "modem_alert")[0]
                assert list(alert) == [
                    "type", "id", "modem", "alert", "detail", "resolved", "timestamp"
                ]  # fmt: skip
                assert (alert["modem"], alert["alert"], alert["resolved"]) == (
                    "sim0",
                    "quarantined",
                    False,
                )
                await eventually(
                    lambda: len([m for m in modem.sent() if m.text == "auto"]) == GOOD_COUNT
                )

                # The operator clears them: the last one resolves the alert.
                ids = await _all_quarantined(gateway)
                for entry_id in ids[:-1]:
                    assert await operations.release_quarantined(gateway, entry_id) is not None
                assert await repository.list_open_alerts(gateway.db) != []
                assert await operations.release_quarantined(gateway, ids[-1]) is not None
                assert await operations.release_quarantined(gateway, ids[-1]) is None
                assert await repository.list_open_alerts(gateway.db) == []
                await eventually(lambda: len(of_type(server.received, "modem_alert")) == 2)
                resolved = of_type(server.received, "modem_alert")[1]
                assert resolved["resolved"] is True
                assert resolved["alert"] == "quarantined"
                assert resolved["id"] != alert["id"]
                await asyncio.sleep(0.3)
                assert len([m for m in modem.sent() if m.text == "auto"]) == GOOD_COUNT


async def test_the_start_sweep_quarantines_what_the_sim_already_holds(tmp_path: Path) -> None:
    """Entries stored while the gateway was down are found by AT+CMGL, not by +CMTI."""
    with WebhookServer(lambda _r: Answer()) as server:
        async with EmulatedModem("sim800", tmp_path / "sim0", options=EMULATOR_OPTIONS) as modem:
            storage = modem.device.storage("SM")
            for serial in range(3):
                storage.store(Stat.REC_UNREAD, undecodable(serial))
            good = pdu.encode_deliver(SENDER, "kept", datetime.datetime.now(datetime.UTC))
            storage.store(Stat.REC_UNREAD, good[0].hex)
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                await eventually(lambda: storage.used == 0)
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)
                assert len(await _all_quarantined(gateway)) == 3


async def test_an_undecodable_status_report_in_huawei_sr_storage_is_quarantined(
    tmp_path: Path,
) -> None:
    """+CDSI names the "SR" storage: read and deleted there, like a message in "SM"."""
    with WebhookServer(lambda _r: Answer()) as server:
        async with EmulatedModem("huawei", tmp_path / "sim0", options=EMULATOR_OPTIONS) as modem:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                reports = modem.device.storage("SR")
                index = reports.store(Stat.REC_UNREAD, undecodable_report(7))
                await modem.faults.inject_urc(f'+CDSI: "SR",{index}')
                await eventually(lambda: reports.used == 0)
                entries = await repository.list_quarantine(gateway.db)
                assert [(e.storage, e.storage_index, e.pdu_hex) for e in entries] == [
                    ("SR", index, undecodable_report(7))
                ]
                await modem.deliver(SENDER, "still flowing")
                await eventually(lambda: len(of_type(server.received, "incoming_sms")) == 1)


async def test_a_quarantine_that_cannot_commit_leaves_the_entry_on_the_sim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At-least-once: the delete follows the commit, so a failing store keeps the entry."""
    attempts: list[str] = []

    async def failing(*_args: object, **_kwargs: object) -> object:
        attempts.append("called")
        raise RuntimeError("disk full")

    with WebhookServer(lambda _r: Answer()) as server:
        async with EmulatedModem("sim800", tmp_path / "sim0", options=EMULATOR_OPTIONS) as modem:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            async with running_gateway(settings) as gateway:
                with monkeypatch.context() as patch:
                    patch.setattr(repository, "quarantine_pdu", failing)
                    await modem.deliver_pdu(undecodable(1))
                    await eventually(lambda: bool(attempts))
                    await asyncio.sleep(0.2)
                    assert modem.device.storage("SM").used == 1
                # The next sweep offers it again, and now it is kept and deleted.
                ready = await gateway.supervisor("sim0").wait_ready()
                await ready.inbound.sweep()
                assert modem.device.storage("SM").used == 0
                assert len(await _all_quarantined(gateway)) == 1


def test_undecodable_helpers_really_are_undecodable() -> None:
    for text in (undecodable(0), undecodable(59), undecodable_report(7)):
        with pytest.raises(PduError):
            pdu.decode(text)
    assert len({undecodable(serial) for serial in range(BAD_COUNT)}) == BAD_COUNT
