"""A flood of undecodable SMS mixed with good ones, against a real `smsgw run`.

Without quarantine the undecodable ones stay on the SIM until it is full and the network
holds every later SMS back (while the modem still says "ready"). Counted: good ones
injected / delivered / lost, undecodable ones injected / quarantined (through the API), the
highest SIM use seen, `modem_alert` events and the `smsgw_inbound_quarantined_total` metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from pathlib import Path

import httpx
import pytest

from tests.faults.rig import API_KEY, Daemon, emulated_modems, until, write_config
from tests.faults.scale import counts_line
from tests.gateway.test_quarantine import highest_use, undecodable
from tests.webhook.http_server import Answer, Received, WebhookServer


def _bodies(received: list[Received], kind: str) -> list[dict[str, object]]:
    bodies = []
    for request in received:
        with contextlib.suppress(ValueError):
            body = json.loads(request.body)
            if body.get("type") == kind:
                bodies.append(body)
    return bodies


async def _quarantine_ids(client: httpx.AsyncClient, base: str) -> list[int]:
    ids: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, int] = {"limit": 1000} | ({"before": before} if before else {})
        page = (await client.get(f"{base}/api/v1/quarantine", params=params)).json()
        ids += [entry["id"] for entry in page["entries"]]
        before = page["next_before"]
        if before is None:
            return ids


async def _metric(client: httpx.AsyncClient, base: str) -> float:
    text = (await client.get(f"{base}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("smsgw_inbound_quarantined_total{")
    )


async def _flood(tmp_path: Path, case: str, profile: str, bad: int, good: int, gap: float) -> None:
    order = ["bad"] * bad + ["good"] * good
    random.Random(15).shuffle(order)
    texts = [f"{case} {n:04d}" for n in range(good)]
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"], profile=profile) as modems:
            emulator, _ = modems["sim0"]
            capacity = emulator.device.storage("SM").capacity
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link},
                modem_extra='sweep_interval = "3s"',
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")
            headers = {"X-API-Key": API_KEY}
            try:
                await daemon.start()
                async with highest_use(emulator, "SM") as highest:
                    serial, number = 0, 0
                    for kind in order:
                        if kind == "bad":
                            await emulator.deliver_pdu(undecodable(serial))
                            serial += 1
                        else:
                            await emulator.deliver(f"+4072100{number % 7:04d}", texts[number])
                            number += 1
                        await asyncio.sleep(gap)

                    def delivered() -> int:
                        got = {b["message"] for b in _bodies(server.received, "incoming_sms")}
                        return len(got & set(texts))

                    with contextlib.suppress(AssertionError):  # counted and asserted below
                        await until(lambda: delivered() == good, within=90, interval=0.05)
                        await until(lambda: emulator.device.storage("SM").used == 0, within=30)
                async with httpx.AsyncClient(headers=headers, timeout=10) as client:
                    quarantined = await _quarantine_ids(client, daemon.base)
                    metric = await _metric(client, daemon.base)
                with contextlib.suppress(AssertionError):
                    await until(lambda: bool(_bodies(server.received, "modem_alert")), within=10)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
        got = {b["message"] for b in _bodies(server.received, "incoming_sms")} & set(texts)
        alerts = _bodies(server.received, "modem_alert")
    counts_line(
        case,
        good_injected=good,
        good_delivered=len(got),
        good_lost=good - len(got),
        bad_injected=bad,
        quarantined=len(quarantined),
        quarantined_metric=metric,
        sim_capacity=capacity,
        sim_highest_use=highest[0],
        sms_per_second=round(1 / gap),
        network_held_back=len(emulator.device.state.network_queue),
        alerts=[(a["alert"], a["resolved"]) for a in alerts],
    )
    assert len(got) == good, daemon.tail()
    assert len(quarantined) == bad
    assert metric == bad
    assert highest[0] < capacity
    assert [(a["alert"], a["resolved"]) for a in alerts] == [("quarantined", False)]


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("profile", "bad", "good", "gap"),
    [
        pytest.param("sim800", 60, 20, 0.005, id="sim800"),
        # 200 SMS/s, far beyond what a network delivers to one SIM: undecodable entries are
        # pipelined like good ones, so the SIM stays far from full even then.
        pytest.param("sim800", 400, 200, 0.005, id="sim800-long", marks=pytest.mark.faults),
        pytest.param("huawei", 400, 200, 0.005, id="huawei-long", marks=pytest.mark.faults),
    ],
)
async def test_undecodable_flood_mixed_with_good_sms(
    tmp_path: Path, profile: str, bad: int, good: int, gap: float
) -> None:
    await _flood(tmp_path, f"quarantine-{profile}", profile, bad, good, gap)
