"""SQLite transactions of one process queue in the event loop, not in SQLite's busy handler.

With the busy timeout at 0, two overlapping `BEGIN IMMEDIATE` transactions on two pooled
connections fail at once with "database is locked"; the store must make them take turns, so
every one of many concurrent writers commits (and none sleeps in the busy handler, which is
what made a burst's webhook claims and part inserts slow each other down).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.store import database as database_module
from smsgw.store import open_database


async def test_concurrent_sqlite_writers_take_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 0)
    database = open_database(f"sqlite:///{tmp_path}/queue.db")
    try:
        async with database.transaction("create") as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))

        async def writer(n: int) -> None:
            async with database.transaction(f"writer {n}") as connection:
                await connection.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.002)  # hold the write lock across a loop turn
                await connection.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": -n})

        await asyncio.gather(*(writer(n) for n in range(1, 21)))
        async with database.transaction("count") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM t")) == 40
            assert await connection.scalar(sa.text("SELECT sum(x) FROM t")) == 0
    finally:
        await database.close()


async def test_writers_queue_per_event_loop(tmp_path: Path) -> None:
    """A Database used from two event loops (one after the other) works in both."""
    database = open_database(f"sqlite:///{tmp_path}/loops.db")

    async def ping() -> None:
        await asyncio.gather(database.ping(), database.ping())

    try:
        await ping()
        await asyncio.to_thread(asyncio.run, ping())
    finally:
        await database.close()


async def test_a_commit_cancelled_half_way_still_finishes_and_frees_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite commits in a worker thread: a caller cancelled meanwhile (a modem unplugged, a
    shutdown) must not release the connection or the writer lock while the thread is still
    committing on it; the commit completes, then the cancellation goes on."""
    database = open_database(f"sqlite:///{tmp_path}/cancel.db")
    try:
        async with database.transaction("create") as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        committing = threading.Event()
        commit = sa.engine.Connection.commit

        def slow_commit(self: sa.engine.Connection) -> None:
            committing.set()
            time.sleep(0.3)
            commit(self)

        monkeypatch.setattr(sa.engine.Connection, "commit", slow_commit)

        async def write() -> None:
            async with database.transaction("write") as connection:
                await connection.execute(sa.text("INSERT INTO t VALUES (1)"))

        task = asyncio.create_task(write())
        await asyncio.to_thread(committing.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        monkeypatch.setattr(sa.engine.Connection, "commit", commit)
        async with asyncio.timeout(5), database.transaction("read") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM t")) == 1
    finally:
        await database.close()
