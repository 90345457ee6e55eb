"""The opt-out list in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from smsgw.store import Database, open_database, repository
from tests.store_helpers import FakeClock

pytestmark = pytest.mark.timeout(30)


async def test_add_keeps_the_first_entry_remove_and_list(db: Database, clock: FakeClock) -> None:
    first, created = await repository.add_optout(db, "+40721000001", source="sms", modem="sim0")
    assert created
    clock.advance(minutes=5)
    again, created = await repository.add_optout(db, "+40721000001", source="api")
    assert not created
    assert again == first
    await repository.add_optout(db, "+40721000002", source="ui")
    listed = await repository.list_optouts(db)
    assert [entry.number for entry in listed] == ["+40721000002", "+40721000001"]
    assert await repository.remove_optout(db, "+40721000001")
    assert not await repository.remove_optout(db, "+40721000001")
    assert await repository.get_optout(db, "+40721000001") is None


async def test_two_nodes_adding_the_same_number_at_once(
    migrated_url: str, clock: FakeClock
) -> None:
    nodes = [open_database(migrated_url, clock=clock) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(repository.add_optout(node, "+40721000009", source="sms") for node in nodes)
        )
        assert sorted(created for _entry, created in results) == [False, False, True]
    finally:
        for node in nodes:
            await node.close()
