"""GroupCommit: concurrent submissions share transactions, and a bad one fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.store import Database, open_database
from smsgw.store.connection import Connection
from smsgw.store.group_commit import GroupCommit


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite:///{tmp_path}/group.db")
    async with db.transaction("create") as connection:
        await connection.execute(sa.text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    try:
        yield db
    finally:
        await db.close()


async def _insert(connection: Connection, x: int) -> int:
    await connection.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": x})
    return x * 10


async def _rows(db: Database) -> list[int]:
    async with db.transaction("read") as connection:
        return [int(x) for x in (await connection.scalars(sa.text("SELECT x FROM t ORDER BY x")))]


async def test_a_lone_submission_is_committed_when_submit_returns(database: Database) -> None:
    group = GroupCommit(database, "insert", _insert)
    assert await group.submit(7) == 70
    assert await _rows(database) == [7]
    assert (group.batches, group.items) == (1, 1)


async def test_concurrent_submissions_share_transactions_in_order(database: Database) -> None:
    group = GroupCommit(database, "insert", _insert, max_batch=50)
    results = await asyncio.gather(*(group.submit(x) for x in range(1, 201)))
    assert results == [x * 10 for x in range(1, 201)]
    assert await _rows(database) == list(range(1, 201))
    assert group.items == 200
    # All 200 were queued before the flusher's first turn: four transactions of 50.
    assert group.batches == 4


async def test_a_failing_item_fails_alone_and_the_rest_commit(database: Database) -> None:
    group = GroupCommit(database, "insert", _insert)
    await group.submit(5)
    outcomes = await asyncio.gather(
        *(group.submit(x) for x in (1, 2, 5, 3, 4)), return_exceptions=True
    )
    assert outcomes[:2] == [10, 20]
    assert outcomes[3:] == [30, 40]
    assert isinstance(outcomes[2], StoreError)
    assert "UNIQUE" in str(outcomes[2])
    assert await _rows(database) == [1, 2, 3, 4, 5]


async def test_a_cancelled_caller_still_gets_its_item_committed(database: Database) -> None:
    group = GroupCommit(database, "insert", _insert)
    blocker = asyncio.create_task(group.submit(1))
    cancelled = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await blocker == 10
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    for _ in range(100):
        if await _rows(database) == [1, 2]:
            break
        await asyncio.sleep(0.01)
    assert await _rows(database) == [1, 2]


def test_max_batch_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(open_database(f"sqlite:///{tmp_path}/x.db"), "x", _insert, max_batch=0)
