"""Helpers shared by the repository modules: dialect-aware inserts and locks, row mapping."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.models import Direction, MessageStatus, OutboxEntry, WebhookEventKind
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.schema import messages, mqtt_outbox, status_events, webhook_outbox
from smsgw.store.types import EventClaim, MessageRecord, NewEvent, OutboxState

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def dialect_insert(dialect: str, table: sa.Table) -> PostgresInsert | SqliteInsert:
    """An INSERT that knows ON CONFLICT, in the dialect named `dialect` (`Database.dialect`).

    The PostgreSQL dialect module is imported only on PostgreSQL: it costs 2 MB of RSS that a
    SQLite gateway on a Raspberry Pi would carry for nothing.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


#: Statements built once per (dialect, table, conflict columns); see `insert_or_ignore`.
_INSERT_OR_IGNORE: dict[tuple[str, str, tuple[str, ...]], sa.Insert] = {}


def _insert_or_ignore_statement(
    db: Database, table: sa.Table, conflict_columns: Sequence[str]
) -> sa.Insert:
    key = (db.dialect, table.name, tuple(conflict_columns))
    statement = _INSERT_OR_IGNORE.get(key)
    if statement is None:
        statement = (
            dialect_insert(db.dialect, table)
            .on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(table.c.pk)
        )
        _INSERT_OR_IGNORE[key] = statement
    return statement


async def insert_or_ignore(
    connection: Connection,
    db: Database,
    table: sa.Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> int | None:
    """INSERT … ON CONFLICT (cols) DO NOTHING; the new row's `pk`, or None if it existed.

    Unlike catching IntegrityError, this never aborts a PostgreSQL transaction, so the caller
    can go on and read the existing row in the same transaction.

    The statement is built once and `values` passed as parameters: building
    `.values(**values)` for every row cost more CPU than running the INSERT on SQLite.
    """
    statement = _insert_or_ignore_statement(db, table, conflict_columns)
    pk = (await connection.execute(statement, values)).scalar_one_or_none()
    return None if pk is None else int(pk)


_Select = TypeVar("_Select", bound=sa.Select[Any])


def for_update(statement: _Select, db: Database | str, *, skip_locked: bool = False) -> _Select:
    """Row locks on PostgreSQL; SQLite needs none (BEGIN IMMEDIATE serialises writers).

    `db` may be a dialect name, for statements built once per dialect and cached.
    """
    dialect = db if isinstance(db, str) else db.dialect
    if dialect != "postgresql":
        return statement
    return statement.with_for_update(skip_locked=skip_locked)


def split_parts(value: str | None) -> tuple[int, ...]:
    return tuple(int(item) for item in value.split(",")) if value else ()


def join_parts(seqs: Sequence[int]) -> str | None:
    return ",".join(str(seq) for seq in seqs) if seqs else None


async def lock_key(connection: Connection, db: Database, namespace: int, key: str) -> None:
    """Serialise transactions on one logical key (PostgreSQL advisory lock, released at commit).

    Needed where no row exists yet to lock, e.g. two parts of one message arriving at once.
    SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
    """
    if db.dialect == "postgresql":
        await connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:key))"),
            {"namespace": namespace, "key": key},
        )


_MESSAGE_BY_ID = sa.select(messages).where(messages.c.id == sa.bindparam("message_id"))
_MESSAGE_ID_BY_PK = sa.select(messages.c.id).where(messages.c.pk == sa.bindparam("message_pk"))


@functools.cache
def _message_by_id_locked(dialect: str) -> sa.Select[*tuple[Any, ...]]:
    """`_MESSAGE_BY_ID` locked for update, built once per dialect (only PostgreSQL locks)."""
    return for_update(_MESSAGE_BY_ID, dialect)


async def message_row(
    connection: Connection, db: Database, message_id: str, *, lock: bool = False
) -> sa.Row[Any]:
    """The message with public id `message_id` (locked for update), or StoreError."""
    statement = _MESSAGE_BY_ID
    if lock:
        statement = _message_by_id_locked(db.dialect)
    row = (await connection.execute(statement, {"message_id": message_id})).one_or_none()
    if row is None:
        raise StoreError(f"no message with id {message_id!r}")
    return row


async def reply_to_id(connection: Connection, reply_to_pk: int | None) -> str | None:
    if reply_to_pk is None:
        return None
    found = await connection.scalar(_MESSAGE_ID_BY_PK, {"message_pk": reply_to_pk})
    return None if found is None else str(found)


def to_record(row: sa.Row[Any], *, reply_to: str | None = None) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        direction=Direction(row.direction),
        peer=row.peer,
        modem=row.modem,
        text=row.text,
        encoding=row.encoding,
        parts=int(row.parts),
        status=None if row.status is None else MessageStatus(row.status),
        error=row.error,
        smsc_timestamp=row.smsc_timestamp,
        received_at=row.received_at,
        sent_at=row.sent_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        idempotency_key=row.idempotency_key,
        delivery_report=bool(row.delivery_report),
        missing_parts=split_parts(row.missing_parts),
        reply_to=reply_to,
        send_at=getattr(row, "send_at", None),
        validity=(
            None
            if getattr(row, "validity_s", None) is None
            else datetime.timedelta(seconds=int(row.validity_s))
        ),
        flash=bool(getattr(row, "flash", False)),
    )


def to_outbox_entry(row: sa.Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=int(row.pk),
        event_id=row.event_id,
        kind=WebhookEventKind(row.kind),
        peer=row.peer,
        body=bytes(row.body),
        attempts=int(row.attempts),
        created_at=row.created_at,
        modem=row.modem,
    )


_INSERT_STATUS_EVENT = sa.insert(status_events)


async def add_status_event(
    connection: Connection,
    *,
    message_pk: int,
    status: str,
    at: datetime.datetime,
    detail: str | None = None,
    part_seq: int | None = None,
) -> None:
    await connection.execute(
        _INSERT_STATUS_EVENT,
        {
            "message_pk": message_pk,
            "part_seq": part_seq,
            "status": status,
            "at": at,
            "detail": detail,
        },
    )


_INSERT_OUTBOX_EVENT = sa.insert(webhook_outbox).returning(webhook_outbox.c.pk)
_INSERT_MQTT_EVENT = sa.insert(mqtt_outbox)


async def add_outbox_event(
    connection: Connection,
    db: Database,
    event: NewEvent,
    *,
    kind: WebhookEventKind,
    peer: str,
    modem: str | None,
    message_pk: int | None,
    now: datetime.datetime,
    ignore_duplicate: bool,
    claim: EventClaim | None = None,
) -> int | None:
    """Insert a pending webhook event due now; its pk, or None when `event_id` already exists.

    With `claim` the event is inserted already claimed (see `add_claimed_outbox_event`, the
    only caller that may pass it: it checks the event is the head of its peer).

    With `ignore_duplicate=False` a duplicate `event_id` is an error (the transaction rolls
    back): an `incoming_sms` event id must be new, or the webhook would dedupe a real message.
    While `db.mqtt_events` is set the event is owed to the MQTT broker too, in the same
    transaction, so neither sink can miss an event the other got.
    """
    values: dict[str, Any] = {
        "event_id": event.event_id,
        "kind": kind.value,
        "peer": peer,
        "modem": modem,
        "message_pk": message_pk,
        "body": event.body,
        "attempts": 0,
        "next_attempt_at": now,
        "state": OutboxState.PENDING.value,
        "created_at": now,
    }
    if claim is not None:
        values["claimed_by"] = claim.node
        values["claim_until"] = now + claim.lease
    if ignore_duplicate:
        pk = await insert_or_ignore(connection, db, webhook_outbox, values, ["event_id"])
    else:
        pk = int((await connection.execute(_INSERT_OUTBOX_EVENT, values)).scalar_one())
    if pk is not None and db.mqtt_events:
        await connection.execute(
            _INSERT_MQTT_EVENT, {"event_pk": pk, "attempts": 0, "created_at": now}
        )
    return pk


#: Advisory-lock namespace for a peer's webhook events (see `add_claimed_outbox_event`).
_PEER_EVENTS_LOCK = 0x6F7574

_PEER_HAS_PENDING = (
    sa.select(webhook_outbox.c.pk)
    .where(
        webhook_outbox.c.state == OutboxState.PENDING.value,
        webhook_outbox.c.peer == sa.bindparam("peer"),
    )
    .limit(1)
)


async def add_claimed_outbox_event(
    connection: Connection,
    db: Database,
    event: NewEvent,
    *,
    kind: WebhookEventKind,
    peer: str,
    modem: str | None,
    message_pk: int,
    now: datetime.datetime,
    claim: EventClaim | None,
) -> OutboxEntry | None:
    """`add_outbox_event` for a new message's event, claimed for `claim.node` when nothing
    else of its peer is pending; the entry to hand to that node's dispatcher, or None (the
    event was queued unclaimed and the dispatcher's own claim finds it; always so without
    `claim`).

    An earlier pending event of the peer (waiting for a retry, or being posted anywhere) must
    go first, so the new one is then left to the ordinary claim. On PostgreSQL two nodes may
    store events of one peer at the same moment (it wrote to two modems): a transaction-scoped
    lock on the peer makes the second see the first's event, so only one claims.
    """
    unclaimed = claim is None
    if not unclaimed:
        await lock_key(connection, db, _PEER_EVENTS_LOCK, peer)
        unclaimed = await connection.scalar(_PEER_HAS_PENDING, {"peer": peer}) is not None
    pk = await add_outbox_event(
        connection,
        db,
        event,
        kind=kind,
        peer=peer,
        modem=modem,
        message_pk=message_pk,
        now=now,
        ignore_duplicate=False,
        claim=None if unclaimed else claim,
    )
    if unclaimed or claim is None:
        return None
    assert pk is not None  # ignore_duplicate=False raises instead
    return OutboxEntry(
        id=pk,
        event_id=event.event_id,
        kind=kind,
        peer=peer,
        body=event.body,
        attempts=0,
        created_at=now,
        modem=modem,
    )
