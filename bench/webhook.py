"""Webhook throughput: building + signing bodies, and draining an outbox to a loopback server.

The dispatch figure is end to end through real HTTP (stdlib threaded server on 127.0.0.1) and
the in-memory outbox the tests use, so it measures the dispatcher's own overhead plus httpx,
not a database. Target: far above what a handful of GSM modems can receive (~1 SMS/s each).
"""

from __future__ import annotations

import asyncio
import datetime
import statistics

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


def run() -> list[Result]:
    build_rate = rate_per_second(lambda: _build_and_sign(1000), items=1000, repeats=5)
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
            "webhook: POST latency p95 (loopback, 16 in flight)",
            quantiles[18] * 1000,
            "ms",
            "<= 100",
        ),
    ]
