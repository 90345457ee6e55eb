"""The modem is unplugged (idle, mid-read, mid-send) again and again: READY within 2 s of the
port returning each time, and nothing is lost.

The emulator's unplug removes the pty and its link like a vanishing USB stick; it comes back
at the same path after a random 0.3-3 s. The daemon (a real `smsgw run`) must notice, retry
and be READY again; the time from the port's return to READY (as the REST API shows it) is
measured every round. Incoming SMS stay on the SIM or at the SMSC while the port is gone and
must all reach the webhook; an interrupted send must end `sent` or `failed` ("interrupted"),
never stay queued for ever or be sent twice.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import time
from pathlib import Path

import httpx
import pytest

from smsgw.emulator import DeviceOptions
from tests.faults.rig import API_KEY, Daemon, emulated_modems, until, write_config
from tests.faults.scale import counts_line
from tests.webhook.http_server import Answer, WebhookServer

KINDS = ("idle", "mid-read", "mid-send")
FINAL = {"sent", "delivered", "failed", "expired"}


async def _state(client: httpx.AsyncClient, daemon: Daemon) -> str:
    try:
        answer = await client.get(daemon.base + "/api/v1/modems", headers={"X-API-Key": API_KEY})
    except httpx.HTTPError:
        return "unreachable"
    states = [m["state"] for m in answer.json()["modems"]]
    return str(states[0]) if states else "none"


async def _unplug_rounds(tmp_path: Path, rounds: int, seed: int, ready_bound: float) -> None:
    """`ready_bound`: the READY-after-return limit asserted (the 2 s target only in `make faults`;
    `make test` runs on a shared, noisy machine, so it asserts recovery, not speed)."""
    rng = random.Random(seed)
    options = DeviceOptions(boot_scale=0.0, cmgs_delay=0.3, report_delay=0.2, noise_interval=0)
    injected: list[str] = []
    sends: list[str] = []
    recoveries: list[float] = []
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"], options=options) as modems:
            emulator, wire = modems["sim0"]
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link},
                modem_extra='sweep_interval = "5s"',
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")
            async with httpx.AsyncClient(timeout=5) as client:
                try:
                    await daemon.start()
                    for n in range(rounds):
                        kind = KINDS[n % len(KINDS)]
                        if kind == "mid-read":
                            for k in range(5):
                                injected.append(f"unplug {n}.{k}")
                                await emulator.deliver(f"+4072100{k:04d}", injected[-1])
                            await asyncio.sleep(rng.uniform(0.0, 0.02))
                        elif kind == "mid-send":
                            commands = len(wire.cmgs)
                            sends.append(await daemon.send(client, "+40722000000", f"out {n}"))
                            await until(lambda c=commands: len(wire.cmgs) > c, within=10)
                        await emulator.unplug()  # gone until replugged below
                        # The daemon notices (polled over HTTP: no event to wait on).
                        while await _state(client, daemon) == "ready":  # noqa: ASYNC110
                            await asyncio.sleep(0.01)
                        await asyncio.sleep(rng.uniform(0.3, 3.0))
                        await emulator.replug()
                        returned = time.monotonic()
                        while await _state(client, daemon) != "ready":
                            assert time.monotonic() - returned < 30, daemon.tail()
                            await asyncio.sleep(0.01)
                        recoveries.append(time.monotonic() - returned)

                    def delivered() -> set[str]:
                        texts = {json.loads(r.body).get("message") for r in list(server.received)}
                        return texts & set(injected)

                    await until(lambda: len(delivered()) == len(injected), within=30)
                    statuses: collections.Counter[str] = collections.Counter()
                    for message_id in sends:
                        for _ in range(200):
                            answer = await client.get(
                                f"{daemon.base}/api/v1/messages/{message_id}",
                                headers={"X-API-Key": API_KEY},
                            )
                            status = answer.json()["status"]
                            if status in FINAL:
                                break
                            await asyncio.sleep(0.05)
                        statuses[status] += 1
                    assert await daemon.stop() == 0, daemon.tail()
                finally:
                    await daemon.kill()
            sent_texts = collections.Counter(m.text for m in emulator.sent())
    counts_line(
        f"unplug x{rounds}",
        injected=len(injected),
        delivered=len(delivered()),
        lost=len(injected) - len(delivered()),
        sends=len(sends),
        send_statuses=dict(statuses),
        sent_twice=[text for text, times in sent_texts.items() if times > 1],
        ready_after_return_s={
            "median": round(sorted(recoveries)[len(recoveries) // 2], 3),
            "max": round(max(recoveries), 3),
        },
    )
    assert len(delivered()) == len(injected)
    assert sum(statuses[s] for s in FINAL) == len(sends), statuses
    assert max(recoveries) <= ready_bound, recoveries


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_unplugged_three_times_recovers_and_loses_nothing(tmp_path: Path) -> None:
    await _unplug_rounds(tmp_path, rounds=3, seed=random.randrange(1 << 30), ready_bound=20.0)


@pytest.mark.faults
@pytest.mark.timeout(600)
async def test_unplugged_20_times_ready_within_2s_loses_nothing(tmp_path: Path) -> None:
    await _unplug_rounds(tmp_path, rounds=20, seed=20, ready_bound=2.0)
