"""Engine set-up: URL handling, SQLite durability settings, error translation, ids."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.store import Database, new_id, normalise_url, open_database


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:////var/lib/smsgw/smsgw.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///relative.db", "sqlite+aiosqlite"),
        ("postgresql://u:p@db/smsgw", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@db/smsgw", "postgresql+asyncpg"),
        ("postgres://u:p@db/smsgw", "postgresql+asyncpg"),
    ],
)
def test_urls_map_to_the_async_drivers(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u:hunter2@db/x", "not a url", ""])
def test_unsupported_urls_are_refused_without_leaking_the_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        normalise_url(url)
    assert "hunter2" not in str(caught.value)


async def test_sqlite_is_durable_and_checks_foreign_keys(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/a.db")
    try:
        async with database.transaction("pragmas") as connection:
            assert await connection.scalar(sa.text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(sa.text("PRAGMA synchronous")) == 2  # FULL
            assert await connection.scalar(sa.text("PRAGMA foreign_keys")) == 1
            assert int(await connection.scalar(sa.text("PRAGMA busy_timeout")) or 0) >= 1000
    finally:
        await database.close()


async def test_failed_transaction_is_rolled_back_and_reported(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/b.db")
    try:
        async with database.transaction("create") as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))

        async def write_two_rows() -> None:
            async with database.transaction("write two rows") as connection:
                await connection.execute(sa.text("INSERT INTO t VALUES (1)"))
                await connection.execute(sa.text("INSERT INTO missing VALUES (2)"))

        with pytest.raises(StoreError, match=r"^write two rows failed on .*no such table"):
            await write_two_rows()
        async with database.transaction("count") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM t")) == 0
    finally:
        await database.close()


def test_sqlite_file_in_a_missing_directory_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_database(f"sqlite:///{tmp_path}/no/such/dir/c.db")


async def test_unwritable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "a-directory.db").mkdir()
    database = open_database(f"sqlite:///{tmp_path}/a-directory.db")
    try:
        with pytest.raises(StoreError, match="database ping failed"):
            await database.ping()
    finally:
        await database.close()
        # aiosqlite stops the worker thread of a failed connect without waiting for it; let it
        # finish before pytest closes the loop, or the thread reports "Event loop is closed".
        await asyncio.sleep(0.1)


async def test_in_memory_sqlite_keeps_one_database_across_transactions() -> None:
    database: Database = open_database("sqlite://")
    try:
        async with database.transaction("create") as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        async with database.transaction("read") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM t")) == 0
    finally:
        await database.close()


def test_ids_are_ulids_ordered_by_time() -> None:
    first = new_id(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    later = new_id(datetime.datetime(2026, 1, 1, 0, 0, 1, tzinfo=datetime.UTC))
    assert len(first) == 26
    assert len(later) == 26
    assert set(first + later) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert first < later
    assert len({new_id() for _ in range(1000)}) == 1000


async def test_a_write_lock_held_by_another_process_is_waited_for(tmp_path: Path) -> None:
    """BEGIN runs in the event loop's thread only while the file lock is free; when another
    process (here another sqlite3 connection) holds it, the transaction waits its turn in
    the worker thread instead of failing, while the loop stays free."""
    path = tmp_path / "held.db"
    database = open_database(f"sqlite:///{path}")
    try:
        async with database.transaction("create") as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with database.transaction("write while locked") as connection:
                await connection.execute(sa.text("INSERT INTO t VALUES (1)"))
                assert int(await connection.scalar(sa.text("PRAGMA busy_timeout")) or 0) >= 1000

        writer = asyncio.create_task(write())
        ticks = 0
        while ticks < 20:  # the loop keeps running while the writer waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writer.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writer, timeout=10)
        async with database.transaction("count") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM t")) == 1
    finally:
        await database.close()
