"""A 2xx answer the gateway cannot record (JSON nested too deeply to parse, a NUL character in
`sms_text`) is a failed attempt: the event is retried by the normal rules and dead-lettered at
`max_age` with the reason, and the sender's next event is still delivered, on SQLite and
PostgreSQL. Before, such an event was posted again every lease for ever, escaped `max_age`
and held back every later event of its sender."""

from __future__ import annotations

import datetime
import random
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from smsgw.gateway.outbox_adapter import StoreOutbox
from smsgw.store import Database, repository
from smsgw.store.schema import messages
from smsgw.store.types import OutboxState
from smsgw.webhook import BackoffPolicy, WebhookDispatcher, WebhookSettings
from tests.store_helpers import FakeClock, receive
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = pytest.mark.timeout(60)

SENDER = "+40721000000"
POISON = "poison"
MAX_AGE = datetime.timedelta(minutes=10)
BACKOFF = BackoffPolicy(initial=datetime.timedelta(seconds=5), cap=datetime.timedelta(minutes=2))
#: Attempts the normal rules allow within `MAX_AGE`: with no jitter the waits are 5, 10, 20,
#: 40, 80 s and then 2 min until the deadline, which is tried once more: 9 attempts. Jitter
#: only shortens waits, by at most 20 %, which at most adds two more.
MAX_ATTEMPTS = 11

DEEPLY_NESTED = Answer(
    200, b'{"sms_text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", 0.0,
    (("Content-Type", "application/json"),),
)  # fmt: skip
NUL_IN_TEXT = Answer.json({"sms_text": "call me\u0000back"})
GOOD_REPLY = Answer.json({"sms_text": "thanks, we got it"})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


async def _drain(dispatcher: WebhookDispatcher, outbox: StoreOutbox, clock: FakeClock) -> None:
    """Post whatever is due, then jump the clock to the next due time, until nothing is pending
    (a stuck event would keep coming back: fail instead of looping for ever)."""
    for _ in range(3 * MAX_ATTEMPTS):
        await dispatcher.dispatch_due()
        due = await outbox.next_due_at(exclude_peers=frozenset())
        if due is None:
            return
        clock.now = max(clock.now, due)
    raise AssertionError("the outbox never drained: an event is posted again and again")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (DEEPLY_NESTED, "response JSON is nested too deeply to be read"),
        (NUL_IN_TEXT, "sms_text contains a NUL character, which cannot be stored"),
    ],
    ids=["nested-json", "nul-in-sms_text"],
)
async def test_an_answer_that_cannot_be_recorded_is_dead_lettered_and_the_sender_goes_on(
    db: Database, clock: FakeClock, client: httpx.AsyncClient, answer: Answer, reason: str
) -> None:
    def respond(request: Received) -> Answer:
        return answer if request.json()["message"] == POISON else GOOD_REPLY

    with WebhookServer(respond) as server:
        outbox = StoreOutbox(db, node="n1", max_parts=6, replies_per_peer_per_hour=100)
        settings = WebhookSettings(url=server.url, max_age=MAX_AGE, backoff=BACKOFF)
        dispatcher = WebhookDispatcher(outbox, client, settings, clock=clock, rng=random.Random(7))
        await receive(db, sender=SENDER, text=POISON)
        clock.advance(seconds=1)
        await receive(db, sender=SENDER, text="are you open on sunday?")
        await _drain(dispatcher, outbox, clock)
        posted = [request.json()["message"] for request in server.received]

    [dead] = await repository.list_dead_letters(db)
    poison_posts = posted.count(POISON)
    assert dead.entry.attempts == poison_posts
    assert 2 <= poison_posts <= MAX_ATTEMPTS
    assert reason in (dead.last_error or "")
    assert "cannot be recorded" in (dead.last_error or "")
    assert dead.dead_at == dead.entry.created_at + MAX_AGE  # tried once more at max_age
    # The sender's next event went out once, after the dead letter, and was delivered with
    # its reply queued.
    assert posted[-1] == "are you open on sunday?"
    assert posted.count("are you open on sunday?") == 1
    counts = await repository.outbox_counts(db)
    assert (counts[OutboxState.DEAD], counts[OutboxState.DELIVERED]) == (1, 1)
    assert counts[OutboxState.PENDING] == 0
    async with db.transaction("read replies") as connection:
        replies = (
            await connection.execute(
                sa.select(messages.c.text).where(messages.c.reply_to_pk.is_not(None))
            )
        ).all()
    assert [row.text for row in replies] == ["thanks, we got it"]
