"""A misbehaving modem during an inbound burst: rebooted, SIM full, URC storm, garbage bytes.

Each case runs a real `smsgw run` against an emulator on a real pty and counts what reaches
the webhook: every SMS the network delivered must arrive (lost 0); a re-POST may happen
(at-least-once) but always with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from smsgw.emulator import EmulatedModem
from tests.faults.rig import Daemon, emulated_modems, until, write_config
from tests.faults.scale import counts_line
from tests.webhook.http_server import Answer, Received, WebhookServer

Fault = Callable[[EmulatedModem, int], Awaitable[None]]


def _incoming(received: list[Received]) -> tuple[collections.Counter[str], dict[str, set[str]]]:
    posts: collections.Counter[str] = collections.Counter()
    keys: dict[str, set[str]] = collections.defaultdict(set)
    for request in received:
        with contextlib.suppress(ValueError):
            body = json.loads(request.body)
            if body.get("type") == "incoming_sms":
                posts[body["message"]] += 1
                keys[body["message"]].add(request.headers["idempotency-key"])
    return posts, keys


async def _burst(
    tmp_path: Path,
    case: str,
    messages: int,
    *,
    during: Fault | None = None,
    before_start: bool = False,
    profile: str = "sim800",
    background: Callable[[EmulatedModem], Coroutine[Any, Any, None]] | None = None,
) -> None:
    texts = [f"{case} {n:04d}" for n in range(messages)]
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulated_modems(tmp_path, ["sim0"], profile=profile) as modems:
            emulator, _ = modems["sim0"]
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link},
                modem_extra='sweep_interval = "3s"',
            )  # fmt: skip
            daemon = Daemon(config, tmp_path / "daemon.log")
            noise = asyncio.create_task(background(emulator)) if background else None
            try:
                if not before_start:
                    await daemon.start()
                for n, text in enumerate(texts):
                    await emulator.deliver(f"+4072100{n % 7:04d}", text)
                    if during is not None:
                        await during(emulator, n)
                    await asyncio.sleep(0.005)
                if before_start:
                    await daemon.start()

                def delivered() -> int:
                    return len(set(_incoming(list(server.received))[0]) & set(texts))

                with contextlib.suppress(AssertionError):  # counted and asserted below
                    await until(lambda: delivered() == messages, within=60, interval=0.05)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                if noise is not None:
                    noise.cancel()
                await daemon.kill()
        posts, keys = _incoming(list(server.received))
    got = set(posts) & set(texts)
    counts_line(
        case,
        injected=messages,
        delivered=len(got),
        lost=messages - len(got),
        duplicated=sum(1 for t in got if posts[t] > 1),
        duplicated_keys={t: sorted(keys[t]) for t in got if posts[t] > 1},
    )
    assert len(got) == messages, daemon.tail()
    assert all(len(keys[t]) == 1 for t in got), "a re-POST changed its Idempotency-Key"


def _reboots(messages: int) -> Fault:
    """Reboot the modem a quarter and three quarters into the burst."""

    async def reboot(emulator: EmulatedModem, n: int) -> None:
        if n in (messages // 4, 3 * messages // 4):
            await emulator.reboot()

    return reboot


def _garbage(seed: int) -> Fault:
    rng = random.Random(seed)

    async def inject(emulator: EmulatedModem, n: int) -> None:
        if n % 5 == 0:
            emulator.faults.inject_garbage(rng.randbytes(rng.randint(1, 40)))

    return inject


async def _rssi_storm(emulator: EmulatedModem) -> None:
    """^RSSI every 10 ms for as long as the burst lasts (Huawei's favourite noise)."""
    level = 0
    while True:
        await emulator.faults.inject_urc(f"^RSSI:{level % 32}")
        level += 1
        await asyncio.sleep(0.01)


def _size(bounded: int, long: int, *, faults: bool) -> int:
    return long if faults else bounded


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "faults", [pytest.param(False), pytest.param(True, marks=pytest.mark.faults)]
)
async def test_modem_rebooted_mid_burst(tmp_path: Path, faults: bool) -> None:
    messages = _size(60, 400, faults=faults)
    await _burst(tmp_path, "reboot", messages, during=_reboots(messages))


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "faults", [pytest.param(False), pytest.param(True, marks=pytest.mark.faults)]
)
async def test_sim_full_while_the_daemon_was_down(tmp_path: Path, faults: bool) -> None:
    """50 fit on the SIM, the rest wait at the SMSC until the daemon frees space."""
    await _burst(tmp_path, "sim-full", _size(70, 300, faults=faults), before_start=True)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "faults", [pytest.param(False), pytest.param(True, marks=pytest.mark.faults)]
)
async def test_rssi_storm_every_10ms(tmp_path: Path, faults: bool) -> None:
    await _burst(
        tmp_path, "rssi-storm", _size(40, 400, faults=faults),
        profile="huawei", background=_rssi_storm,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "faults", [pytest.param(False), pytest.param(True, marks=pytest.mark.faults)]
)
async def test_garbage_bytes_on_the_line(tmp_path: Path, faults: bool) -> None:
    await _burst(tmp_path, "garbage", _size(40, 400, faults=faults), during=_garbage(7))
