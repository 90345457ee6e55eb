"""Webhook outbox: per-peer ordered claiming with leases, retries, dead letters, 410 drops,
and the auto-reply that is queued in the same transaction that completes the event."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from smsgw.exceptions import StoreError
from smsgw.models import MessageStatus, OutboxEntry, WebhookEventKind
from smsgw.store import Database, open_database, repository
from smsgw.store.repository import IncomingCompleted, SendClaim
from smsgw.store.types import IncomingPart, NewEvent, OutboxState, ReplyOutcome, ReplyRequest
from tests.store_helpers import (
    FakeClock,
    complete_event,
    complete_incoming_event,
    count_rows,
    dead_letter,
    drop_event,
    queue_event,
    render_incoming,
    render_status,
    schedule_retry,
    store_incoming_part,
)

LEASE = datetime.timedelta(minutes=2)


async def event(db: Database, event_id: str, peer: str) -> OutboxEntry:
    return await queue_event(db, event_id, peer, body=f'{{"e":"{event_id}"}}'.encode())


async def claim(db: Database, node: str = "node-a", limit: int = 16) -> list[str]:
    return [
        e.event_id
        for e in await repository.claim_due_events(db, node=node, limit=limit, lease=LEASE)
    ]


async def incoming_event(
    db: Database, text: str = "help", *, sender: str = "+40721000000", modem: str = "sim800"
) -> OutboxEntry:
    scts = datetime.datetime(2026, 3, 1, 11, 0, tzinfo=datetime.UTC) + datetime.timedelta(
        seconds=await count_rows(db, "incoming_parts")
    )
    stored = await store_incoming_part(
        db,
        IncomingPart(modem=modem, sender=sender, smsc_timestamp=scts, text=text),
        render=render_incoming,
        history_size=5,
    )
    assert stored.message is not None
    entries = await repository.claim_due_events(db, node="node-a", lease=LEASE)
    [entry] = [e for e in entries if e.event_id == f"in.{stored.message.id}"]
    return entry


async def test_one_event_per_peer_in_creation_order(db: Database) -> None:
    a1 = await event(db, "a1", "+1")
    await event(db, "a2", "+1")
    await event(db, "b1", "+2")
    assert await claim(db) == ["a1", "b1"]
    assert await claim(db) == []  # a2 waits for a1; a1 and b1 are leased
    assert await complete_event(db, a1.id)
    assert await claim(db) == ["a2"]


async def test_entries_carry_the_frozen_body_and_kind(db: Database) -> None:
    entry = await event(db, "e1", "+1")
    [claimed] = await repository.claim_due_events(db, node="n", lease=LEASE)
    assert claimed == entry
    assert claimed.body == b'{"e":"e1"}'
    assert claimed.kind is WebhookEventKind.SMS_STATUS
    assert claimed.attempts == 0


async def test_entries_carry_the_modem_they_are_about(db: Database) -> None:
    """The receiving modem for an incoming SMS, the sending one for a status event, none for
    a standalone event: read from the entry, never from its body."""
    incoming = await incoming_event(db, modem="huawei")
    assert incoming.modem == "huawei"
    queued = await repository.enqueue_outgoing(
        db, peer="+40722000000", text="hi", parts=1, encoding="gsm7", modem="sim800"
    )
    await repository.mark_failed(
        db, queued.message.id, error="+CMS ERROR: 500", render_status=render_status
    )
    [failed] = await repository.claim_due_events(db, node="node-a", lease=LEASE)
    assert failed.event_id == f"{queued.message.id}.failed"
    assert failed.modem == "sim800"
    assert (await event(db, "standalone", "+1")).modem is None


async def test_a_lease_expires_when_the_dispatcher_dies(db: Database, clock: FakeClock) -> None:
    await event(db, "a1", "+1")
    assert await claim(db, "node-a") == ["a1"]
    clock.advance(seconds=119)
    assert await claim(db, "node-b") == []
    clock.advance(seconds=2)
    assert await claim(db, "node-b") == ["a1"]


async def test_retry_keeps_the_peer_blocked_until_due(db: Database, clock: FakeClock) -> None:
    a1 = await event(db, "a1", "+1")
    await event(db, "a2", "+1")
    await claim(db)
    assert await schedule_retry(
        db, a1.id, next_attempt_at=clock.now + datetime.timedelta(seconds=30), error="HTTP 500"
    )
    assert await claim(db) == []  # a1 not due, a2 must not overtake it
    clock.advance(seconds=31)
    [again] = await repository.claim_due_events(db, node="n", lease=LEASE)
    assert again.event_id == "a1"
    assert again.attempts == 1
    assert again.created_at == a1.created_at


async def test_dead_letters_are_listed_unblock_the_peer_and_can_be_retried(
    db: Database, clock: FakeClock
) -> None:
    a1 = await event(db, "a1", "+1")
    await event(db, "a2", "+1")
    await claim(db)
    assert await dead_letter(db, a1.id, error="max_age reached: HTTP 503")
    assert await claim(db) == ["a2"]
    [dead] = await repository.list_dead_letters(db)
    assert dead.entry.event_id == "a1"
    assert dead.last_error == "max_age reached: HTTP 503"
    assert dead.dead_at == clock.now
    assert dead.entry.attempts == 1
    assert await repository.retry_dead_letter(db, a1.id)
    assert not await repository.retry_dead_letter(db, a1.id)  # no longer dead
    assert await repository.list_dead_letters(db) == []
    [entry] = await repository.claim_due_events(db, node="n", lease=LEASE)
    assert entry.event_id == "a1"
    assert entry.created_at == a1.created_at  # max_age still counts from the original event


async def test_dropped_events_are_final_and_not_dead(db: Database) -> None:
    a1 = await event(db, "a1", "+1")
    await claim(db)
    assert await drop_event(db, a1.id)
    assert not await complete_event(db, a1.id)
    assert not await schedule_retry(
        db, a1.id, next_attempt_at=datetime.datetime.now(datetime.UTC), error="x"
    )
    assert await repository.list_dead_letters(db) == []
    counts = await repository.outbox_counts(db)
    assert counts[OutboxState.DROPPED] == 1
    assert counts[OutboxState.PENDING] == 0


async def test_duplicate_event_ids_are_ignored(db: Database) -> None:
    await event(db, "same", "+1")
    duplicate = await repository.enqueue_event(
        db, NewEvent(event_id="same", body=b"other"), kind=WebhookEventKind.SMS_STATUS, peer="+1"
    )
    assert duplicate is None
    assert await count_rows(db, "webhook_outbox") == 1


async def test_dead_letter_paging(db: Database) -> None:
    for index in range(5):
        entry = await event(db, f"d{index}", f"+{index}")
        await dead_letter(db, entry.id, error="gone")
    first_page = await repository.list_dead_letters(db, limit=2)
    assert [d.entry.event_id for d in first_page] == ["d4", "d3"]
    second_page = await repository.list_dead_letters(db, limit=2, before=first_page[-1].entry.id)
    assert [d.entry.event_id for d in second_page] == ["d2", "d1"]


async def test_completing_an_incoming_event_queues_the_reply_atomically(db: Database) -> None:
    entry = await incoming_event(db, modem="huawei")
    reply = ReplyRequest(text="We will call you", parts=1, encoding="gsm7")
    result = await complete_incoming_event(db, entry.id, reply=reply, replies_per_peer_per_hour=30)
    assert result.outcome is ReplyOutcome.QUEUED
    assert result.message is not None
    assert result.message.modem == "huawei"  # leaves through the receiving modem
    assert result.message.peer == "+40721000000"
    assert result.message.status is MessageStatus.QUEUED
    assert result.message.reply_to is not None
    again = await complete_incoming_event(db, entry.id, reply=reply, replies_per_peer_per_hour=30)
    assert again.outcome is ReplyOutcome.ALREADY_DONE
    assert await count_rows(db, "messages") == 2
    assert await repository.claim_next_outgoing(db, modem="sim800", node="n") is None
    claimed = await repository.claim_next_outgoing(db, modem="huawei", node="n")
    assert claimed is not None
    assert claimed.id == result.message.id


async def test_no_reply_just_completes(db: Database) -> None:
    entry = await incoming_event(db)
    result = await complete_incoming_event(db, entry.id, reply=None, replies_per_peer_per_hour=30)
    assert result.outcome is ReplyOutcome.NO_REPLY
    assert (await repository.outbox_counts(db))[OutboxState.DELIVERED] == 1
    assert await count_rows(db, "messages") == 1


async def test_auto_replies_per_peer_are_limited_per_hour(db: Database, clock: FakeClock) -> None:
    reply = ReplyRequest(text="auto", parts=1, encoding="gsm7")
    outcomes = []
    for index in range(3):
        entry = await incoming_event(db, f"ping {index}")
        outcomes.append(
            (
                await complete_incoming_event(
                    db, entry.id, reply=reply, replies_per_peer_per_hour=2
                )
            ).outcome
        )
    assert outcomes == [ReplyOutcome.QUEUED, ReplyOutcome.QUEUED, ReplyOutcome.SUPPRESSED]
    assert await count_rows(db, "suppressed_replies") == 1
    other = await incoming_event(db, "hi", sender="+40799000000")
    assert (
        await complete_incoming_event(db, other.id, reply=reply, replies_per_peer_per_hour=2)
    ).outcome is ReplyOutcome.QUEUED
    clock.advance(minutes=61)
    entry = await incoming_event(db, "ping later")
    assert (
        await complete_incoming_event(db, entry.id, reply=reply, replies_per_peer_per_hour=2)
    ).outcome is ReplyOutcome.QUEUED


async def test_a_reply_to_a_status_event_is_refused(db: Database) -> None:
    entry = await event(db, "s1", "+1")
    with pytest.raises(StoreError, match="not an incoming_sms event"):
        await complete_incoming_event(
            db,
            entry.id,
            reply=ReplyRequest(text="x", parts=1, encoding="gsm7"),
            replies_per_peer_per_hour=30,
        )
    assert (await repository.outbox_counts(db))[OutboxState.PENDING] == 1  # rolled back
    with pytest.raises(StoreError, match="no webhook event"):
        await complete_incoming_event(db, 999_999, reply=None, replies_per_peer_per_hour=30)


@pytest.mark.timeout(60)
async def test_concurrent_dispatchers_keep_per_peer_order(
    migrated_url: str, clock: FakeClock
) -> None:
    """Two nodes with two dispatchers each drain 60 events of 6 peers: each event delivered once,
    never two events of one peer in flight, and each peer's events completed in order."""
    nodes = [open_database(migrated_url, clock=clock) for _ in range(2)]
    try:
        created: dict[str, list[str]] = {}
        for index in range(60):
            peer = f"+4072100000{index % 6}"
            await event(nodes[0], f"e{index:02d}", peer)
            created.setdefault(peer, []).append(f"e{index:02d}")
        in_flight: set[str] = set()
        completed: dict[str, list[str]] = {}
        violations: list[str] = []

        async def dispatcher(db: Database, node: str) -> None:
            idle = 0
            while idle < 3:
                entries = await repository.claim_due_events(db, node=node, limit=4, lease=LEASE)
                idle = 0 if entries else idle + 1
                for entry in entries:
                    if entry.peer in in_flight:
                        violations.append(f"{entry.event_id}: peer {entry.peer} already in flight")
                    in_flight.add(entry.peer)
                await asyncio.sleep(0)
                for entry in entries:
                    in_flight.discard(entry.peer)
                    assert await complete_event(db, entry.id)
                    completed.setdefault(entry.peer, []).append(entry.event_id)

        await asyncio.gather(*(dispatcher(nodes[i % 2], f"node-{i}") for i in range(4)))
        assert violations == []
        assert completed == created
    finally:
        for db in nodes:
            await db.close()


async def test_excluded_peers_and_next_due_time(db: Database, clock: FakeClock) -> None:
    assert await repository.next_event_due_at(db) is None
    a1 = await event(db, "a1", "+1")
    await event(db, "b1", "+2")
    assert await repository.next_event_due_at(db) == clock.now
    assert [
        e.event_id
        for e in await repository.claim_due_events(db, node="n", lease=LEASE, exclude_peers={"+2"})
    ] == ["a1"]
    # a1 is leased, b1 excluded: nothing is claimable until a1's lease ends.
    assert await repository.next_event_due_at(db, exclude_peers={"+2"}) == clock.now + LEASE
    retry_at = clock.now + datetime.timedelta(seconds=30)
    await schedule_retry(db, a1.id, next_attempt_at=retry_at, error="timeout")
    assert await repository.next_event_due_at(db, exclude_peers={"+2"}) == retry_at
    assert await repository.next_event_due_at(db) == clock.now  # b1 is due now


REPLY = ReplyRequest(text="thanks, we got it", parts=1, encoding="gsm7")


async def test_answers_arriving_together_share_one_or_two_transactions(db: Database) -> None:
    """A burst of webhook answers: every event delivered, every reply queued once, to its own
    sender, in far fewer transactions than answers; recording them again changes nothing."""
    entries = [await incoming_event(db, f"hi {n}", sender=f"+4072100{n:04d}") for n in range(20)]
    recorder = repository.OutcomeRecorder(db, node="node-a", replies_per_peer_per_hour=30)
    completed = await asyncio.gather(*(recorder.complete_incoming(e.id, REPLY) for e in entries))
    assert {c.claimed for c in completed} == {None}  # nobody asked for a claim
    results = [c.result for c in completed]
    assert [r.outcome for r in results] == [ReplyOutcome.QUEUED] * 20
    # The first answer starts a transaction at once; all others share the next one at most.
    assert recorder.group.batches <= 2
    assert recorder.group.items == 20
    assert (await repository.outbox_counts(db))[OutboxState.DELIVERED] == 20
    replies = [r.message for r in results]
    assert all(m is not None and m.status is MessageStatus.QUEUED for m in replies)
    assert [m.peer for m in replies if m is not None] == [e.peer for e in entries]
    assert len({m.reply_to for m in replies if m is not None}) == 20
    assert await count_rows(db, "messages") == 40

    again = await asyncio.gather(*(recorder.complete_incoming(e.id, REPLY) for e in entries))
    assert {r.result.outcome for r in again} == {ReplyOutcome.ALREADY_DONE}
    assert await count_rows(db, "messages") == 40  # no reply queued twice


async def test_one_bad_outcome_in_a_batch_fails_alone(db: Database) -> None:
    """A reply to a status event and an unknown event fail their own callers; the batch they
    were in is retried one by one, so the other answers are all committed, exactly once."""
    status = await event(db, "s1", "+1")
    await claim(db)
    entries = [await incoming_event(db, f"hi {n}", sender=f"+4072100{n:04d}") for n in range(4)]
    recorder = repository.OutcomeRecorder(db, node="node-a", replies_per_peer_per_hour=30)
    results = await asyncio.gather(
        recorder.complete_incoming(entries[0].id, REPLY),
        recorder.complete_incoming(entries[1].id, REPLY),
        recorder.complete_incoming(status.id, REPLY),  # not an incoming_sms event
        recorder.complete_incoming(999_999, None),  # no such event
        recorder.complete_incoming(entries[2].id, None),
        recorder.finish(repository.Finished(entries[3].id, OutboxState.DELIVERED)),
        return_exceptions=True,
    )
    assert isinstance(results[2], StoreError)
    assert "not an incoming_sms event" in str(results[2])
    assert isinstance(results[3], StoreError)
    assert "no webhook event" in str(results[3])
    outcomes = [r.result.outcome for r in results[:2] if isinstance(r, IncomingCompleted)]
    assert outcomes == [ReplyOutcome.QUEUED] * 2
    assert isinstance(results[4], IncomingCompleted)
    assert results[4].result.outcome is ReplyOutcome.NO_REPLY
    assert results[5] is True
    counts = await repository.outbox_counts(db)
    assert counts[OutboxState.DELIVERED] == 4
    assert counts[OutboxState.PENDING] == 1  # the status event: its failure rolled back
    assert await count_rows(db, "messages") == 4 + 2  # four received, two replies


async def test_recorded_retries_dead_letters_and_drops(db: Database, clock: FakeClock) -> None:
    """Every kind of outcome through the recorder, in one go: the retried peer stays blocked
    until due, the others are final; a late outcome for an event another node has claimed
    since is ignored (its claim is kept)."""
    a1 = await event(db, "a1", "+1")
    await event(db, "a2", "+1")
    b1 = await event(db, "b1", "+2")
    c1 = await event(db, "c1", "+3")
    d1 = await event(db, "d1", "+4")
    assert await claim(db) == ["a1", "b1", "c1", "d1"]
    recorder = repository.OutcomeRecorder(db, node="node-a", replies_per_peer_per_hour=30)
    due = clock.now + datetime.timedelta(seconds=30)
    recorded = await asyncio.gather(
        recorder.finish(repository.RetryLater(a1.id, due, "HTTP 500")),
        recorder.finish(repository.Finished(b1.id, OutboxState.DEAD, "max_age reached")),
        recorder.finish(repository.Finished(c1.id, OutboxState.DROPPED, "HTTP 410 Gone")),
        recorder.finish(repository.Finished(d1.id, OutboxState.DELIVERED)),
    )
    assert list(recorded) == [True] * 4
    assert await claim(db) == []  # a1 waits for its retry, a2 may not overtake it
    counts = await repository.outbox_counts(db)
    assert (counts[OutboxState.DEAD], counts[OutboxState.DROPPED]) == (1, 1)
    assert (counts[OutboxState.DELIVERED], counts[OutboxState.PENDING]) == (1, 2)
    [dead] = await repository.list_dead_letters(db)
    assert (dead.entry.event_id, dead.last_error) == ("b1", "max_age reached")

    clock.advance(seconds=31)
    [again] = await repository.claim_due_events(db, node="node-b", lease=LEASE)
    assert (again.event_id, again.attempts) == ("a1", 1)
    assert not await recorder.finish(repository.Finished(a1.id, OutboxState.DELIVERED))
    late = await complete_incoming_event(
        db, a1.id, reply=None, replies_per_peer_per_hour=30, node="node-a"
    )
    assert late.outcome is ReplyOutcome.ALREADY_DONE
    assert await complete_event(db, a1.id, node="node-b")


async def test_a_reply_can_be_claimed_for_an_idle_worker_in_the_same_transaction(
    db: Database,
) -> None:
    """The claim rides on the transaction that queues the reply: the reply is `sending` for
    the node when the call returns (so a crash reports it `interrupted`, never resends it),
    counted in the daily total, and the worker's own claim finds nothing left to take."""
    entry = await incoming_event(db, modem="sim800")
    other = await incoming_event(db, "yo", sender="+40799000000", modem="huawei")
    recorder = repository.OutcomeRecorder(db, node="node-a", replies_per_peer_per_hour=30)
    claim = SendClaim(modem="sim800", node="node-a", daily_limit=5)
    done, elsewhere = await asyncio.gather(
        recorder.complete_incoming(entry.id, REPLY, claim=claim),
        recorder.complete_incoming(other.id, REPLY, claim=claim),  # queued for huawei
    )
    assert done.result.message is not None
    assert done.claimed is not None
    assert done.claimed.id == done.result.message.id
    assert done.claimed.status is MessageStatus.SENDING
    assert done.claimed.reply_to == done.result.message.reply_to
    assert elsewhere.result.outcome is ReplyOutcome.QUEUED
    assert elsewhere.claimed is None  # another modem's reply is not claimed for sim800
    assert await repository.daily_count(db, "sim800") == 1
    assert await repository.claim_next_outgoing(db, modem="sim800", node="node-a") is None
    assert await repository.claim_next_outgoing(db, modem="huawei", node="node-a") is not None
    interrupted = await repository.interrupt_stale_sends(
        db, node="node-a", render_status=render_status
    )
    assert done.claimed.id in {change.message_id for change in interrupted}
