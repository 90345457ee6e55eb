"""One of two modems stops answering: the other keeps receiving, the API keeps answering,
and when the stuck one answers again everything on its SIM arrives.

The emulator's "unresponsive" mode swallows every command (a firmware hang). The daemon's
health check must time out and restart that modem's session on its own, while sim0's
messages keep flowing to the webhook and `GET /health/live` and `POST /api/v1/messages`
keep working.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.rig import Daemon, emulated_modems, until, write_config
from tests.faults.scale import counts_line
from tests.webhook.http_server import Answer, WebhookServer


async def _stuck(tmp_path: Path, stuck_for: float, messages: int) -> None:
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0", "sim1"]) as modems:
            healthy, _ = modems["sim0"]
            stuck, _ = modems["sim1"]
            config = write_config(
                tmp_path, webhook_url=server.url,
                modems={"sim0": healthy.link, "sim1": stuck.link},
                modem_extra='health_interval = "2s"\nsweep_interval = "3s"',
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")

            def arrived() -> set[str]:
                return {json.loads(r.body).get("message", "") for r in list(server.received)}

            async with httpx.AsyncClient(timeout=5) as client:
                try:
                    await daemon.start()
                    await until(lambda: "sim1: ready" in daemon.tail(100_000), within=10)
                    stuck.faults.set_unresponsive(True)
                    during = [f"healthy {n}" for n in range(messages)]
                    on_stuck = [f"stuck {n}" for n in range(messages // 4)]
                    api_times = []
                    started = time.monotonic()
                    for n, text in enumerate(during):
                        await healthy.deliver("+40721000001", text)
                        if n % 4 == 0:
                            await stuck.deliver("+40721000002", on_stuck[n // 4])
                        before = time.monotonic()
                        live = await client.get(daemon.base + "/health/live")
                        sent = await daemon.send(client, "+40722000000", f"api {n}", modem="sim0")
                        api_times.append(time.monotonic() - before)
                        assert live.status_code == 200
                        assert sent
                        await asyncio.sleep(max(0.0, stuck_for / messages - api_times[-1]))
                    await until(lambda: set(during) <= arrived(), within=30)
                    served_while_stuck = time.monotonic() - started
                    stuck.faults.set_unresponsive(False)
                    await until(lambda: set(on_stuck) <= arrived(), within=60, interval=0.05)
                    assert await daemon.stop() == 0, daemon.tail()
                finally:
                    await daemon.kill()
    got = arrived()
    counts_line(
        f"modem stuck {stuck_for:g}s",
        injected=len(during) + len(on_stuck),
        delivered=len((set(during) | set(on_stuck)) & got),
        lost=len((set(during) | set(on_stuck)) - got),
        healthy_modem_served_s=round(served_while_stuck, 2),
        api_call_max_s=round(max(api_times), 3),
    )
    assert max(api_times) < 2.0, "the API stalled while a modem was stuck"


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_stuck_modem_does_not_stop_the_other_or_the_api(tmp_path: Path) -> None:
    await _stuck(tmp_path, stuck_for=6.0, messages=24)


@pytest.mark.faults
@pytest.mark.timeout(600)
async def test_stuck_modem_for_a_minute(tmp_path: Path) -> None:
    await _stuck(tmp_path, stuck_for=60.0, messages=200)
