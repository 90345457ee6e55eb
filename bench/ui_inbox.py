"""Operator inbox queries on a realistically full SQLite store (issue 9).

The conversations page and its 2-second polling run `list_conversations` (a GROUP BY over
every message) each time, so its latency on a large history bounds how long the inbox stays
usable on a Pi without pruning. 50,000 messages across 2,000 peers are bulk-inserted, then
the list, one thread and the webhook health are timed (median of repeated calls).
Target: list well under the 2 s poll interval (< 250 ms) at 50k messages.
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa

from bench.common import Result
from smsgw.store import Database, open_database, upgrade
from smsgw.store.repository import inbox
from smsgw.store.schema import messages

MESSAGES = 50_000
PEERS = 2_000
REPEATS = 7


async def _fill(db: Database) -> None:
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    rows = []
    for n in range(MESSAGES):
        at = base + datetime.timedelta(seconds=n)
        incoming = n % 3 != 0
        rows.append(
            {
                "id": f"B{n:025d}",
                "direction": "in" if incoming else "out",
                "peer": f"+4072{n % PEERS:07d}",
                "modem": "sim800",
                "text": f"message {n} with some ordinary length text in it",
                "encoding": "gsm7",
                "parts": 1,
                "received_at": at if incoming else None,
                "created_at": at,
                "updated_at": at,
                "status": None if incoming else "delivered",
                "delivery_report": not incoming,
            }
        )
    async with db.transaction("bench: fill") as connection:
        await connection.execute(sa.insert(messages), rows)


async def _median_ms(call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _measure(url: str) -> dict[str, float]:
    await upgrade(url)
    db = open_database(url)
    try:
        await _fill(db)
        peer = f"+4072{7:07d}"
        await inbox.mark_read(db, peer)
        return {
            "list": await _median_ms(lambda: inbox.list_conversations(db, limit=100)),
            "thread": await _median_ms(lambda: inbox.thread(db, peer)),
            "health": await _median_ms(lambda: inbox.webhook_health(db)),
        }
    finally:
        await db.close()


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        ms = asyncio.run(_measure(f"sqlite:///{Path(directory) / 'bench.db'}"))
    detail = {"messages": MESSAGES, "peers": PEERS}
    return [
        Result("ui_inbox.conversation_list_50k", round(ms["list"], 1), "ms", "< 250 ms", detail),
        Result("ui_inbox.thread_50k", round(ms["thread"], 1), "ms", "< 50 ms", detail),
        Result("ui_inbox.webhook_health", round(ms["health"], 1), "ms", "< 50 ms", detail),
    ]
