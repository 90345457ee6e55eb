"""Store test helpers, importable from any test package: databases on both engines (as
fixtures, registered by the conftest.py files that import them), a hand-moved clock, event
renderers, and the store operations tests repeat, each through the API the gateway itself uses.

PostgreSQL comes from SMSGW_TEST_PG_URL (an admin URL whose role may CREATE DATABASE);
`.ci/run` starts the local cluster and creates the default role below. Without a server the
PostgreSQL variants skip with the reason.
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

from smsgw.models import OutboxEntry, WebhookEventKind
from smsgw.store import Database, open_database, repository, upgrade
from smsgw.store.types import (
    HistoryItem,
    IncomingEventFactory,
    IncomingPart,
    NewEvent,
    OutboxState,
    PartStored,
    ReceivedMessage,
    ReplyRequest,
    ReplyResult,
    StatusTransition,
)

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
        asyncio.run(_drop_database(name))


async def _drop_database(name: str) -> None:
    """Drop a test database. FORCE ends our own leftover sessions, but the test role may not
    end a session of another role (autovacuum working on the fresh database), which fails the
    drop with 'must be a member of the role...'; such a worker finishes within moments."""
    for attempt in range(20):
        try:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except sa.exc.DBAPIError as error:
            if "must be a member of the role" not in str(error) or attempt == 19:
                raise
            await asyncio.sleep(0.25)
        else:
            return


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


def no_status_event(change: StatusTransition) -> NewEvent | None:
    """A renderer for tests that do not look at `sms_status` events: none is queued."""
    return None


# ------------------------------------------------------------------- incoming messages


async def store_incoming_part(
    db: Database,
    part: IncomingPart,
    *,
    render: IncomingEventFactory = render_incoming,
    history_size: int = 10,
) -> PartStored:
    """Store one part through the gateway's own group committer, in a transaction of its own
    (nothing else is submitted meanwhile)."""
    committer = repository.incoming_part_committer(db, render=render, history_size=history_size)
    return await committer.submit(part)


async def receive(
    db: Database,
    *,
    sender: str,
    text: str,
    modem: str = "sim800",
    at: datetime.datetime | None = None,
    render: IncomingEventFactory = render_incoming,
) -> str:
    """Store a single-part incoming SMS as the gateway would; returns its message id."""
    stored = await store_incoming_part(
        db,
        IncomingPart(
            modem=modem,
            sender=sender,
            smsc_timestamp=at if at is not None else datetime.datetime.now(datetime.UTC),
            text=text,
        ),
        render=render,
        history_size=0,
    )
    assert stored.message is not None
    return stored.message.id


async def incoming(db: Database, text: str, sender: str, modem: str = "sim800") -> str:
    """Store a single-part SMS received at a fixed SMSC time; returns its message id."""
    at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    return await receive(db, sender=sender, text=text, modem=modem, at=at)


async def outgoing(db: Database, text: str, peer: str) -> str:
    """Queue a one-part GSM 7-bit message for any modem, as the API would; returns its id."""
    queued = await repository.enqueue_outgoing(db, peer=peer, text=text, parts=1, encoding="gsm7")
    return queued.message.id


# ------------------------------------------------------------------- webhook outcomes
# Each goes through `OutcomeRecorder`, exactly as the dispatcher's answers do; a recorder of
# its own per call makes it one transaction, committed when the helper returns.


def _recorder(
    db: Database, node: str | None, replies_per_peer_per_hour: int = 30
) -> repository.OutcomeRecorder:
    return repository.OutcomeRecorder(
        db, node=node, replies_per_peer_per_hour=replies_per_peer_per_hour
    )


async def queue_event(
    db: Database,
    event_id: str,
    peer: str,
    *,
    body: bytes = b"{}",
    kind: WebhookEventKind = WebhookEventKind.SMS_STATUS,
) -> OutboxEntry:
    """Queue a standalone webhook event (its `event_id` must be new); returns its entry."""
    entry = await repository.enqueue_event(
        db, NewEvent(event_id=event_id, body=body), kind=kind, peer=peer
    )
    assert entry is not None
    return entry


async def complete_event(db: Database, entry_id: int, *, node: str | None = None) -> bool:
    """The webhook accepted the event (2xx, no reply)."""
    outcome = repository.Finished(entry_id, OutboxState.DELIVERED)
    return await _recorder(db, node).finish(outcome)


async def dead_letter(db: Database, entry_id: int, *, error: str, node: str | None = None) -> bool:
    """The event was given up (past `max_age`)."""
    return await _recorder(db, node).finish(repository.Finished(entry_id, OutboxState.DEAD, error))


async def drop_event(
    db: Database, entry_id: int, *, error: str = "410 Gone", node: str | None = None
) -> bool:
    """The webhook answered 410 Gone."""
    return await _recorder(db, node).finish(
        repository.Finished(entry_id, OutboxState.DROPPED, error)
    )


async def schedule_retry(
    db: Database,
    entry_id: int,
    *,
    next_attempt_at: datetime.datetime,
    error: str,
    node: str | None = None,
) -> bool:
    """A failed attempt, to be retried at `next_attempt_at`."""
    outcome = repository.RetryLater(entry_id, next_attempt_at, error)
    return await _recorder(db, node).finish(outcome)


async def complete_incoming_event(
    db: Database,
    entry_id: int,
    *,
    reply: ReplyRequest | None,
    replies_per_peer_per_hour: int,
    node: str | None = None,
) -> ReplyResult:
    """The webhook accepted an `incoming_sms` event, with `reply` as its auto-reply."""
    recorder = _recorder(db, node, replies_per_peer_per_hour)
    completed = await recorder.complete_incoming(entry_id, reply)
    return completed.result
