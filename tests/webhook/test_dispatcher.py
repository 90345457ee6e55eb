"""The dispatcher against a real HTTP server on 127.0.0.1 and an in-memory outbox."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Sequence, Set

import httpx
import pytest

from smsgw import __version__
from smsgw.exceptions import StoreError
from smsgw.models import Direction, MessageStatus, OutboxEntry, WebhookEventKind
from smsgw.webhook import dispatcher as dispatcher_module
from smsgw.webhook.dispatcher import AttemptReport, WebhookDispatcher, utc_now
from smsgw.webhook.payloads import ConversationTurn, incoming_sms_body, sms_status_body
from smsgw.webhook.retry import BackoffPolicy, Outcome
from tests.ports import free_port
from tests.webhook.http_server import Answer, Received, WebhookServer
from tests.webhook.memory_outbox import InMemoryOutbox
from tests.webhook.settings import SECRET, fast_settings

pytestmark = pytest.mark.timeout(30)

PEER = "+40721000000"


def incoming(text: str, sender: str = PEER, at: datetime.datetime | None = None) -> bytes:
    moment = at or utc_now()
    return incoming_sms_body(
        message_id=f"id-{text}",
        sender=sender,
        message=text,
        received_at=moment,
        earlier=[
            ConversationTurn(Direction.OUT, "earlier", moment - datetime.timedelta(minutes=1))
        ],
        history_size=10,
        modem="sim800",
        recipient=None,
    )


def sender_of(request: Received) -> str:
    document = request.json()
    value = document.get("sender", document.get("recipient"))
    assert isinstance(value, str)
    return value


def message_of(request: Received) -> str:
    value = request.json()["message"]
    assert isinstance(value, str)
    return value


async def test_event_is_posted_with_contract_headers_and_the_reply_is_returned(
    client: httpx.AsyncClient,
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer.json({"sms_text": "Support hours: 9-5"})) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url))
        before = int(time.time())
        assert await dispatcher.dispatch_due() == 1
        after = int(time.time())
    (request,) = server.received
    assert request.method == "POST"
    assert request.path == "/sms-webhook"
    assert request.body == entry.body
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"smsgw/{__version__}"
    assert headers["idempotency-key"] == entry.event_id
    assert headers["x-api-key"] == SECRET
    assert before <= int(headers["x-timestamp"]) <= after
    expected = hmac.new(
        SECRET.encode(), headers["x-timestamp"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert headers["x-signature"] == f"sha256={expected}"
    stored = outbox.state_of(entry)
    assert (stored.state, stored.http_status, stored.reply_text) == (
        "delivered",
        200,
        "Support hours: 9-5",
    )


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (Answer(200, b""), 200),
        (Answer(204, b""), 204),
        (Answer.json({"ok": True}), 200),
        (Answer.json({"sms_text": ""}), 200),
        (Answer(200, b"<html>thanks</html>", headers=(("Content-Type", "text/html"),)), 200),
    ],
)
async def test_2xx_without_usable_sms_text_is_delivered_without_reply(
    client: httpx.AsyncClient, answer: Answer, status: int
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("hello"), created_at=utc_now())
    with WebhookServer(lambda _r: answer) as server:
        await WebhookDispatcher(outbox, client, fast_settings(server.url)).dispatch_due()
    stored = outbox.state_of(entry)
    assert (stored.state, stored.http_status, stored.reply_text) == ("delivered", status, None)


async def test_status_events_are_delivered_and_never_replied_to(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    body = sms_status_body(
        sms_id="42", status=MessageStatus.DELIVERED, recipient=PEER, at=utc_now(), parts=2
    )
    entry = outbox.add(peer=PEER, body=body, created_at=utc_now(), kind=WebhookEventKind.SMS_STATUS)
    with WebhookServer(lambda _r: Answer.json({"sms_text": "should not be sent"})) as server:
        await WebhookDispatcher(outbox, client, fast_settings(server.url)).dispatch_due()
    assert server.received[0].json()["type"] == "sms_status"
    assert outbox.state_of(entry).state == "delivered"
    assert outbox.state_of(entry).reply_text is None


async def test_an_oversized_answer_is_not_read_and_gives_no_reply(
    client: httpx.AsyncClient,
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    huge = json.dumps({"sms_text": "x" * 5000}).encode()
    with WebhookServer(lambda _r: Answer(200, huge)) as server:
        settings = fast_settings(server.url, max_response_bytes=1024)
        await WebhookDispatcher(outbox, client, settings).dispatch_due()
    assert outbox.state_of(entry).state == "delivered"
    assert outbox.state_of(entry).reply_text is None


async def test_without_a_secret_no_key_or_signature_is_sent(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    outbox.add(peer=PEER, body=incoming("hi"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer()) as server:
        await WebhookDispatcher(outbox, client, fast_settings(server.url, secret="")).dispatch_due()
    assert "x-api-key" not in server.received[0].headers
    assert "x-signature" not in server.received[0].headers
    assert "idempotency-key" in server.received[0].headers


async def test_failures_are_retried_with_the_same_key_and_identical_body(
    client: httpx.AsyncClient,
) -> None:
    script = [
        Answer(500),
        Answer(401),
        Answer(200, delay=3.0),
        Answer(503),
        Answer.json({"sms_text": "ok"}),
    ]

    def responder(request: Received) -> Answer:
        return script[request.index]

    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    reports: list[AttemptReport] = []
    with WebhookServer(responder) as server:
        settings = fast_settings(server.url, timeout=0.5)
        dispatcher = WebhookDispatcher(outbox, client, settings, on_attempt=reports.append)
        await dispatcher.start()
        await outbox.wait_until(lambda: outbox.state_of(entry).state == "delivered")
        await dispatcher.stop()
    assert len(server.received) == 5
    assert {request.body for request in server.received} == {entry.body}
    assert {request.headers["idempotency-key"] for request in server.received} == {entry.event_id}
    for request in server.received:  # each attempt is signed afresh, over the same bytes
        mac = hmac.new(
            SECRET.encode(), request.headers["x-timestamp"].encode() + b"." + entry.body, "sha256"
        )
        assert request.headers["x-signature"] == "sha256=" + mac.hexdigest()
    stored = outbox.state_of(entry)
    assert stored.errors == [
        "HTTP 500 Internal Server Error",
        "HTTP 401 Unauthorized",
        "timeout after 0.5s",
        "HTTP 503 Service Unavailable",
    ]
    assert stored.reply_text == "ok"
    assert stored.entry.attempts == 5
    assert [call.attempts_before for call in outbox.calls_for(entry)] == [0, 1, 2, 3, 4]
    assert [report.outcome for report in reports] == [Outcome.RETRY] * 4 + [Outcome.DELIVERED]
    assert dispatcher.stats.attempts == 5
    assert dispatcher.stats.failures == 4
    assert dispatcher.stats.delivered == 1
    assert dispatcher.stats.replies == 1
    assert dispatcher.stats.latency_total >= 0.5


async def test_gone_is_dropped_and_never_retried(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer(410)) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url))
        await dispatcher.dispatch_due()
        await asyncio.sleep(0.2)  # longer than any fast backoff: nothing may be due again
        assert await dispatcher.dispatch_due() == 0
    assert len(server.received) == 1
    stored = outbox.state_of(entry)
    assert stored.state == "dropped"
    assert "410" in stored.errors[0]
    assert dispatcher.stats.dropped == 1


async def test_redirects_are_retried_not_followed(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer(302, headers=(("Location", "/elsewhere"),))) as server:
        await WebhookDispatcher(outbox, client, fast_settings(server.url)).dispatch_due()
    assert [request.path for request in server.received] == ["/sms-webhook"]
    assert outbox.state_of(entry).state == "pending"
    assert outbox.state_of(entry).errors == ["HTTP 302 Found"]


async def test_connection_refused_is_retried(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    url = f"http://127.0.0.1:{free_port()}/sms-webhook"
    started = utc_now()
    await WebhookDispatcher(outbox, client, fast_settings(url)).dispatch_due()
    stored = outbox.state_of(entry)
    assert stored.state == "pending"
    assert stored.errors[0].startswith("ConnectError")
    assert started < stored.next_attempt_at <= utc_now() + datetime.timedelta(seconds=1)


async def test_dead_letter_after_max_age_on_an_injected_clock(client: httpx.AsyncClient) -> None:
    created = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    now = [created]
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help", at=created), created_at=created)
    hourly = BackoffPolicy(
        initial=datetime.timedelta(hours=1), cap=datetime.timedelta(hours=8), jitter=0
    )
    with WebhookServer(lambda _r: Answer(500)) as server:
        settings = fast_settings(server.url, backoff=hourly, max_age=datetime.timedelta(hours=48))
        dispatcher = WebhookDispatcher(outbox, client, settings, clock=lambda: now[0])
        retries: list[datetime.datetime] = []
        while outbox.state_of(entry).state == "pending":
            assert await dispatcher.dispatch_due() == 1
            assert await dispatcher.dispatch_due() == 0  # not due again until the retry time
            now[0] = outbox.state_of(entry).next_attempt_at
            retries.append(now[0])
            assert len(retries) < 50
    deadline = created + datetime.timedelta(hours=48)
    gaps = [(b - a) for a, b in zip([created, *retries], retries, strict=False)]
    assert gaps[:4] == [datetime.timedelta(hours=h) for h in (1, 2, 4, 8)]
    assert max(gaps) <= datetime.timedelta(hours=8)
    assert retries[-2] == deadline  # one last try exactly at max_age, then give up
    stored = outbox.state_of(entry)
    assert stored.state == "dead"
    assert "HTTP 500" in stored.errors[-1]
    assert "gave up" in stored.errors[-1]
    assert len(server.received) == len(retries)
    assert dispatcher.stats.dead_lettered == 1


async def test_per_peer_order_holds_under_concurrency_and_failures(
    client: httpx.AsyncClient,
) -> None:
    rng = random.Random(5)
    peers = [f"+4072100000{n}" for n in range(4)]
    outbox = InMemoryOutbox()
    start = utc_now()
    for seq in range(6):
        for number, peer in enumerate(peers):
            outbox.add(
                peer=peer,
                body=incoming(f"{seq}", sender=peer),
                created_at=start + datetime.timedelta(milliseconds=seq * 10 + number),
            )
    failed_once: set[tuple[str, str]] = set()
    active: dict[str, int] = dict.fromkeys(peers, 0)
    overlaps: list[str] = []
    lock = threading.Lock()

    def responder(request: Received) -> Answer:
        peer = sender_of(request)
        with lock:
            active[peer] += 1
            if active[peer] > 1:
                overlaps.append(peer)
            fail = (peer, message_of(request)) not in failed_once and rng.random() < 0.3
            if fail:
                failed_once.add((peer, message_of(request)))
            delay = rng.uniform(0, 0.05)
        time.sleep(delay)
        with lock:
            active[peer] -= 1
        return Answer(500 if fail else 200)

    with WebhookServer(responder) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url))
        await dispatcher.start()
        await outbox.wait_until(
            lambda: all(s.state == "delivered" for s in outbox.events.values()), within=20
        )
        await dispatcher.stop()
    for peer in peers:
        sequence = [int(message_of(r)) for r in server.received if sender_of(r) == peer]
        assert sequence == sorted(sequence), f"{peer} out of order: {sequence}"
        assert set(sequence) == set(range(6))
    assert not overlaps, f"two POSTs for one peer were in flight at once: {overlaps}"
    assert len(server.received) == len(outbox.calls), "every POST has exactly one outcome"
    assert failed_once, "the scenario should include retries"
    assert server.max_concurrent > 1, "peers should be posted concurrently"


async def test_a_slow_webhook_answer_for_one_peer_does_not_block_another(
    client: httpx.AsyncClient,
) -> None:
    slow, fast = "+40700000001", "+40700000002"
    outbox = InMemoryOutbox()
    slow_entry = outbox.add(peer=slow, body=incoming("a", sender=slow), created_at=utc_now())
    with WebhookServer(lambda r: Answer(200, delay=2.0 if sender_of(r) == slow else 0.0)) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url, timeout=5))
        await dispatcher.start()
        await asyncio.sleep(0.2)  # the slow POST is under way
        assert dispatcher.in_flight == {slow}
        fast_entry = outbox.add(peer=fast, body=incoming("b", sender=fast), created_at=utc_now())
        posted = time.monotonic()
        dispatcher.wake()
        await outbox.wait_until(lambda: outbox.state_of(fast_entry).state == "delivered")
        assert time.monotonic() - posted < 1.0
        assert outbox.state_of(slow_entry).state == "pending"
        await outbox.wait_until(lambda: outbox.state_of(slow_entry).state == "delivered")
        await dispatcher.stop()


async def test_wake_posts_a_new_event_at_once_and_start_drains_the_backlog(
    client: httpx.AsyncClient,
) -> None:
    outbox = InMemoryOutbox()
    backlog = outbox.add(peer="+1", body=incoming("old", sender="+1"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer()) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url, idle_poll=60))
        await dispatcher.start()
        await outbox.wait_until(lambda: outbox.state_of(backlog).state == "delivered", within=2)
        await asyncio.sleep(0.1)  # the loop is now asleep for idle_poll (60 s)
        fresh = outbox.add(peer="+2", body=incoming("new", sender="+2"), created_at=utc_now())
        dispatcher.wake()
        await outbox.wait_until(lambda: outbox.state_of(fresh).state == "delivered", within=2)
        await dispatcher.stop()
    assert not dispatcher.running


async def test_stop_cancels_a_hung_post_and_leaves_the_event_pending(
    client: httpx.AsyncClient,
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer(200, delay=5.0)) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url, timeout=10))
        await dispatcher.start()
        assert await asyncio.to_thread(server.got_request.wait, 2)
        started = time.monotonic()
        await dispatcher.stop(grace=0.1)
        assert time.monotonic() - started < 1.0
    assert outbox.state_of(entry).state == "pending"
    assert outbox.calls == []
    assert dispatcher.in_flight == frozenset()


async def test_the_loop_survives_an_outbox_outage(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_module, "OUTBOX_ERROR_PAUSE", 0.05)
    outbox = InMemoryOutbox()
    outbox.fail_next_claims = 3
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer()) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url))
        await dispatcher.start()
        await outbox.wait_until(lambda: outbox.state_of(entry).state == "delivered", within=5)
        await dispatcher.stop()
    assert outbox.fail_next_claims == 0
    assert len(server.received) == 1


async def test_retry_after_from_the_server_is_honoured(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer(503, headers=(("Retry-After", "600"),))) as server:
        before = utc_now()
        await WebhookDispatcher(outbox, client, fast_settings(server.url)).dispatch_due()
    stored = outbox.state_of(entry)
    assert stored.errors == ["HTTP 503 Service Unavailable"]
    wait = stored.next_attempt_at - before
    assert datetime.timedelta(seconds=599) <= wait <= datetime.timedelta(seconds=602)


class _StaleOutbox(InMemoryOutbox):
    """Reports something due in the past yet hands nothing out (leased by another node)."""

    def __init__(self) -> None:
        super().__init__()
        self.claims = 0

    async def claim_due(
        self, now: datetime.datetime, *, exclude_peers: Set[str], limit: int
    ) -> Sequence[OutboxEntry]:
        self.claims += 1
        return []

    async def next_due_at(self, *, exclude_peers: Set[str]) -> datetime.datetime | None:
        return utc_now() - datetime.timedelta(minutes=1)


async def test_a_stale_next_due_at_does_not_make_the_loop_spin(client: httpx.AsyncClient) -> None:
    outbox = _StaleOutbox()
    dispatcher = WebhookDispatcher(outbox, client, fast_settings("http://127.0.0.1:9/unused"))
    await dispatcher.start()
    await asyncio.sleep(0.5)
    await dispatcher.stop()
    assert 1 <= outbox.claims <= 2


class _RefusingOutbox(InMemoryOutbox):
    """An outbox whose store cannot record a delivery (as when serialising the answer hits
    the recursion limit); with `down`, it cannot record anything (the database is gone)."""

    def __init__(self, *, down: bool = False) -> None:
        super().__init__()
        self.down = down

    async def complete(self, entry: OutboxEntry, http_status: int, reply_text: str | None) -> None:
        raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")

    async def retry_later(
        self, entry: OutboxEntry, next_attempt_at: datetime.datetime, error: str
    ) -> None:
        if self.down:
            raise StoreError("record webhook outcomes failed: cannot reach the database")
        await super().retry_later(entry, next_attempt_at, error)


async def test_a_delivery_the_outbox_cannot_record_is_a_failed_attempt_ending_in_dead_letter(
    client: httpx.AsyncClient,
) -> None:
    created = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    now = [created]
    outbox = _RefusingOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help", at=created), created_at=created)
    with WebhookServer(lambda _r: Answer.json({"sms_text": "hi"})) as server:
        backoff = BackoffPolicy(
            initial=datetime.timedelta(seconds=10), cap=datetime.timedelta(seconds=20), jitter=0
        )
        settings = fast_settings(server.url, backoff=backoff, max_age=datetime.timedelta(minutes=1))
        dispatcher = WebhookDispatcher(outbox, client, settings, clock=lambda: now[0])
        while outbox.state_of(entry).state == "pending":
            assert await dispatcher.dispatch_due() == 1
            now[0] = max(now[0], outbox.state_of(entry).next_attempt_at)
            assert len(server.received) < 50, "never dead-lettered"
    stored = outbox.state_of(entry)
    assert stored.state == "dead"
    assert stored.entry.attempts == len(server.received) == 5  # at 0, 10, 30, 50 and 60 s
    assert "HTTP 200" in stored.errors[-1]
    assert "could not be recorded (RecursionError" in stored.errors[-1]
    assert dispatcher.stats.dead_lettered == 1
    assert dispatcher.stats.delivered == 0


async def test_with_the_database_down_an_unrecorded_delivery_stays_pending(
    client: httpx.AsyncClient,
) -> None:
    outbox = _RefusingOutbox(down=True)
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    with WebhookServer(lambda _r: Answer.json({"sms_text": "hi"})) as server:
        dispatcher = WebhookDispatcher(outbox, client, fast_settings(server.url))
        assert await dispatcher.dispatch_due() == 1
    stored = outbox.state_of(entry)
    assert (stored.state, stored.entry.attempts, stored.errors) == ("pending", 0, [])
    assert outbox.calls == []  # nothing recorded: posted again once the database is back
    assert len(server.received) == 1
