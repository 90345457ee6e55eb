"""A restarted node takes back the webhook events it had claimed before it crashed."""

from __future__ import annotations

import datetime

from smsgw.store import Database, repository
from tests.store_helpers import queue_event


async def test_a_restarted_node_releases_only_its_own_claims(db: Database) -> None:
    for n, peer in enumerate(["+1", "+2"]):
        await queue_event(db, f"e{n}", peer)
    lease = datetime.timedelta(minutes=2)
    (mine,) = await repository.claim_due_events(db, node="a", limit=1, lease=lease)
    (theirs,) = await repository.claim_due_events(db, node="b", limit=1, lease=lease)
    assert await repository.claim_due_events(db, node="a", lease=lease) == []
    assert await repository.release_event_claims(db, node="a") == 1
    (again,) = await repository.claim_due_events(db, node="a", lease=lease)
    assert again.event_id == mine.event_id
    assert theirs.event_id != mine.event_id
