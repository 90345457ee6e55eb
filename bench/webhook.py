"""Webhook throughput: building + signing bodies, and draining an outbox to a loopback server.

The first dispatch figure is end to end through real HTTP (stdlib threaded server on
127.0.0.1) and the in-memory outbox the tests use, so it measures the dispatcher's own overhead
plus httpx, not a database. Target: far above what a handful of GSM modems can receive.

The second one is the webhook side of a daemon burst (issue 7): 1,000 `incoming_sms` events of
50 senders already stored in SQLite (WAL, synchronous=FULL, this disk), drained through the
daemon's `StoreOutbox` (claim -> POST -> outcome and auto-reply queued, batched by group
commit) to a webhook that answers every one with `sms_text`. The server runs in a child
process, as in the daemon bench, so its HTTP parsing does not share this process's GIL.
Target: >= 300 msg/s, so the webhook side never limits the burst figure.
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result, rate_per_second
from smsgw.models import Direction
from smsgw.webhook.dispatcher import AttemptReport, WebhookDispatcher, utc_now
from smsgw.webhook.payloads import ConversationTurn, incoming_sms_body
from smsgw.webhook.settings import WebhookSettings
from smsgw.webhook.signing import request_headers
from tests.webhook.http_server import Answer, WebhookServer
from tests.webhook.memory_outbox import InMemoryOutbox

EVENTS = 600
PEERS = 60
STORE_EVENTS = 1000
STORE_PEERS = 50

#: The child process serving the webhook: answers every POST with an auto-reply.
_SERVER = """
import json, sys
from tests.webhook.http_server import Answer, WebhookServer
with WebhookServer(lambda _r: Answer.json({"sms_text": "thanks"})) as server:
    print(server.url, flush=True)
    sys.stdin.read()
    print(len(server.received), flush=True)
"""


def _body(n: int, now: datetime.datetime) -> bytes:
    history = [
        ConversationTurn(
            Direction.IN if k % 2 else Direction.OUT,
            f"earlier message {k}",
            now - datetime.timedelta(minutes=k),
        )
        for k in range(9, 0, -1)
    ]
    return incoming_sms_body(
        message_id=f"m{n}",
        sender=f"+4072100{n % PEERS:04d}",
        message=f"message number {n} with some text",
        received_at=now,
        earlier=history,
        history_size=10,
        modem="sim800",
        recipient=None,
    )


def _build_and_sign(count: int) -> None:
    now = utc_now()
    for n in range(count):
        body = _body(n, now)
        request_headers(body=body, event_id=f"e{n}", secret="s3cret", timestamp=1_700_000_000)


async def _drain() -> tuple[float, list[float]]:
    outbox = InMemoryOutbox()
    now = utc_now()
    for n in range(EVENTS):
        outbox.add(peer=f"+4072100{n % PEERS:04d}", body=_body(n, now), created_at=now)
    latencies: list[float] = []

    def record(report: AttemptReport) -> None:
        latencies.append(report.latency)

    with WebhookServer(lambda _r: Answer.json({"sms_text": "ok"})) as server:
        async with httpx.AsyncClient() as client:
            settings = WebhookSettings(url=server.url, secret="s3cret", max_in_flight=16)
            dispatcher = WebhookDispatcher(outbox, client, settings, on_attempt=record)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await dispatcher.start()
            await outbox.wait_until(
                lambda: all(s.state == "delivered" for s in outbox.events.values()), within=120
            )
            elapsed = loop.time() - started
            await dispatcher.stop()
    return EVENTS / elapsed, latencies


async def _drain_store(directory: Path) -> tuple[float, int, float]:
    """msgs/s draining STORE_EVENTS through the SQLite-backed outbox; outcome transactions;
    CPU seconds of this process per 1,000 events."""
    from smsgw.gateway.outbox_adapter import StoreOutbox
    from smsgw.gateway.render import incoming_renderer
    from smsgw.store import open_database, repository
    from smsgw.store.migrate import upgrade_database
    from smsgw.store.types import IncomingPart, OutboxState

    db = open_database(f"sqlite:///{directory / 'bench.db'}")
    await upgrade_database(db)
    render = incoming_renderer(10)
    start = utc_now()
    committer = repository.incoming_part_committer(db, render=render, history_size=10)
    for n in range(STORE_EVENTS):
        await committer.submit(
            IncomingPart(
                modem="sim0",
                sender=f"+4072200{n % STORE_PEERS:04d}",
                smsc_timestamp=start + datetime.timedelta(seconds=n),
                text=f"burst message {n}",
            ),
        )
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SERVER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    done = asyncio.Event()
    try:
        url = (await server.stdout.readline()).decode().strip()
        outbox = StoreOutbox(db, node="bench", max_parts=3, replies_per_peer_per_hour=30)
        async with httpx.AsyncClient() as client:
            dispatcher = WebhookDispatcher(
                outbox,
                client,
                WebhookSettings(url=url, secret="s"),
                on_attempt=lambda _r: (
                    done.set() if dispatcher.stats.delivered >= STORE_EVENTS else None
                ),
            )
            cpu, started = time.process_time(), time.monotonic()
            await dispatcher.start()
            await asyncio.wait_for(done.wait(), timeout=300)
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
            await dispatcher.stop()
        counts = await repository.outbox_counts(db)
        assert counts[OutboxState.DELIVERED] == STORE_EVENTS, counts
    finally:
        server.stdin.close()
        await server.wait()
        await db.close()
    return STORE_EVENTS / elapsed, outbox.outcomes.group.batches, cpu * 1000 / STORE_EVENTS


def run() -> list[Result]:
    build_rate = rate_per_second(lambda: _build_and_sign(1000), items=1000, repeats=5)
    with tempfile.TemporaryDirectory() as directory:
        store_rate, batches, cpu = asyncio.run(_drain_store(Path(directory)))
    rate, latencies = asyncio.run(_drain())
    quantiles = statistics.quantiles(latencies, n=20)
    return [
        Result(
            "webhook: build + sign incoming_sms (10-entry history)",
            build_rate,
            "events/s",
            ">= 5000",
        ),
        Result(
            f"webhook: dispatch {EVENTS} events / {PEERS} peers to loopback",
            rate,
            "events/s",
            ">= 100",
            {"p50_ms": quantiles[9] * 1000, "p95_ms": quantiles[18] * 1000},
        ),
        Result(
            f"webhook: drain {STORE_EVENTS:,} stored events / {STORE_PEERS} peers from SQLite, "
            "reply queued for each",
            store_rate,
            "msg/s",
            ">= 300",
            {"outcome_transactions": batches, "cpu_s_per_1000": round(cpu, 3)},
        ),
        Result(
            "webhook: POST latency p95 (loopback, 16 in flight)",
            quantiles[18] * 1000,
            "ms",
            "<= 100",
        ),
    ]
