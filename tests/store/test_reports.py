"""Status reports: matching by (modem, TP-MR, recipient, recent) and the aggregation rules —
one `sms_status` per message and status, `delivered` only when every part is, `failed` as soon
as one part fails permanently."""

from __future__ import annotations

import asyncio
import random

import pytest

from smsgw.models import MessageStatus
from smsgw.store import Database, open_database, repository
from smsgw.store.types import MessageRecord, PartStatus, ReportApplied, StatusReport
from tests.store_helpers import FakeClock, count_rows, outbox_bodies, render_status

PEER = "+40721000000"
DELIVERED, TEMPORARY, PERMANENT, EXPIRED = 0x00, 0x20, 0x41, 0x46


async def sent_message(
    db: Database, parts: int, first_mr: int, *, peer: str = PEER, modem: str = "sim800"
) -> MessageRecord:
    await repository.enqueue_outgoing(
        db, peer=peer, text="x", parts=parts, encoding="gsm7", modem=modem
    )
    message = await repository.claim_next_outgoing(db, modem=modem, node="n")
    assert message is not None
    for seq in range(1, parts + 1):
        await repository.record_part_sent(db, message.id, seq=seq, tp_mr=(first_mr + seq - 1) % 256)
    await repository.mark_sent(db, message.id, render_status=render_status)
    return message


async def report(
    db: Database, mr: int, tp_st: int, *, recipient: str = PEER, modem: str = "sim800"
) -> ReportApplied:
    return await repository.apply_status_report(
        db,
        StatusReport(modem=modem, tp_mr=mr, recipient=recipient, tp_st=tp_st),
        render_status=render_status,
    )


async def statuses(db: Database, message_id: str) -> list[str]:
    return [b["status"] for b in await outbox_bodies(db) if b["smsId"] == message_id]


@pytest.mark.parametrize(
    ("tp_st", "expected"),
    [
        (0x00, PartStatus.DELIVERED),
        (0x02, PartStatus.DELIVERED),
        (0x1F, PartStatus.DELIVERED),
        (0x20, None),
        (0x30, None),
        (0x40, PartStatus.FAILED),
        (0x46, PartStatus.EXPIRED),
        (0x5F, PartStatus.FAILED),
        (0x60, PartStatus.FAILED),
        (0x7F, PartStatus.FAILED),
        (0x80, None),
        (0xFF, None),
    ],
)
def test_tp_st_classes(tp_st: int, expected: PartStatus | None) -> None:
    assert repository.part_status_for(tp_st) is expected


async def test_delivered_only_when_every_part_is(db: Database) -> None:
    message = await sent_message(db, parts=3, first_mr=254)  # MRs 254, 255, 0 (wraps)
    assert (await report(db, 254, DELIVERED)).transitions == ()
    assert (await report(db, 0, DELIVERED)).transitions == ()
    last = await report(db, 255, DELIVERED)
    assert last.matched
    assert last.part_seq == 2
    assert [t.status for t in last.transitions] == [MessageStatus.DELIVERED]
    repeat = await report(db, 255, DELIVERED)
    assert repeat.matched
    assert repeat.transitions == ()
    assert await statuses(db, message.id) == ["sent", "delivered"]


async def test_failed_as_soon_as_one_part_fails(db: Database) -> None:
    message = await sent_message(db, parts=2, first_mr=40)
    failed = await report(db, 41, PERMANENT)
    assert [(t.status, t.error) for t in failed.transitions] == [
        (MessageStatus.FAILED, "part 2: status report TP-ST 0x41")
    ]
    assert (await report(db, 40, DELIVERED)).transitions == ()
    assert await statuses(db, message.id) == ["sent", "failed"]
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert [(p.status, p.tp_st) for p in detail.parts] == [
        (PartStatus.DELIVERED, DELIVERED),
        (PartStatus.FAILED, PERMANENT),
    ]


async def test_validity_expiry_is_expired(db: Database) -> None:
    message = await sent_message(db, parts=1, first_mr=5)
    result = await report(db, 5, EXPIRED)
    assert [t.status for t in result.transitions] == [MessageStatus.EXPIRED]
    assert await statuses(db, message.id) == ["sent", "expired"]


async def test_temporary_errors_wait_for_the_final_report(db: Database) -> None:
    message = await sent_message(db, parts=1, first_mr=5)
    assert (await report(db, 5, TEMPORARY)).transitions == ()
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert detail.parts[0].status is PartStatus.SENT
    assert detail.parts[0].tp_st == TEMPORARY
    assert [t.status for t in (await report(db, 5, DELIVERED)).transitions] == [
        MessageStatus.DELIVERED
    ]


async def test_unmatched_reports_are_kept(db: Database, clock: FakeClock) -> None:
    await sent_message(db, parts=1, first_mr=77)
    assert not (await report(db, 77, DELIVERED, recipient="+40799999999")).matched
    assert not (await report(db, 77, DELIVERED, modem="huawei")).matched
    assert not (await report(db, 78, DELIVERED)).matched
    clock.advance(days=4)  # outside the default match window
    assert not (await report(db, 77, DELIVERED)).matched
    assert await count_rows(db, "unmatched_status_reports") == 4


async def test_a_reused_mr_matches_the_most_recent_part(db: Database, clock: FakeClock) -> None:
    old = await sent_message(db, parts=1, first_mr=12)
    clock.advance(hours=1)
    new = await sent_message(db, parts=1, first_mr=12)
    result = await report(db, 12, DELIVERED)
    assert result.message_id == new.id
    assert await statuses(db, old.id) == ["sent"]


async def test_reports_that_beat_the_last_cmgs_are_applied_by_mark_sent(db: Database) -> None:
    await repository.enqueue_outgoing(db, peer=PEER, text="x", parts=2, encoding="gsm7")
    message = await repository.claim_next_outgoing(db, modem="sim800", node="n")
    assert message is not None
    await repository.record_part_sent(db, message.id, seq=1, tp_mr=1)
    assert (await report(db, 1, DELIVERED)).transitions == ()
    await repository.record_part_sent(db, message.id, seq=2, tp_mr=2)
    assert (await report(db, 2, DELIVERED)).transitions == ()
    changes = await repository.mark_sent(db, message.id, render_status=render_status)
    assert [c.status for c in changes] == [MessageStatus.SENT, MessageStatus.DELIVERED]


@pytest.mark.parametrize("seed", range(4))
async def test_aggregation_over_random_outcomes_and_orders(db: Database, seed: int) -> None:
    """Whatever the order of part reports (with repeats and temporary ones), the webhook sees
    `sent` then exactly one final status, and the right one."""
    rng = random.Random(seed)
    for round_number in range(6):
        parts = rng.randint(1, 4)
        first_mr = rng.randrange(256)
        peer = f"+4072100{seed}{round_number:03d}"
        message = await sent_message(db, parts=parts, first_mr=first_mr, peer=peer)
        finals = [
            rng.choice([DELIVERED, DELIVERED, PERMANENT, EXPIRED, TEMPORARY]) for _ in range(parts)
        ]
        reports = [(seq, st) for seq, st in enumerate(finals)]
        reports += [(seq, TEMPORARY) for seq in range(parts) if rng.random() < 0.5]
        reports += rng.sample(reports, k=min(2, len(reports)))
        rng.shuffle(reports)
        for seq, tp_st in reports:
            await report(db, (first_mr + seq) % 256, tp_st, recipient=peer)
        seen = await statuses(db, message.id)
        # The first permanent failure *in report order* decides between failed and expired.
        first_final = [st for _, st in reports if st in (PERMANENT, EXPIRED)]
        if first_final:
            expected = "expired" if first_final[0] == EXPIRED else "failed"
            assert seen == ["sent", expected], (finals, reports)
        elif all(st == DELIVERED for st in finals):
            assert seen == ["sent", "delivered"], (finals, reports)
        else:
            assert seen == ["sent"], (finals, reports)


@pytest.mark.timeout(60)
async def test_simultaneous_reports_for_two_parts_still_deliver_once(
    migrated_url: str, clock: FakeClock
) -> None:
    """Two nodes apply the reports of both parts at the same moment: the row lock on the
    message (PostgreSQL) or BEGIN IMMEDIATE (SQLite) makes the second one see the first, so
    `delivered` is emitted exactly once."""
    first, second = (
        open_database(migrated_url, clock=clock),
        open_database(migrated_url, clock=clock),
    )
    try:
        messages = [await sent_message(first, parts=2, first_mr=2 * i) for i in range(20)]
        for index, message in enumerate(messages):
            await asyncio.gather(
                report(first, 2 * index, DELIVERED), report(second, 2 * index + 1, DELIVERED)
            )
            assert await statuses(first, message.id) == ["sent", "delivered"]
    finally:
        await first.close()
        await second.close()
