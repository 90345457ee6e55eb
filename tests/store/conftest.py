"""Store fixtures: a migrated database per test, on a real SQLite file and, when a server
answers, on a fresh PostgreSQL database (created here, dropped afterwards).

PostgreSQL comes from SMSGW_TEST_PG_URL (an admin URL whose role may CREATE DATABASE);
`.ci/run` starts the local cluster and creates the default role below.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from smsgw.store import Database, open_database, upgrade
from smsgw.store.types import HistoryItem, NewEvent, ReceivedMessage, StatusTransition

DEFAULT_PG_URL = "postgresql+asyncpg://smsgw_test:smsgw_test@127.0.0.1:5432/postgres"
PG_ADMIN_URL = os.environ.get("SMSGW_TEST_PG_URL", DEFAULT_PG_URL)

START = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


@dataclasses.dataclass
class FakeClock:
    """The store's clock, moved by hand so time windows are tested without sleeping."""

    now: datetime.datetime = START

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now


async def _pg_reachable() -> str | None:
    engine = create_async_engine(PG_ADMIN_URL, connect_args={"timeout": 3})
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure means "skip", with the reason
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_skip_reason() -> str | None:
    return asyncio.run(_pg_reachable())


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def _database_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def _temporary_pg_database(template: str | None = None) -> Iterator[str]:
    name = f"smsgw_test_{secrets.token_hex(6)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield _database_url(name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_skip_reason: str | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    if pg_skip_reason is not None:
        pytest.skip(pg_skip_reason)
    with _temporary_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_migrated_template(pg_skip_reason: str | None) -> Iterator[str]:
    """A database migrated once per session; tests get copies (CREATE DATABASE … TEMPLATE),
    which is much faster than running the migrations for every test."""
    if pg_skip_reason is not None:
        pytest.skip(pg_skip_reason)
    with _temporary_pg_database() as url:
        asyncio.run(upgrade(url))
        yield str(make_url(url).database)


@pytest.fixture
def pg_migrated_url(pg_migrated_template: str) -> Iterator[str]:
    with _temporary_pg_database(template=pg_migrated_template) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/smsgw.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database: the same test on both engines."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest) -> str:
    """A database at the head revision, on both engines."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_migrated_url"))
    url = str(request.getfixturevalue("sqlite_url"))
    asyncio.run(upgrade(url))
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(migrated_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    """A migrated database whose clock is `clock`."""
    database = open_database(migrated_url, clock=clock)
    try:
        yield database
    finally:
        await database.close()


def render_incoming(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
    """A stand-in for the webhook payload: enough to check what the store handed over."""
    body = {
        "id": message.id,
        "sender": message.peer,
        "message": message.text,
        "history": [[item.direction.value, item.text] for item in earlier],
    }
    return NewEvent(event_id=f"in.{message.id}", body=json.dumps(body).encode())


def render_status(change: StatusTransition) -> NewEvent:
    body = {"smsId": change.message_id, "status": change.status.value, "error": change.error}
    return NewEvent(
        event_id=f"{change.message_id}.{change.status.value}", body=json.dumps(body).encode()
    )


async def outbox_bodies(db: Database) -> list[dict[str, Any]]:
    """Every outbox body in creation order, decoded."""
    async with db.transaction("test: read outbox") as connection:
        rows = (
            await connection.execute(sa.text("SELECT body FROM webhook_outbox ORDER BY pk"))
        ).all()
    return [json.loads(bytes(row[0])) for row in rows]


async def count_rows(db: Database, table: str) -> int:
    async with db.transaction("test: count") as connection:
        return int(await connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
