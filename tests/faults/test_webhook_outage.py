"""The webhook is down, answers 500, or hangs past the timeout: nothing is lost, order is kept.

A real `smsgw run` receives SMS from several peers while the webhook misbehaves, then the
webhook recovers. Every message must arrive, each peer's messages in the order they were
received, and a message posted twice (a hung POST is retried) must carry the same
Idempotency-Key both times.

Compressed time: "down for 5 minutes" runs with `backoff_initial = 0.2s`, `backoff_max = 1s`
(config), so the retry schedule that takes minutes in production (10 s ... 10 min) plays out
in seconds; what is tested is the retry logic, not the wall-clock schedule. `make test`
keeps the webhook broken for 3 s, `make faults` for the full 5 minutes of the issue (about
300 retries per event at the 1 s backoff cap).
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.faults.rig import Daemon, emulated_modems, until, write_config
from tests.faults.scale import counts_line
from tests.ports import free_port
from tests.webhook.http_server import Answer, Received, WebhookServer

PEERS = 5


def _body(request: Received) -> dict[str, Any]:
    try:
        document = json.loads(request.body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


class Receiver:
    """Broken (`mode`) until `heal()`; records every incoming_sms POST as it arrives."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.healthy = threading.Event()

    def respond(self, request: Received) -> Answer:
        if self.healthy.is_set():
            return Answer()
        if self.mode == "500":
            return Answer(500, b"boom")
        return Answer(delay=3.0)  # "hang": well past webhook.timeout = 1 s


def _verify(case: str, injected: list[tuple[str, str]], received: list[Received]) -> None:
    first: dict[str, int] = {}
    keys: dict[str, set[str]] = collections.defaultdict(set)
    posts: collections.Counter[str] = collections.Counter()
    for request in received:
        body = _body(request)
        if body.get("type") != "incoming_sms":
            continue
        text = str(body["message"])
        first.setdefault(text, request.index)
        keys[text].add(request.headers["idempotency-key"])
        posts[text] += 1
    out_of_order = []
    for peer in {sender for sender, _ in injected}:
        texts = [text for sender, text in injected if sender == peer]
        arrival = sorted(texts, key=lambda t: first.get(t, 1 << 30))
        if arrival != texts:
            out_of_order.append(peer)
    duplicated = {text: sorted(k) for text, k in keys.items() if posts[text] > 1}
    counts_line(
        case,
        injected=len(injected),
        delivered=len(first),
        lost=len(injected) - len(first),
        duplicated=len(duplicated),
        duplicated_keys=duplicated,
        out_of_order_peers=out_of_order,
    )
    assert len(first) == len(injected), "lost messages"
    assert all(len(k) == 1 for k in keys.values()), "a re-POST changed its Idempotency-Key"
    assert not out_of_order


async def _outage(tmp_path: Path, mode: str, broken_for: float, messages: int) -> None:
    receiver = Receiver(mode)
    port = free_port()
    injected = [(f"+4072100{n % PEERS:04d}", f"outage {n:04d}") for n in range(messages)]
    async with emulated_modems(tmp_path, ["sim0"]) as modems:
        emulator, _ = modems["sim0"]
        url = f"http://127.0.0.1:{port}/sms-webhook"
        config = write_config(
            tmp_path, webhook_url=url, modems={"sim0": emulator.link}, webhook={"timeout": 1}
        )
        daemon = Daemon(config, tmp_path / "daemon.log")
        # "down": nothing listens on the port (the server binds only when it comes back).
        server = None if mode == "down" else WebhookServer(receiver.respond, port=port)
        try:
            await daemon.start()
            if server is not None:
                server.__enter__()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + broken_for
            for n, (sender, text) in enumerate(injected):  # spread over the outage
                await emulator.deliver(sender, text)
                await asyncio.sleep(max(0.0, (deadline - loop.time()) / (messages - n)) / 2)
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            receiver.healthy.set()
            if server is None:
                server = WebhookServer(receiver.respond, port=port).__enter__()
            back = server

            def delivered() -> int:
                texts = {_body(r).get("message") for r in list(back.received)}
                return len(texts & {text for _, text in injected})

            await until(lambda: delivered() == messages, within=60, interval=0.05)
            assert await daemon.stop() == 0, daemon.tail()
        finally:
            await daemon.kill()
            if server is not None:
                server.__exit__(None, None, None)
        _verify(f"webhook {mode} for {broken_for:g}s", injected, list(server.received))


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", ["down", "500", "hang"])
async def test_webhook_outage_loses_nothing_and_keeps_order(tmp_path: Path, mode: str) -> None:
    await _outage(tmp_path, mode, broken_for=3.0, messages=24)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", ["down", "500", "hang"])
async def test_webhook_long_outage_loses_nothing_and_keeps_order(tmp_path: Path, mode: str) -> None:
    await _outage(tmp_path, mode, broken_for=300.0, messages=200)
