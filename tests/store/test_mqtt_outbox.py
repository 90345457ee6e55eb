"""The MQTT sink's own delivery state: owed only while MQTT is on, claimed oldest first,
deleted once acknowledged, kept (and counted) when publishing failed."""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from smsgw.store import Database, repository
from smsgw.store.schema import mqtt_outbox, webhook_outbox
from tests.store_helpers import FakeClock, queue_event

LEASE = datetime.timedelta(minutes=2)


async def test_events_are_owed_to_mqtt_only_while_it_is_configured(db: Database) -> None:
    await queue_event(db, "before", "+1")
    db.mqtt_events = True
    await queue_event(db, "after-1", "+1", body=b'{"n": 1}')
    await queue_event(db, "after-2", "+2", body=b'{"n": 2}')
    assert await repository.mqtt_pending_count(db) == 2
    owed = await repository.claim_mqtt_events(db, node="a", limit=10, lease=LEASE)
    assert [event.event_id for event in owed] == ["after-1", "after-2"]
    assert [event.body for event in owed] == [b'{"n": 1}', b'{"n": 2}']
    # The webhook's own state is untouched by the MQTT side.
    entries = await repository.claim_due_events(db, node="a", limit=10)
    assert [entry.event_id for entry in entries] == ["before", "after-2"]  # one per peer


async def test_acknowledged_events_are_gone_failed_ones_stay_owed(
    db: Database, clock: FakeClock
) -> None:
    db.mqtt_events = True
    for n in range(3):
        await queue_event(db, f"e{n}", f"+{n}")
    first, second, third = await repository.claim_mqtt_events(db, node="a", lease=LEASE)
    assert await repository.claim_mqtt_events(db, node="b", lease=LEASE) == []
    await repository.mark_mqtt_published(db, [first.pk])
    await repository.mark_mqtt_failed(db, [second.pk], "LinkDown: broker gone")
    again = await repository.claim_mqtt_events(db, node="b", lease=LEASE)
    assert [event.event_id for event in again] == ["e1"]
    clock.advance(minutes=3)  # a's lease on the third ran out (and b's on the second)
    taken = await repository.claim_mqtt_events(db, node="c", lease=LEASE)
    assert [event.event_id for event in taken] == ["e1", "e2"]
    async with db.transaction("read") as connection:
        row = (
            await connection.execute(
                sa.select(mqtt_outbox).where(mqtt_outbox.c.event_pk == second.pk)
            )
        ).one()
    assert (row.attempts, row.last_error) == (1, "LinkDown: broker gone")
    assert await repository.mqtt_pending_count(db) == 2
    assert third.event_id == "e2"


async def test_a_restarted_node_takes_back_only_its_own_claims(db: Database) -> None:
    db.mqtt_events = True
    await queue_event(db, "mine", "+1")
    await queue_event(db, "theirs", "+2")
    assert len(await repository.claim_mqtt_events(db, node="a", limit=1, lease=LEASE)) == 1
    assert len(await repository.claim_mqtt_events(db, node="b", limit=1, lease=LEASE)) == 1
    assert await repository.release_mqtt_claims(db, node="a") == 1
    (again,) = await repository.claim_mqtt_events(db, node="a", lease=LEASE)
    assert again.event_id == "mine"


async def test_pruning_an_event_removes_what_mqtt_owed_for_it(db: Database) -> None:
    db.mqtt_events = True
    gone = await queue_event(db, "gone", "+1")
    await queue_event(db, "kept", "+2")
    async with db.transaction("prune") as connection:
        await connection.execute(sa.delete(webhook_outbox).where(webhook_outbox.c.pk == gone.id))
    owed = await repository.claim_mqtt_events(db, node="a", lease=LEASE)
    assert [event.event_id for event in owed] == ["kept"]


async def test_an_orphan_left_without_foreign_keys_does_not_block_the_queue(
    db: Database, tmp_path: Path
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL always enforces the foreign key")
    db.mqtt_events = True
    gone = await queue_event(db, "gone", "+1")
    await queue_event(db, "kept", "+2")
    # A tool that opened the file without PRAGMA foreign_keys=ON (sqlite3's default).
    path = make_url(db.url).database
    assert path is not None
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("DELETE FROM webhook_outbox WHERE pk = ?", (gone.id,))
    owed = await repository.claim_mqtt_events(db, node="a", limit=1, lease=LEASE)
    assert owed == []  # the orphan took the slot, and was removed
    owed = await repository.claim_mqtt_events(db, node="a", lease=LEASE)
    assert [event.event_id for event in owed] == ["kept"]
    assert await repository.mqtt_pending_count(db) == 1
