"""Read views (message list paging, one message) and node/modem heartbeats."""

from __future__ import annotations

import pytest

from smsgw.exceptions import StoreError
from smsgw.models import Direction
from smsgw.store import Database, repository
from tests.store_helpers import FakeClock, incoming, outgoing


async def test_list_messages_newest_first_with_filters_and_cursor(db: Database) -> None:
    ids = [
        await incoming(db, "in 1", "+1"),
        await outgoing(db, "out 1", "+1"),
        await incoming(db, "in 2", "+2"),
        await outgoing(db, "out 2", "+2"),
        await incoming(db, "in 3", "+1"),
    ]
    everything = await repository.list_messages(db)
    assert [m.id for m in everything] == list(reversed(ids))
    page_one = await repository.list_messages(db, limit=2)
    page_two = await repository.list_messages(db, limit=2, before=page_one[-1].id)
    assert [m.text for m in page_one + page_two] == ["in 3", "out 2", "in 2", "out 1"]
    assert [
        m.text for m in await repository.list_messages(db, direction=Direction.IN, peer="+1")
    ] == ["in 3", "in 1"]
    assert [m.text for m in await repository.list_messages(db, direction=Direction.OUT)] == [
        "out 2",
        "out 1",
    ]
    with pytest.raises(StoreError, match="unknown cursor"):
        await repository.list_messages(db, before="01NOTANID")
    with pytest.raises(StoreError, match="limit"):
        await repository.list_messages(db, limit=0)


async def test_get_message_unknown_is_none(db: Database) -> None:
    assert await repository.get_message(db, "01NOTANID") is None


async def test_modem_names_are_unique_across_live_nodes(db: Database, clock: FakeClock) -> None:
    await repository.heartbeat_node(db, "pi-1")
    await repository.heartbeat_modem(
        db, modem="sim800", node="pi-1", state="ready", info={"signal_dbm": -71}
    )
    with pytest.raises(StoreError, match="already used by node 'pi-1'"):
        await repository.heartbeat_modem(db, modem="sim800", node="pi-2", state="ready", info={})
    await repository.heartbeat_modem(
        db, modem="sim800", node="pi-1", state="failed", info={"error": "unplugged"}
    )
    [seen] = await repository.list_modem_heartbeats(db)
    assert (seen.node, seen.state, dict(seen.info)) == ("pi-1", "failed", {"error": "unplugged"})
    clock.advance(minutes=5)  # pi-1 is gone: its modem may move
    await repository.heartbeat_modem(db, modem="sim800", node="pi-2", state="ready", info={})
    [moved] = await repository.list_modem_heartbeats(db)
    assert moved.node == "pi-2"
    assert moved.last_seen == clock.now
