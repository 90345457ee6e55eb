"""Store throughput on a real SQLite file (WAL, synchronous=FULL: one fsync per commit).

Each figure is whole business transactions per second, as the gateway runs them:
- incoming: one single-part SMS → part + message + history read + `incoming_sms` outbox row;
- outgoing: enqueue, claim, record the part's TP-MR, mark sent (+ `sms_status` row): 4 commits;
- outbox: claim a due event and complete it (2 commits).
Target: far above what GSM modems move (~0.2-1 SMS/s each); these bound a Pi's SD card.
"""

from __future__ import annotations

import asyncio
import datetime
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import Result
from smsgw.models import WebhookEventKind
from smsgw.store import open_database, repository, upgrade
from smsgw.store.types import (
    HistoryItem,
    IncomingPart,
    NewEvent,
    OutboxState,
    ReceivedMessage,
    StatusTransition,
)

COUNT = 300
TARGET = ">= 20/s (SD card bound; modems do ~1/s)"


def _render_incoming(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
    return NewEvent(event_id=f"in.{message.id}", body=message.text.encode())


def _render_status(change: StatusTransition) -> NewEvent:
    return NewEvent(event_id=f"{change.message_id}.{change.status}", body=b"{}")


async def _measure(url: str) -> dict[str, float]:
    await upgrade(url)
    db = open_database(url)
    try:
        base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        # Submitted one at a time, so each part is a transaction of its own (the measure).
        committer = repository.incoming_part_committer(db, render=_render_incoming, history_size=10)
        started = time.perf_counter()
        for n in range(COUNT):
            part = IncomingPart(
                modem="sim800",
                sender=f"+4072100{n % 20:04d}",
                smsc_timestamp=base + datetime.timedelta(seconds=n),
                text=f"incoming message number {n}",
            )
            await committer.submit(part)
        incoming = COUNT / (time.perf_counter() - started)

        started = time.perf_counter()
        for n in range(COUNT):
            await repository.enqueue_outgoing(
                db, peer=f"+4072100{n % 20:04d}", text="reply", parts=1, encoding="gsm7"
            )
            message = await repository.claim_next_outgoing(db, modem="sim800", node="bench")
            assert message is not None
            await repository.record_part_sent(db, message.id, seq=1, tp_mr=n % 256)
            await repository.mark_sent(db, message.id, render_status=_render_status)
        outgoing = COUNT / (time.perf_counter() - started)

        for n in range(COUNT):
            await repository.enqueue_event(
                db, NewEvent(f"bench.{n}", b"{}"), kind=WebhookEventKind.SMS_STATUS, peer=f"+{n}"
            )
        recorder = repository.OutcomeRecorder(db, node=None, replies_per_peer_per_hour=30)
        started = time.perf_counter()
        done = 0
        while entries := await repository.claim_due_events(db, node="bench", limit=1):
            await recorder.finish(repository.Finished(entries[0].id, OutboxState.DELIVERED))
            done += 1
        outbox = done / (time.perf_counter() - started)
        return {"incoming": incoming, "outgoing": outgoing, "outbox": outbox}
    finally:
        await db.close()


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        rates = asyncio.run(_measure(f"sqlite:///{Path(directory) / 'bench.db'}"))
    detail = {"transactions": COUNT, "engine": "sqlite WAL synchronous=FULL"}
    return [
        Result("store: incoming SMS stored (SQLite)", rates["incoming"], "msg/s", TARGET, detail),
        Result("store: outgoing send cycle (SQLite)", rates["outgoing"], "msg/s", TARGET, detail),
        Result("store: outbox claim+complete (SQLite)", rates["outbox"], "event/s", TARGET, detail),
    ]
