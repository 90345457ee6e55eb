"""An event claimed for the dispatcher by the transaction that created it (`reserve`, then
`hand_over`) is posted at once, without the dispatcher's own claim or a wake-up, never beside
another delivery of its peer and never beyond `max_in_flight`."""

from __future__ import annotations

import asyncio
import datetime

import httpx
import pytest

from smsgw.webhook.dispatcher import WebhookDispatcher, utc_now
from tests.webhook.http_server import Answer, Received, WebhookServer
from tests.webhook.memory_outbox import InMemoryOutbox
from tests.webhook.settings import fast_settings

pytestmark = pytest.mark.timeout(30)

PEER = "+40721000000"
OTHER = "+40722000000"
#: Long enough that only a hand-over (never the idle poll) can explain a POST in a test.
IDLE_POLL = 60.0


def body(text: str, peer: str = PEER) -> bytes:
    return f'{{"sender": "{peer}", "message": "{text}"}}'.encode()


def text_of(request: Received) -> str:
    value = request.json()["message"]
    assert isinstance(value, str)
    return value


async def test_a_handed_over_event_is_posted_without_a_wake_up(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    with WebhookServer(lambda _r: Answer(200)) as server:
        dispatcher = WebhookDispatcher(
            outbox, client, fast_settings(server.url, idle_poll=IDLE_POLL)
        )
        await dispatcher.start()
        await outbox.wait_until(lambda: True)  # let the first (empty) claim pass
        assert dispatcher.reserve(PEER)
        assert not dispatcher.reserve(PEER)  # one promise per peer
        entry = outbox.add(peer=PEER, body=body("hi"), created_at=utc_now())
        dispatcher.hand_over(PEER, entry)
        await outbox.wait_until(lambda: outbox.state_of(entry).state == "delivered", within=5)
        await dispatcher.stop()
    assert [text_of(request) for request in server.received] == ["hi"]
    assert dispatcher.in_flight == frozenset()


async def test_reservations_count_against_max_in_flight(client: httpx.AsyncClient) -> None:
    outbox = InMemoryOutbox()
    dispatcher = WebhookDispatcher(
        outbox, client, fast_settings("http://127.0.0.1:9/", max_in_flight=1, idle_poll=IDLE_POLL)
    )
    assert not dispatcher.reserve(PEER)  # not running: the dispatcher's claim will do
    await dispatcher.start()
    assert dispatcher.reserve(PEER)
    assert not dispatcher.reserve(OTHER)  # full
    dispatcher.hand_over(PEER, None)  # the transaction claimed nothing (or failed)
    assert dispatcher.reserve(OTHER)
    dispatcher.hand_over(OTHER, None)
    await dispatcher.stop()
    assert not dispatcher.reserve(PEER)  # stopped
    assert outbox_calls(outbox) == []


def outbox_calls(outbox: InMemoryOutbox) -> list[str]:
    return [call.method for call in outbox.calls]


async def test_an_event_handed_over_while_its_peer_is_posted_follows_that_post(
    client: httpx.AsyncClient,
) -> None:
    """The store claims the new event only once the peer's earlier one is no longer pending,
    but that delivery's task may still be finishing: the new POST waits for it, never runs
    beside it."""
    outbox = InMemoryOutbox()
    first = outbox.add(peer=PEER, body=body("first"), created_at=utc_now())
    with WebhookServer(lambda r: Answer(200, delay=0.5 if text_of(r) == "first" else 0)) as server:
        dispatcher = WebhookDispatcher(
            outbox, client, fast_settings(server.url, idle_poll=IDLE_POLL)
        )
        await dispatcher.start()
        # The first POST has reached the server (set by the server's thread).
        assert await asyncio.to_thread(server.got_request.wait, 5)
        assert dispatcher.in_flight == {PEER}
        assert dispatcher.reserve(PEER)
        second = outbox.add(
            peer=PEER, body=body("second"), created_at=utc_now() + datetime.timedelta(seconds=1)
        )
        dispatcher.hand_over(PEER, second)
        await outbox.wait_until(lambda: outbox.state_of(second).state == "delivered", within=5)
        await dispatcher.stop()
    assert outbox.state_of(first).state == "delivered"
    assert [text_of(request) for request in server.received] == ["first", "second"]
    assert dispatcher.in_flight == frozenset()
