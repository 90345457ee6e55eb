"""Several `smsgw run` processes on one PostgreSQL, two emulated modems each.

- 1,000 API sends spread over every node's API: each message sent exactly once (counted on
  the emulated modems), none left behind.
- One node `kill -9`'d in the middle: the queue goes on through the others; what the dead
  node was sending becomes `failed`/`interrupted` after one lease (at most one per modem of
  that node), and no message is sent twice.
- SMS arriving on every modem: each `incoming_sms` event reaches the webhook exactly once per
  Idempotency-Key, whichever node's dispatcher posts it; the events a node had claimed when
  it was `kill -9`'d are posted by the others after the lease, under the same key.

`make test` runs bounded versions; `make faults` the long ones (three nodes, more kills).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.store import open_database
from tests.scaleout.cluster import Cluster, ClusterOptions, Node, OutgoingRow, send_many
from tests.webhook.http_server import Answer, Received, WebhookServer

pytestmark = pytest.mark.slow


def _texts(count: int, label: str) -> list[str]:
    return [f"{label} {n:04d}" for n in range(count)]


def _check_sent_once(
    cluster: Cluster, accepted: dict[str, str], rows: list[OutgoingRow]
) -> collections.Counter[str]:
    """Every accepted message is final; sent ones went out exactly once, interrupted ones at
    most once, nothing else went out. Returns the statuses."""
    on_air = collections.Counter(message.text for message in cluster.sent())
    by_id = {row.id: row for row in rows}
    assert set(by_id) == set(accepted), "the database lost or invented messages"
    statuses: collections.Counter[str] = collections.Counter()
    for message_id, text in accepted.items():
        row = by_id[message_id]
        statuses[row.status] += 1
        if row.status in ("sent", "delivered"):
            assert on_air[text] == 1, (row, on_air[text])
        else:
            assert (row.status, row.error) == ("failed", "interrupted"), row
            assert on_air[text] <= 1, (row, on_air[text])
    assert sum(on_air.values()) == sum(on_air[text] for text in accepted.values())
    assert max(on_air.values()) == 1, on_air.most_common(3)
    return statuses


async def _sends_each_once(tmp_path: Path, url: str, nodes: int, messages: int) -> None:
    async with Cluster(tmp_path, url, ClusterOptions(nodes=nodes)) as cluster:
        accepted = await send_many(cluster.nodes, _texts(messages, "bulk"))
        rows = await cluster.wait_settled(within=120)
        statuses = _check_sent_once(cluster, accepted, rows)
        assert statuses["sent"] + statuses["delivered"] == messages, statuses
        # The load was shared: every node's modems sent some of it.
        senders = collections.Counter(cluster.node_of(row.modem) for row in rows)
        assert set(senders) == {node.name for node in cluster.nodes}, senders
        codes = await cluster.stop_all()
        assert set(codes.values()) == {0}, codes


async def _kill_one_midway(
    tmp_path: Path, url: str, nodes: int, messages: int, seed: int, *, expect_interrupted: bool
) -> None:
    rng = random.Random(seed)
    async with Cluster(tmp_path, url, ClusterOptions(nodes=nodes, cmgs_delay=0.05)) as cluster:
        victim = cluster.nodes[seed % nodes]
        first = await send_many(cluster.nodes, _texts(messages // 2, "before"))
        # Kill while the victim's modems are busy with the first half.
        async with asyncio.timeout(30):
            while sum(len(m.sent()) for m in victim.modems.values()) < 4:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        cluster.kill(victim)
        second = await send_many(cluster.nodes, _texts(messages - messages // 2, "after"))
        rows = await cluster.wait_settled(within=120)
        statuses = _check_sent_once(cluster, {**first, **second}, rows)
        interrupted = [row for row in rows if row.status == "failed"]
        assert {cluster.node_of(row.modem) for row in interrupted} <= {victim.name}, interrupted
        assert len(interrupted) <= len(victim.modems), interrupted
        if expect_interrupted:  # the long runs always catch a modem mid-send
            assert interrupted, statuses
        survivors = {cluster.node_of(row.modem) for row in rows if row.id in second}
        assert victim.name not in survivors
        print(f"kill -9 {victim.name} of {nodes} nodes, {messages} sends: {dict(statuses)}")
        assert statuses["sent"] + statuses["delivered"] + len(interrupted) == messages
        codes = await cluster.stop_all()
        assert codes.pop(victim.name) == -9
        assert set(codes.values()) == {0}, codes


async def _inbound_delivered_once(tmp_path: Path, url: str, nodes: int, per_modem: int) -> None:
    with WebhookServer(lambda _request: Answer()) as server:
        options = ClusterOptions(nodes=nodes, webhook_url=server.url)
        async with Cluster(tmp_path, url, options) as cluster:
            expected = set()
            for n in range(per_modem):
                for name, modem in cluster.modems.items():
                    text = f"to {name} #{n}"
                    expected.add(text)
                    await modem.deliver(f"+4072{n % 7:07d}", text)

            def incoming() -> list[tuple[str, str]]:
                return [
                    (r.headers["idempotency-key"], r.json()["message"])
                    for r in list(server.received)
                    if r.json().get("type") == "incoming_sms"
                ]

            async with asyncio.timeout(60):
                while {text for _key, text in incoming()} != expected:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # time for a duplicate POST to show up
            posts = collections.Counter(key for key, _text in incoming())
            assert len(posts) == len(expected)
            assert max(posts.values()) == 1, posts.most_common(3)
            codes = await cluster.stop_all()
            assert set(codes.values()) == {0}, codes


async def _outbox_states(url: str) -> collections.Counter[str]:
    db = open_database(url)
    try:
        async with db.transaction("test: outbox states") as connection:
            rows = (await connection.execute(sa.text("SELECT state FROM webhook_outbox"))).all()
    finally:
        await db.close()
    return collections.Counter(str(row[0]) for row in rows)


#: The kill test's webhook timeout: long enough for the webhook to hold every answer while
#: the test waits for the victim to hold a claim (an attempt that timed out would release its
#: claim). The others take a dead node's claims over after three of these (the lease floor).
KILL_TEST_WEBHOOK_TIMEOUT = 5.0
#: The longest the webhook holds one answer: under the timeout, so no held POST fails.
HOLD_ANSWER = 4.0


class AnswerGate:
    """The webhook of the kill test: every answer is held until `open()` (at most
    `HOLD_ANSWER`), so an event a dispatcher claimed stays claimed, and in flight, until the
    test has killed the node it wants; then every answer is an immediate 200."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    def respond(self, _request: Received) -> Answer:
        self.opened.wait(HOLD_ANSWER)
        return Answer()

    def open(self) -> None:
        self.opened.set()


async def _await_victim_claims(url: str, victim: Node, expected: int) -> set[str]:
    """Wait until every SMS of the victim's own modems is stored (nobody else reads them) and
    the victim holds claimed, unfinished webhook events; their event ids (Idempotency-Keys).

    Polls instead of sleeping a fixed time: on a loaded machine the burst may take seconds
    to be stored, and a fixed pause either ends before the victim claimed anything or after
    its answers came back."""
    modems = sorted(victim.modems)
    stored_query = sa.text(
        "SELECT count(*) FROM messages WHERE direction = 'in' AND modem IN :modems"
    ).bindparams(sa.bindparam("modems", expanding=True))
    claimed_query = sa.text(
        "SELECT event_id FROM webhook_outbox WHERE state = 'pending' AND claimed_by = :node"
    )
    db = open_database(url)
    try:
        async with asyncio.timeout(60):
            while True:
                async with db.transaction("test: the victim's claims") as connection:
                    stored = await connection.scalar(stored_query, {"modems": modems})
                    held = (await connection.scalars(claimed_query, {"node": victim.name})).all()
                if stored == expected and held:
                    return {str(event_id) for event_id in held}
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{victim.name} never held a webhook event to take over") from None
    finally:
        await db.close()


async def _webhook_events_survive_a_kill(tmp_path: Path, url: str, per_modem: int) -> None:
    """Events a node had claimed when it was killed are posted by the others after the lease;
    a POST repeated because of the kill carries the same Idempotency-Key."""
    gate = AnswerGate()
    with WebhookServer(gate.respond) as server:
        options = ClusterOptions(
            nodes=3, webhook_url=server.url, webhook_timeout=KILL_TEST_WEBHOOK_TIMEOUT
        )
        async with Cluster(tmp_path, url, options) as cluster:
            victim = cluster.nodes[1]
            expected = set()
            try:
                for n in range(per_modem):
                    for name, modem in cluster.modems.items():
                        text = f"to {name} #{n}"
                        expected.add(text)
                        await modem.deliver(f"+4073{len(expected):07d}", text)
                on_victim = per_modem * len(victim.modems)
                held = await _await_victim_claims(url, victim, on_victim)
                cluster.kill(victim)  # mid-way through its held POSTs
                assert victim.process is not None
                await victim.process.wait()
                killed_at = time.monotonic()
            finally:
                gate.open()

            def keys_by_text() -> dict[str, set[str]]:
                found: dict[str, set[str]] = collections.defaultdict(set)
                for request in list(server.received):
                    with contextlib.suppress(ValueError):  # a POST cut by the kill
                        body = request.json()
                        if body.get("type") == "incoming_sms":
                            found[body["message"]].add(request.headers["idempotency-key"])
                return found

            async with asyncio.timeout(90):
                while set(keys_by_text()) != expected:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            assert max(len(keys) for keys in keys_by_text().values()) == 1
            # What the victim held was posted again after its death: by one of the others.
            async with asyncio.timeout(60):
                while held - {  # noqa: ASYNC110
                    r.headers["idempotency-key"]
                    for r in list(server.received)
                    if r.started > killed_at
                }:
                    await asyncio.sleep(0.2)
            async with asyncio.timeout(30):
                while (await _outbox_states(url))["pending"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            codes = await cluster.stop_all()
            assert codes.pop(victim.name) == -9
            assert set(codes.values()) == {0}, codes


@pytest.mark.timeout(150)
async def test_two_nodes_send_1000_api_messages_each_exactly_once(
    tmp_path: Path, pg_url: str
) -> None:
    await _sends_each_once(tmp_path, pg_url, nodes=2, messages=1000)


@pytest.mark.timeout(150)
async def test_a_node_killed_midway_hands_its_queue_to_the_others(
    tmp_path: Path, pg_url: str
) -> None:
    seed = random.randrange(1 << 30)
    await _kill_one_midway(
        tmp_path, pg_url, nodes=3, messages=300, seed=seed, expect_interrupted=False
    )


@pytest.mark.timeout(120)
async def test_inbound_on_every_modem_is_posted_once_per_idempotency_key(
    tmp_path: Path, pg_url: str
) -> None:
    await _inbound_delivered_once(tmp_path, pg_url, nodes=3, per_modem=10)


@pytest.mark.timeout(120)
async def test_webhook_events_a_killed_node_had_claimed_are_posted_by_the_others(
    tmp_path: Path, pg_url: str
) -> None:
    await _webhook_events_survive_a_kill(tmp_path, pg_url, per_modem=4)


@pytest.mark.faults
@pytest.mark.timeout(300)
async def test_three_nodes_send_1000_api_messages_each_exactly_once(
    tmp_path: Path, pg_url: str
) -> None:
    await _sends_each_once(tmp_path, pg_url, nodes=3, messages=1000)


@pytest.mark.faults
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("nodes", "seed"), [(2, 1), (3, 2), (3, 3)])
async def test_kill_9_of_one_node_during_1000_sends(
    tmp_path: Path, pg_url: str, nodes: int, seed: int
) -> None:
    await _kill_one_midway(
        tmp_path, pg_url, nodes=nodes, messages=1000, seed=seed, expect_interrupted=True
    )


@pytest.mark.faults
@pytest.mark.timeout(300)
async def test_inbound_burst_on_three_nodes(tmp_path: Path, pg_url: str) -> None:
    await _inbound_delivered_once(tmp_path, pg_url, nodes=3, per_modem=60)
