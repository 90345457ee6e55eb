"""Outgoing queue: idempotent enqueue, claiming (also by concurrent engines), the daily
counter, per-part recording, sent/failed transitions and recovery of interrupted sends."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from smsgw.exceptions import StoreError
from smsgw.models import MessageStatus
from smsgw.store import Database, open_database, repository
from smsgw.store.types import MessageRecord, NewEvent, PartStatus, StatusTransition
from tests.store_helpers import FakeClock, count_rows, outbox_bodies, render_status

PEER = "+40721000000"


async def enqueue(
    db: Database,
    text: str = "hello",
    *,
    parts: int = 1,
    modem: str | None = None,
    key: str | None = None,
) -> MessageRecord:
    queued = await repository.enqueue_outgoing(
        db, peer=PEER, text=text, parts=parts, encoding="gsm7", modem=modem, idempotency_key=key
    )
    return queued.message


async def claim(db: Database, modem: str = "sim800", node: str = "node-a") -> MessageRecord | None:
    return await repository.claim_next_outgoing(db, modem=modem, node=node)


async def send_all_parts(
    db: Database, message: MessageRecord, first_mr: int = 10
) -> list[StatusTransition]:
    for seq in range(1, message.parts + 1):
        await repository.record_part_sent(db, message.id, seq=seq, tp_mr=first_mr + seq - 1)
    return await repository.mark_sent(db, message.id, render_status=render_status)


async def test_enqueue_is_idempotent_per_key(db: Database) -> None:
    first = await repository.enqueue_outgoing(
        db, peer=PEER, text="a", parts=2, encoding="gsm7", idempotency_key="k1"
    )
    again = await repository.enqueue_outgoing(
        db, peer=PEER, text="a", parts=2, encoding="gsm7", idempotency_key="k1"
    )
    other = await repository.enqueue_outgoing(
        db, peer=PEER, text="a", parts=2, encoding="gsm7", idempotency_key="k2"
    )
    assert first.created
    assert not again.created
    assert again.message.id == first.message.id
    assert other.created
    assert first.message.status is MessageStatus.QUEUED
    detail = await repository.get_message(db, first.message.id)
    assert detail is not None
    assert [(p.seq, p.status) for p in detail.parts] == [
        (1, PartStatus.PENDING),
        (2, PartStatus.PENDING),
    ]
    assert [e.status for e in detail.events] == ["queued"]
    assert await count_rows(db, "messages") == 2


async def test_enqueue_refuses_zero_parts(db: Database) -> None:
    with pytest.raises(StoreError, match="at least one part"):
        await enqueue(db, parts=0)


async def test_claims_oldest_first_and_respects_modem_binding(db: Database) -> None:
    bound_to_huawei = await enqueue(db, "for huawei", modem="huawei")
    anyone = await enqueue(db, "anyone")
    bound_to_sim800 = await enqueue(db, "for sim800", modem="sim800")
    first = await claim(db, "sim800")
    second = await claim(db, "sim800")
    assert first is not None
    assert second is not None
    assert [first.id, second.id] == [anyone.id, bound_to_sim800.id]
    assert first.modem == "sim800"  # bound by the claim
    assert first.status is MessageStatus.SENDING
    assert await claim(db, "sim800") is None
    huawei = await claim(db, "huawei")
    assert huawei is not None
    assert huawei.id == bound_to_huawei.id


async def test_daily_counter_and_limit(db: Database, clock: FakeClock) -> None:
    for _ in range(3):
        await enqueue(db)
    assert (
        await repository.claim_next_outgoing(db, modem="sim800", node="n", daily_limit=2)
        is not None
    )
    assert (
        await repository.claim_next_outgoing(db, modem="sim800", node="n", daily_limit=2)
        is not None
    )
    assert await repository.claim_next_outgoing(db, modem="sim800", node="n", daily_limit=2) is None
    assert await repository.daily_count(db, "sim800") == 2
    assert await repository.daily_count(db, "huawei") == 0
    clock.advance(days=1)
    assert await repository.daily_count(db, "sim800") == 0
    assert (
        await repository.claim_next_outgoing(db, modem="sim800", node="n", daily_limit=2)
        is not None
    )
    assert (
        await repository.daily_count(
            db, "sim800", day=(clock.now - datetime.timedelta(days=1)).date()
        )
        == 2
    )


async def test_full_send_records_parts_and_emits_sent_once(db: Database) -> None:
    await enqueue(db, "two parts", parts=2)
    message = await claim(db)
    assert message is not None
    changes = await send_all_parts(db, message, first_mr=254)
    assert [c.status for c in changes] == [MessageStatus.SENT]
    assert changes[0].parts == 2
    assert [b["status"] for b in await outbox_bodies(db)] == ["sent"]
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert detail.message.status is MessageStatus.SENT
    assert detail.message.sent_at is not None
    assert [(p.tp_mr, p.status) for p in detail.parts] == [
        (254, PartStatus.SENT),
        (255, PartStatus.SENT),
    ]
    assert [(e.status, e.part_seq) for e in detail.events] == [
        ("queued", None),
        ("sending", None),
        ("sent", 1),
        ("sent", 2),
        ("sent", None),
    ]


async def test_misuse_is_a_store_error(db: Database) -> None:
    queued = await enqueue(db, parts=2)
    with pytest.raises(StoreError, match="not sending"):
        await repository.record_part_sent(db, queued.id, seq=1, tp_mr=1)
    message = await claim(db)
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=1)
    with pytest.raises(StoreError, match="no pending part 1"):
        await repository.record_part_sent(db, message.id, seq=1, tp_mr=2)
    with pytest.raises(StoreError, match="unsent part"):
        await repository.mark_sent(db, message.id, render_status=render_status)
    with pytest.raises(StoreError, match="no message with id"):
        await repository.mark_sent(db, "nope", render_status=render_status)


async def test_failure_is_final(db: Database) -> None:
    await enqueue(db, parts=2)
    message = await claim(db)
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=7)
    changes = await repository.mark_failed(
        db, message.id, error="+CMS ERROR: 38", render_status=render_status
    )
    assert [(c.status, c.error) for c in changes] == [(MessageStatus.FAILED, "+CMS ERROR: 38")]
    assert (
        await repository.mark_failed(db, message.id, error="again", render_status=render_status)
        == []
    )
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert [p.status for p in detail.parts] == [PartStatus.SENT, PartStatus.FAILED]
    assert [b["status"] for b in await outbox_bodies(db)] == ["failed"]


async def test_a_failing_event_renderer_rolls_the_status_change_back(db: Database) -> None:
    await enqueue(db)
    message = await claim(db)
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=3)

    def broken(change: StatusTransition) -> NewEvent:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        await repository.mark_sent(db, message.id, render_status=broken)
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert detail.message.status is MessageStatus.SENDING
    assert "sent" not in [e.status for e in detail.events if e.part_seq is None]
    assert await count_rows(db, "webhook_outbox") == 0


async def test_no_event_when_the_renderer_declines(db: Database) -> None:
    await enqueue(db)
    message = await claim(db)
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=3)
    changes = await repository.mark_sent(db, message.id, render_status=lambda change: None)
    assert [c.status for c in changes] == [MessageStatus.SENT]
    assert await count_rows(db, "webhook_outbox") == 0


async def test_interrupted_sends_fail_and_expired_leases_are_recovered(
    db: Database, clock: FakeClock
) -> None:
    await enqueue(db, "a")
    await enqueue(db, "b")
    mine = await repository.claim_next_outgoing(db, modem="sim800", node="node-a")
    theirs = await repository.claim_next_outgoing(
        db, modem="huawei", node="node-b", lease=datetime.timedelta(minutes=5)
    )
    assert mine is not None
    assert theirs is not None
    changes = await repository.interrupt_stale_sends(db, node="node-a", render_status=render_status)
    assert [(c.message_id, c.status, c.error) for c in changes] == [
        (mine.id, MessageStatus.FAILED, repository.INTERRUPTED)
    ]
    clock.advance(minutes=4)
    assert (
        await repository.interrupt_stale_sends(db, node="node-a", render_status=render_status) == []
    )
    clock.advance(minutes=2)  # node-b's lease ran out: it died mid-send
    changes = await repository.interrupt_stale_sends(db, node="node-a", render_status=render_status)
    assert [(c.message_id, c.error) for c in changes] == [(theirs.id, "interrupted")]
    assert sorted(b["status"] for b in await outbox_bodies(db)) == ["failed", "failed"]


async def test_interrupted_sends_can_be_requeued_when_configured(db: Database) -> None:
    await enqueue(db, parts=2)
    message = await claim(db)
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=9)
    assert (
        await repository.interrupt_stale_sends(
            db, node="node-a", render_status=render_status, resend=True
        )
        == []
    )
    again = await claim(db)
    assert again is not None
    assert again.id == message.id
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert all(p.status is PartStatus.PENDING and p.tp_mr is None for p in detail.parts)
    assert any("requeued" in (e.detail or "") for e in detail.events)


@pytest.mark.timeout(60)
async def test_concurrent_claimers_never_share_a_message(
    migrated_url: str, clock: FakeClock
) -> None:
    """Four workers on two engines (two "nodes") drain one queue: every message exactly once."""
    nodes = [open_database(migrated_url, clock=clock) for _ in range(2)]
    try:
        ids = {(await enqueue(nodes[0], f"m{i}")).id for i in range(60)}

        async def worker(db: Database, modem: str, node: str) -> list[str]:
            claimed = []
            while (
                message := await repository.claim_next_outgoing(db, modem=modem, node=node)
            ) is not None:
                claimed.append(message.id)
            return claimed

        results = await asyncio.gather(
            worker(nodes[0], "a1", "node-a"),
            worker(nodes[0], "a2", "node-a"),
            worker(nodes[1], "b1", "node-b"),
            worker(nodes[1], "b2", "node-b"),
        )
        flat = [message_id for result in results for message_id in result]
        assert sorted(flat) == sorted(ids)
        total = sum(
            [await repository.daily_count(nodes[0], modem) for modem in ("a1", "a2", "b1", "b2")]
        )
        assert total == len(ids)
    finally:
        for db in nodes:
            await db.close()


@pytest.mark.timeout(60)
async def test_concurrent_enqueue_with_one_key_creates_one_message(
    migrated_url: str, clock: FakeClock
) -> None:
    nodes = [open_database(migrated_url, clock=clock) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(
                repository.enqueue_outgoing(
                    nodes[i % 2],
                    peer=PEER,
                    text="once",
                    parts=1,
                    encoding="gsm7",
                    idempotency_key="same",
                )
                for i in range(6)
            )
        )
        assert sum(r.created for r in results) == 1
        assert len({r.message.id for r in results}) == 1
    finally:
        for db in nodes:
            await db.close()


async def test_renewed_leases_survive_a_long_send(db: Database, clock: FakeClock) -> None:
    await enqueue(db)
    await enqueue(db)
    mine = await repository.claim_next_outgoing(
        db, modem="sim800", node="node-a", lease=datetime.timedelta(minutes=5)
    )
    other = await repository.claim_next_outgoing(
        db, modem="huawei", node="node-b", lease=datetime.timedelta(minutes=5)
    )
    assert mine is not None
    assert other is not None
    clock.advance(minutes=4)
    renewed = await repository.renew_send_claims(
        db, node="node-a", lease=datetime.timedelta(minutes=5)
    )
    assert renewed == 1
    clock.advance(minutes=4)  # node-a renewed, node-b did not
    changes = await repository.interrupt_stale_sends(db, node="node-c", render_status=render_status)
    assert [c.message_id for c in changes] == [other.id]


async def test_queue_depths_per_modem(db: Database) -> None:
    await enqueue(db, modem="sim800")
    await enqueue(db, modem="sim800")
    await enqueue(db)
    await enqueue(db, modem="huawei")
    assert await repository.queue_depths(db) == {"sim800": 2, None: 1, "huawei": 1}
    sending = await claim(db, "huawei")  # the oldest eligible one: the unbound message
    assert sending is not None
    assert sending.text == "hello"
    assert await repository.queue_depths(db) == {"sim800": 2, "huawei": 2}
    await repository.record_part_sent(db, sending.id, seq=1, tp_mr=1)
    await repository.mark_sent(db, sending.id, render_status=render_status)
    assert await repository.queue_depths(db) == {"sim800": 2, "huawei": 1}
