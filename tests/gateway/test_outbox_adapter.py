"""The store-backed outbox passes the same queue rules as the in-memory one, plus replies."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.gateway.outbox_adapter import StoreOutbox, cut_reply
from smsgw.models import OutboxEntry, WebhookEventKind
from smsgw.store import Database, open_database, repository, upgrade_database
from smsgw.store.repository._common import to_outbox_entry
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import IncomingPart, MessageRecord, NewEvent, OutboxState
from tests.store_helpers import FakeClock, store_incoming_part
from tests.webhook.outbox_contract import T0, MakeOutbox, OutboxContract

pytestmark = pytest.mark.timeout(30)


class _ClockFollowingOutbox(StoreOutbox):
    """The daemon gives the dispatcher and the database one clock; the contract passes `now`
    explicitly, so here the shared clock is moved to it before claiming."""

    def __init__(self, db: Database, clock: FakeClock) -> None:
        super().__init__(db, node="n1", max_parts=6, replies_per_peer_per_hour=100)
        self._clock = clock

    async def claim_due(
        self, now: datetime.datetime, *, exclude_peers: object, limit: int
    ) -> list[OutboxEntry]:
        self._clock.now = now
        assert isinstance(exclude_peers, frozenset | set)
        return list(await super().claim_due(now, exclude_peers=exclude_peers, limit=limit))


@dataclasses.dataclass
class _Harness:
    db: Database
    clock: FakeClock
    outbox: StoreOutbox
    counter: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    async def add(
        self,
        *,
        peer: str,
        body: bytes,
        created_at: datetime.datetime,
        kind: WebhookEventKind = WebhookEventKind.INCOMING_SMS,
    ) -> OutboxEntry:
        self.clock.now = created_at
        event = NewEvent(event_id=f"ev{next(self.counter)}", body=body)
        if kind is WebhookEventKind.INCOMING_SMS:
            # A real incoming message, so `complete` with a reply can queue it.
            part = IncomingPart(modem="m1", sender=peer, smsc_timestamp=created_at, text="hi")
            await store_incoming_part(self.db, part, render=lambda _m, _e: event, history_size=0)
        else:
            await repository.enqueue_event(self.db, event, kind=kind, peer=peer)
        return await _entry(self.db, event.event_id)


async def _entry(db: Database, event_id: str) -> OutboxEntry:
    """Read one outbox row back as the dispatcher would see it."""
    async with db.transaction("read outbox entry") as connection:
        row = (
            await connection.execute(
                sa.select(webhook_outbox).where(webhook_outbox.c.event_id == event_id)
            )
        ).one()
    return to_outbox_entry(row)


class TestStoreOutbox(OutboxContract):
    @pytest.fixture
    async def make(self, tmp_path: Path) -> AsyncIterator[MakeOutbox]:
        databases: list[Database] = []

        async def make() -> _Harness:
            clock = FakeClock(T0)
            db = open_database(f"sqlite:///{tmp_path / f'db{len(databases)}.sqlite'}", clock=clock)
            databases.append(db)
            await upgrade_database(db)
            return _Harness(db, clock, _ClockFollowingOutbox(db, clock))

        yield make
        for db in databases:
            await db.close()


def test_a_reply_within_the_limit_is_kept_whole() -> None:
    reply, cut = cut_reply("Support hours: Mon-Fri 9AM-5PM.", 6)
    assert (reply.text, reply.parts, reply.encoding, cut) == (
        "Support hours: Mon-Fri 9AM-5PM.",
        1,
        "gsm7",
        False,
    )


@pytest.mark.parametrize(("unit", "per_part"), [("a", 153), ("ж", 67)])
def test_a_long_reply_is_cut_at_a_part_boundary(unit: str, per_part: int) -> None:
    reply, cut = cut_reply(unit * (per_part * 5 + 10), 3)
    assert cut
    assert reply.parts == 3
    assert reply.text == unit * (per_part * 3)


def test_a_huge_reply_is_bounded_before_splitting() -> None:
    reply, cut = cut_reply("😀" * 100_000, 2)
    assert cut
    assert reply.parts == 2
    assert reply.encoding == "ucs2"


async def test_complete_queues_the_reply_on_the_receiving_modem_then_limits_it(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}", clock=clock)
    await upgrade_database(db)
    queued: list[MessageRecord] = []
    outbox = StoreOutbox(
        db, node="n1", max_parts=2, replies_per_peer_per_hour=2, on_reply_queued=queued.append
    )
    try:
        harness = _Harness(db, clock, outbox)
        for n in range(3):
            entry = await harness.add(
                peer="+1", body=b"{}", created_at=T0 + datetime.timedelta(seconds=n)
            )
            await outbox.complete(entry, 200, "x" * 1000)
        assert [(m.modem, m.peer, m.parts, m.text) for m in queued] == [
            ("m1", "+1", 2, "x" * 306)
        ] * 2  # the third is over replies_per_peer_per_hour
        assert all(m.idempotency_key == f"auto-reply:ev{n}" for n, m in enumerate(queued))
        counts = await repository.outbox_counts(db)
        assert counts[OutboxState.DELIVERED] == 3
    finally:
        await db.close()
