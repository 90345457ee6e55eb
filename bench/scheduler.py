"""Scheduled messages: how late the scheduler queues them, and what it costs while idle.

Precision: 1,000 messages are scheduled over a ten-second span (every 10 ms, on an SQLite
file like a Pi's) while the scheduler runs as in the daemon (woken once per new schedule).
Each message's lateness is the time of its `queued` status event (the store's clock when the
scheduler released it, which is when a READY modem may claim it) minus its `send_at`.

Idle cost: with one message scheduled an hour ahead, the CPU time of this process and the
number of times the scheduler looked at the store over an idle period, beside the same
period with no scheduler at all: the scheduler sleeps until its next due time, so both
should be about zero and the store should be read once.
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import Result
from bench.scale import count, seconds
from smsgw.gateway.scheduler import Scheduler
from smsgw.models import SendOptions
from smsgw.store import Database, open_database, repository, upgrade
from smsgw.store.schema import messages, status_events

MESSAGES = count(1000, 200)
SPACING = datetime.timedelta(milliseconds=10)
LEAD = datetime.timedelta(seconds=2)
IDLE = seconds(60.0, 10.0)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def _schedule_all(db: Database, scheduler: Scheduler) -> datetime.datetime:
    first = _now() + LEAD
    for n in range(MESSAGES):
        await repository.enqueue_outgoing(
            db, peer=f"+4072400{n:04d}", text=f"scheduled {n}", parts=1, encoding="gsm7",
            options=SendOptions(send_at=first + n * SPACING),
        )  # fmt: skip
        scheduler.wake()
    return first + MESSAGES * SPACING


async def _lateness_ms(db: Database) -> list[float]:
    async with db.transaction("read release times") as connection:
        rows = (
            await connection.execute(
                sa.select(messages.c.send_at, status_events.c.at)
                .join(status_events, status_events.c.message_pk == messages.c.pk)
                .where(status_events.c.status == "queued")
            )
        ).all()
    return [(row.at - row.send_at).total_seconds() * 1000 for row in rows]


async def _precision(url: str) -> list[float]:
    db = open_database(url)
    scheduler = Scheduler(db, on_released=lambda _modem: None)
    task = asyncio.create_task(scheduler.run())
    try:
        last = await _schedule_all(db, scheduler)
        await asyncio.sleep(max(0.0, (last - _now()).total_seconds()) + 1.0)
        for _ in range(60):  # a backlog, should the machine be very slow
            if await repository.next_scheduled_at(db) is None:
                break
            await asyncio.sleep(0.5)
        return await _lateness_ms(db)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.close()


async def _idle(url: str, *, with_scheduler: bool) -> tuple[float, int]:
    """CPU seconds of this process over `IDLE` s, and the scheduler's store reads."""
    db = open_database(url)
    scheduler = Scheduler(db, on_released=lambda _modem: None)
    await repository.enqueue_outgoing(
        db, peer="+40724999999", text="in an hour", parts=1, encoding="gsm7",
        options=SendOptions(send_at=_now() + datetime.timedelta(hours=1)),
    )  # fmt: skip
    task = asyncio.create_task(scheduler.run()) if with_scheduler else None
    try:
        await asyncio.sleep(0.5)  # the first read
        rounds, cpu = scheduler.rounds, time.process_time()
        await asyncio.sleep(IDLE)
        return time.process_time() - cpu, scheduler.rounds - rounds
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await db.close()


async def measure(directory: Path) -> list[Result]:
    precise_url = f"sqlite:///{directory / 'precision.db'}"
    await upgrade(precise_url)
    late = sorted(await _precision(precise_url))
    idle_url = f"sqlite:///{directory / 'idle.db'}"
    await upgrade(idle_url)
    base_cpu, _ = await _idle(idle_url, with_scheduler=False)
    idle_cpu, idle_rounds = await _idle(idle_url, with_scheduler=True)
    p50 = statistics.median(late)
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    detail = {"messages": len(late), "spacing_ms": SPACING.total_seconds() * 1000}
    print(f"scheduler lateness over {len(late)} messages: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {late[-1]:.1f} ms; idle {IDLE:g} s: {idle_cpu * 1000:.1f} ms CPU with the "
          f"scheduler ({idle_rounds} store reads), {base_cpu * 1000:.1f} ms without")  # fmt: skip
    return [
        Result("scheduler lateness p50 (send_at -> queued)", p50, "ms", "< 1000 ms", detail),
        Result("scheduler lateness p99 (send_at -> queued)", p99, "ms", "< 1000 ms", detail),
        Result("scheduler lateness max", late[-1], "ms", "< 1000 ms", detail),
        Result(
            f"idle process CPU over {IDLE:g} s, scheduler running",
            idle_cpu * 1000,
            "ms",
            "about the same as without",
            {"store_reads": idle_rounds},
        ),
        Result(f"idle process CPU over {IDLE:g} s, no scheduler", base_cpu * 1000, "ms", ""),
        Result(f"scheduler store reads while idle {IDLE:g} s", idle_rounds, "reads", "0"),
    ]


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="smsgw-bench-scheduler-") as directory:
        return asyncio.run(measure(Path(directory)))
