"""Incoming parts: idempotent storage, reassembly (out of order, interleaved, timed out), and
the all-or-nothing transaction that creates the message and its webhook event."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import random
from collections.abc import Sequence

import pytest

from smsgw.exceptions import StoreError
from smsgw.store import Database, open_database, repository
from smsgw.store.types import HistoryItem, IncomingPart, NewEvent, ReceivedMessage
from tests.store_helpers import (
    FakeClock,
    count_rows,
    outbox_bodies,
    render_incoming,
    store_incoming_part,
)

SCTS = datetime.datetime(
    2026, 3, 1, 11, 59, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
)


def part(
    text: str,
    *,
    sender: str = "+40721000000",
    modem: str = "sim800",
    ref: int | None = None,
    total: int = 1,
    seq: int = 1,
    scts: datetime.datetime = SCTS,
    encoding: str = "gsm7",
) -> IncomingPart:
    return IncomingPart(
        modem=modem,
        sender=sender,
        smsc_timestamp=scts,
        text=text,
        encoding=encoding,
        concat_ref=ref,
        concat_total=total,
        concat_seq=seq,
    )


async def store(db: Database, item: IncomingPart, history_size: int = 10) -> ReceivedMessage | None:
    result = await store_incoming_part(db, item, render=render_incoming, history_size=history_size)
    assert result.is_new
    return result.message


def split_after_high_surrogates(text: str) -> list[str]:
    """Cut `text` into UCS-2 parts right after the high surrogate of its 1st and 2nd emoji, the
    worst case for a decoder that handles each part on its own."""
    raw = text.encode("utf-16-le")
    units = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]
    highs = [i for i, unit in enumerate(units) if 0xD800 <= unit <= 0xDBFF]
    cuts = [0, (highs[0] + 1) * 2, (highs[1] + 1) * 2, len(raw)]
    return [raw[a:b].decode("utf-16-le", "surrogatepass") for a, b in itertools.pairwise(cuts)]


async def test_single_sms_creates_message_and_event_in_one_go(db: Database) -> None:
    message = await store(db, part("Hi, I need help"))
    assert message is not None
    assert (message.text, message.peer, message.modem, message.parts) == (
        "Hi, I need help",
        "+40721000000",
        "sim800",
        1,
    )
    assert message.complete
    assert message.smsc_timestamp == SCTS  # same instant, stored in UTC
    [body] = await outbox_bodies(db)
    assert body == {
        "id": message.id,
        "sender": "+40721000000",
        "message": "Hi, I need help",
        "history": [],
    }
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert detail.message.direction == "in"
    assert detail.message.status is None


async def test_re_reading_the_same_part_never_stores_twice(db: Database) -> None:
    first = await store_incoming_part(db, part("hello"), render=render_incoming, history_size=5)
    again = await store_incoming_part(db, part("hello"), render=render_incoming, history_size=5)
    assert first.is_new
    assert first.message is not None
    assert not again.is_new
    assert again.message is None
    assert await count_rows(db, "messages") == 1
    assert await count_rows(db, "webhook_outbox") == 1


async def test_same_second_different_text_is_two_messages(db: Database) -> None:
    assert await store(db, part("one")) is not None
    assert await store(db, part("two")) is not None
    assert await count_rows(db, "messages") == 2


async def test_multipart_ucs2_with_emoji_split_across_parts_out_of_order(db: Database) -> None:
    text = "Ciao 👋 ça va? " * 8 + "🎉 fin 🇷🇴"
    pieces = split_after_high_surrogates(text)
    order = [3, 1, 2]
    results = [
        await store(db, part(pieces[seq - 1], ref=0x8F, total=3, seq=seq, encoding="ucs2"))
        for seq in order
    ]
    assert results[:2] == [None, None]
    message = results[2]
    assert message is not None
    assert message.text == text
    assert message.parts == 3
    assert message.encoding == "ucs2"
    assert [body["message"] for body in await outbox_bodies(db)] == [text]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_interleaved_senders_and_shuffled_duplicated_parts(db: Database, seed: int) -> None:
    """Several senders (two reusing one concat ref), parts shuffled and some read twice:
    every message is assembled exactly once with its own text."""
    rng = random.Random(seed)
    texts = {
        ("+40721000001", 7): "alpha " * 40,
        ("+40721000002", 7): "bravo " * 60,
        ("+40721000003", 200): "charlie " * 25,
    }
    parts = []
    for (sender, ref), text in texts.items():
        pieces = [text[i : i + 153] for i in range(0, len(text), 153)]
        parts += [
            part(piece, sender=sender, ref=ref, total=len(pieces), seq=i + 1)
            for i, piece in enumerate(pieces)
        ]
    sequence = parts + rng.sample(parts, 3)
    rng.shuffle(sequence)
    done: list[ReceivedMessage] = []
    for item in sequence:
        result = await store_incoming_part(db, item, render=render_incoming, history_size=0)
        if result.message is not None:
            done.append(result.message)
    assert sorted((m.peer, m.text) for m in done) == sorted(
        (sender, text) for (sender, _), text in texts.items()
    )
    assert await count_rows(db, "webhook_outbox") == len(texts)


async def test_incomplete_message_is_delivered_after_the_timeout_with_gaps_marked(
    db: Database, clock: FakeClock
) -> None:
    timeout = datetime.timedelta(minutes=10)
    assert await store(db, part("first ", ref=5, total=3, seq=1)) is None
    assert await store(db, part("third", ref=5, total=3, seq=3)) is None
    clock.advance(minutes=9)
    assert (
        await repository.deliver_timed_out_parts(
            db, older_than=timeout, render=render_incoming, history_size=3
        )
        == []
    )
    clock.advance(minutes=2)
    [message] = await repository.deliver_timed_out_parts(
        db, older_than=timeout, render=render_incoming, history_size=3
    )
    assert message.missing_parts == (2,)
    assert not message.complete
    assert message.text == f"first {repository.MISSING_PART_MARKER}third"
    detail = await repository.get_message(db, message.id)
    assert detail is not None
    assert detail.message.missing_parts == (2,)
    # Nothing left to deliver; a straggler starts a new group instead of reopening the message.
    assert (
        await repository.deliver_timed_out_parts(
            db, older_than=timeout, render=render_incoming, history_size=3
        )
        == []
    )
    assert await store(db, part("second ", ref=5, total=3, seq=2)) is None
    assert await count_rows(db, "messages") == 1


async def test_a_failing_render_leaves_nothing_behind(db: Database) -> None:
    def broken(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        await store_incoming_part(db, part("hello"), render=broken, history_size=5)
    for table in ("incoming_parts", "messages", "webhook_outbox"):
        assert await count_rows(db, table) == 0, table
    # The part is still on the SIM; the next read stores it normally.
    assert await store(db, part("hello")) is not None


async def test_a_database_error_mid_transaction_is_a_store_error_and_rolls_back(
    db: Database,
) -> None:
    """The last statement (the outbox insert) fails: part and message must vanish with it."""
    await store(db, part("earlier"))

    [earlier] = await outbox_bodies(db)
    first_event_id = f"in.{earlier['id']}"  # render_incoming's id for the first message

    def reuse(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
        return NewEvent(event_id=first_event_id, body=b"{}")

    with pytest.raises(StoreError, match="store incoming parts failed"):
        await store_incoming_part(db, part("later"), render=reuse, history_size=5)
    assert await count_rows(db, "incoming_parts") == 1
    assert await count_rows(db, "messages") == 1
    assert await count_rows(db, "webhook_outbox") == 1


async def test_history_given_to_the_renderer_and_read_back(db: Database) -> None:
    first = await store(db, part("one", scts=SCTS))
    assert first is not None
    reply = await repository.enqueue_outgoing(
        db, peer="+40721000000", text="reply one", parts=1, encoding="gsm7", modem="sim800"
    )
    failed = await repository.enqueue_outgoing(
        db, peer="+40721000000", text="never left", parts=1, encoding="gsm7", modem="sim800"
    )
    await repository.mark_failed(
        db, failed.message.id, error="+CMS ERROR: 38", render_status=lambda c: None
    )
    await store(db, part("elsewhere", modem="huawei"))
    await store(db, part("other peer", sender="+40721999999"))
    later = SCTS + datetime.timedelta(minutes=1)
    current = await store(db, part("two", scts=later), history_size=10)
    assert current is not None
    bodies = await outbox_bodies(db)
    assert bodies[-1]["history"] == [["in", "one"], ["out", "reply one"]]
    history = await repository.conversation_history(
        db, modem="sim800", peer="+40721000000", limit=2
    )
    assert [(h.direction.value, h.text) for h in history] == [("out", "reply one"), ("in", "two")]
    assert history[-1].at == later
    assert history[0].message_id == reply.message.id
    assert (
        await repository.conversation_history(db, modem="sim800", peer="+40721000000", limit=0)
        == []
    )


async def test_consumed_parts_can_be_pruned(db: Database, clock: FakeClock) -> None:
    await store(db, part("done"))
    assert await store(db, part("half", ref=1, total=2, seq=1)) is None
    clock.advance(days=8)
    assert await repository.prune_incoming_parts(db, older_than=datetime.timedelta(days=7)) == 1
    assert await count_rows(db, "incoming_parts") == 1  # the waiting half is kept


@pytest.mark.parametrize(
    "kwargs",
    [
        {"concat_ref": None, "concat_total": 2, "concat_seq": 1},
        {"concat_ref": 1, "concat_total": 2, "concat_seq": 3},
        {"concat_ref": 1, "concat_total": 0, "concat_seq": 0},
    ],
)
def test_impossible_parts_are_refused(kwargs: dict[str, int | None]) -> None:
    with pytest.raises(ValueError, match="concat"):
        IncomingPart(modem="m", sender="+1", smsc_timestamp=SCTS, text="x", **kwargs)  # type: ignore[arg-type]


def test_naive_smsc_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        IncomingPart(modem="m", sender="+1", smsc_timestamp=datetime.datetime(2026, 1, 1), text="x")


async def test_nul_characters_do_not_make_a_part_unstorable(db: Database) -> None:
    message = await store(db, part("a\x00b", encoding="ucs2"))
    assert message is not None
    assert message.text == "a\ufffdb"


@pytest.mark.timeout(60)
async def test_parts_of_one_message_stored_at_the_same_moment(
    migrated_url: str, clock: FakeClock
) -> None:
    """Two engines store the two halves of each message simultaneously. On PostgreSQL, without
    the group lock neither would see the other's uncommitted half and the message would wait
    for the reassembly timeout (SQLite serialises them with BEGIN IMMEDIATE). Each message must
    be completed by exactly one of the two."""
    first, second = (open_database(migrated_url, clock=clock) for _ in range(2))
    try:
        for ref in range(15):
            results = await asyncio.gather(
                store_incoming_part(
                    first,
                    part("one ", ref=ref, total=2, seq=1),
                    render=render_incoming,
                    history_size=0,
                ),
                store_incoming_part(
                    second,
                    part("two", ref=ref, total=2, seq=2),
                    render=render_incoming,
                    history_size=0,
                ),
            )
            assert [r.message.text for r in results if r.message is not None] == ["one two"]
    finally:
        await first.close()
        await second.close()
