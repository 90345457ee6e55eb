"""A new message's webhook event claimed in the transaction that stores it (`ClaimingPart`):
per-peer order, leases and multi-node claims hold as for the dispatcher's own claim."""

from __future__ import annotations

import asyncio
import datetime

from smsgw.models import WebhookEventKind
from smsgw.store import Database, open_database, repository
from smsgw.store.types import ClaimingPart, EventClaim, IncomingPart, PartStored
from tests.store_helpers import FakeClock, complete_event, queue_event, render_incoming

LEASE = datetime.timedelta(minutes=2)
SCTS = datetime.datetime(2026, 3, 1, 11, 0, tzinfo=datetime.UTC)


def part(
    sender: str = "+40721000000", *, seq: int = 1, total: int = 1, second: int = 0
) -> IncomingPart:
    return IncomingPart(
        modem="sim800",
        sender=sender,
        smsc_timestamp=SCTS + datetime.timedelta(seconds=second),
        text=f"part {seq}",
        concat_ref=7 if total > 1 else None,
        concat_total=total,
        concat_seq=seq,
    )


async def store(db: Database, item: IncomingPart, node: str = "node-a") -> PartStored:
    committer = repository.incoming_part_committer(db, render=render_incoming, history_size=3)
    return await committer.submit(ClaimingPart(item, EventClaim(node=node, lease=LEASE)))


async def claimed_ids(db: Database, node: str) -> list[str]:
    return [e.event_id for e in await repository.claim_due_events(db, node=node, lease=LEASE)]


async def test_the_event_is_claimed_with_the_part_and_handed_back(db: Database) -> None:
    stored = await store(db, part())
    assert stored.message is not None
    assert stored.claimed is not None
    entry = stored.claimed
    assert entry.event_id == f"in.{stored.message.id}"
    assert (entry.kind, entry.peer, entry.modem, entry.attempts) == (
        WebhookEventKind.INCOMING_SMS,
        "+40721000000",
        "sim800",
        0,
    )
    assert b'"message": "part 1"' in entry.body
    # Nobody else may claim it while the lease runs, not even this node's own claim loop.
    assert await claimed_ids(db, "node-b") == []
    assert await claimed_ids(db, "node-a") == []
    assert await complete_event(db, entry.id)


async def test_a_claim_left_by_a_crash_runs_out_or_is_released(
    db: Database, clock: FakeClock
) -> None:
    first = (await store(db, part())).claimed
    assert first is not None
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await claimed_ids(db, "node-b") == [first.event_id]  # the lease ran out
    second = (await store(db, part("+40722000000"))).claimed
    assert second is not None
    assert await repository.release_event_claims(db, node="node-a") == 1  # its restart
    assert await claimed_ids(db, "node-a") == [second.event_id]


async def test_an_earlier_pending_event_of_the_peer_goes_first(db: Database) -> None:
    earlier = await queue_event(db, "status.1", "+40721000000")
    stored = await store(db, part())
    assert stored.message is not None
    assert stored.claimed is None
    assert await claimed_ids(db, "node-a") == ["status.1"]  # the new one waits behind it
    assert await complete_event(db, earlier.id)
    assert await claimed_ids(db, "node-a") == [f"in.{stored.message.id}"]


async def test_other_peers_pending_events_do_not_matter(db: Database) -> None:
    await queue_event(db, "status.1", "+40729999999")
    assert (await store(db, part())).claimed is not None


async def test_only_the_part_that_completes_a_message_claims(db: Database) -> None:
    assert (await store(db, part(seq=1, total=2))).claimed is None
    stored = await store(db, part(seq=2, total=2, second=1))
    assert stored.message is not None
    assert stored.claimed is not None
    assert stored.claimed.event_id == f"in.{stored.message.id}"
    again = await store(db, part(seq=2, total=2, second=1))  # a SIM re-read
    assert not again.is_new
    assert again.claimed is None


async def test_two_nodes_storing_one_peer_at_once_claim_once(
    migrated_url: str, clock: FakeClock
) -> None:
    """Two nodes (two connections) store a message of the same sender at the same moment:
    only one event may be claimed, or both could be posted at once, out of order."""
    databases = [open_database(migrated_url, clock=clock) for _ in range(2)]
    try:
        for database in databases:  # connected, so both transactions start together
            await database.ping()
        results = await asyncio.gather(
            store(databases[0], part(second=0), node="node-a"),
            store(databases[1], part(second=1), node="node-b"),
        )
    finally:
        for database in databases:
            await database.close()
    assert all(result.message is not None for result in results)
    assert sum(result.claimed is not None for result in results) == 1
