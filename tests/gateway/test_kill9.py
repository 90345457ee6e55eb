"""`kill -9` of a real `smsgw run` during a burst of 200 incoming SMS loses nothing.

The daemon runs as a subprocess against `smsgw emulator serve` (a real pty) and a real HTTP
webhook; it is killed with SIGKILL at random moments of the burst and restarted. Afterwards
every message must have reached the webhook, and a message posted twice must carry the same
Idempotency-Key both times (so the receiver can de-duplicate).

`make test` runs a short version (2 kills); `pytest -m faults tests/gateway` the long one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from smsgw.emulator.control import request as control_request
from tests.gateway.helpers import eventually
from tests.ports import free_port
from tests.webhook.http_server import Answer, Received, WebhookServer

MESSAGES = 200
SENDERS = 10


async def _spawn(log: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "SMSGW_STATE_DIR": str(log.parent / "state")}
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smsgw", *args, stdout=sink, stderr=sink, env=env
        )


@contextlib.asynccontextmanager
async def _emulator(tmp_path: Path) -> AsyncIterator[Path]:
    link = tmp_path / "modem"
    process = await _spawn(
        tmp_path / "emulator.log", "emulator", "serve", "--link", str(link),
        "--cmgs-delay", "0.01", "--report-delay", "0.2",
    )  # fmt: skip
    control = Path(f"{link}.ctl")
    try:
        await eventually(lambda: control.exists() and link.exists(), within=15)
        yield control
    finally:
        process.terminate()
        await process.wait()


def _body(request: Received) -> dict[str, Any]:
    """The JSON posted. A POST a kill cut off mid-body is dropped by the WebhookServer (as
    a real server would), so anything unparsable here is a real bug and fails loudly."""
    return request.json()


def _acknowledge(request: Received) -> Answer:
    """Every tenth message gets an auto-reply, so sends are cut by the kills too."""
    body = _body(request)
    if body.get("type") == "incoming_sms" and body["message"].endswith("0"):
        return Answer.json({"sms_text": f"ack {body['message']}"})
    return Answer()


def _started(log: Path) -> int:
    return log.read_text().count("gateway node kill9 started")


def _all_started(log: Path, spawned: int) -> bool:
    return _started(log) == spawned


def _config(tmp_path: Path, webhook_url: str) -> Path:
    path = tmp_path / "smsgw.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "smsgw.db"}"
[api]
listen = "127.0.0.1:{free_port()}"
[webhook]
url = "{webhook_url}"
timeout = 2
backoff_initial = "0.2s"
backoff_max = "1s"
[node]
name = "kill9"
[[modem]]
name = "sim0"
port = "{tmp_path / "modem"}"
sweep_interval = "5s"
""",
        encoding="utf-8",
    )
    return path


async def _burst_with_kills(tmp_path: Path, kills: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    kill_at = sorted(rng.sample(range(10, MESSAGES - 10), kills))
    with WebhookServer(_acknowledge) as server:
        async with _emulator(tmp_path) as control:
            config = _config(tmp_path, server.url)
            log = tmp_path / "daemon.log"
            daemon = await _spawn(log, "run", "--config", str(config))
            spawned = 1
            try:
                for n in range(MESSAGES):
                    if kill_at and n == kill_at[0]:
                        kill_at.pop(0)
                        # Kill a daemon that is really working: started, then a random moment.
                        await eventually(functools.partial(_all_started, log, spawned), within=20)
                        await asyncio.sleep(rng.uniform(0.0, 0.5))
                        daemon.send_signal(signal.SIGKILL)
                        await daemon.wait()
                        await asyncio.sleep(rng.uniform(0.0, 0.5))
                        daemon = await _spawn(log, "run", "--config", str(config))
                        spawned += 1
                    sender = f"+4072100{n % SENDERS:04d}"
                    payload = {"cmd": "deliver", "sender": sender, "text": f"burst {n:03d}"}
                    answer = await asyncio.to_thread(control_request, control, payload)
                    assert answer.get("ok"), answer
                    await asyncio.sleep(0.01)

                def delivered() -> set[str]:
                    return {
                        body["message"]
                        for body in map(_body, list(server.received))
                        if body.get("type") == "incoming_sms"
                    }

                with contextlib.suppress(AssertionError):  # counted below, with the log
                    await eventually(lambda: len(delivered()) == MESSAGES, within=60)
                await asyncio.sleep(1.0)  # the last auto-replies go out
                answer = await asyncio.to_thread(control_request, control, {"cmd": "sent"})
                replies = collections.Counter(str(m["text"]) for m in answer["sent"])
            finally:
                daemon.terminate()  # SIGTERM: the graceful way out
                async with asyncio.timeout(30):
                    exit_code = await daemon.wait()
        keys: dict[str, set[str]] = collections.defaultdict(set)
        posts: collections.Counter[str] = collections.Counter()
        for received in list(server.received):
            body = _body(received)
            if body.get("type") == "incoming_sms":
                keys[body["message"]].add(received.headers["idempotency-key"])
                posts[body["message"]] += 1
    counts = {
        "injected": MESSAGES,
        "kills": kills,
        "delivered": len(keys),
        "lost": MESSAGES - len(keys),
        "duplicated": sum(1 for count in posts.values() if count > 1),
        "duplicates_with_another_key": sum(1 for k in keys.values() if len(k) > 1),
        "replies_asked": MESSAGES // 10,
        "replies_sent": len(replies),
        "replies_sent_twice": sum(1 for count in replies.values() if count > 1),
    }
    (tmp_path / "counts.json").write_text(json.dumps(counts))
    print(f"kill -9 burst (seed {seed}): {json.dumps(counts)}")
    assert _started(log) == kills + 1
    assert exit_code == 0, log.read_text()[-3000:]
    assert log.read_text().count("gateway node kill9 stopped") == 1
    assert counts["lost"] == 0, (counts, log.read_text()[-3000:])
    assert counts["duplicates_with_another_key"] == 0, counts
    # A reply cut by a kill is reported `interrupted`, never sent a second time.
    assert counts["replies_sent_twice"] == 0, counts
    assert counts["replies_sent"] >= counts["replies_asked"] - kills, counts
    return counts


@pytest.mark.slow
@pytest.mark.timeout(150)
async def test_kill_9_twice_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    await _burst_with_kills(tmp_path, kills=2, seed=random.randrange(1 << 30))


@pytest.mark.faults
@pytest.mark.timeout(600)
@pytest.mark.parametrize("round_", range(3))
async def test_kill_9_many_times_during_a_burst_loses_nothing(tmp_path: Path, round_: int) -> None:
    await _burst_with_kills(tmp_path, kills=6, seed=1000 + round_)
