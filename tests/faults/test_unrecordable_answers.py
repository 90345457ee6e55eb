"""Webhook answers that cannot be recorded, against a real `smsgw run`: every such event ends.

Several senders text the gateway while the webhook answers some of their messages with a 2xx
whose JSON is nested too deeply to parse and others with a NUL character in `sms_text` (which
no database takes). Each such event must be retried by the normal rules and dead-lettered at
`webhook.max_age` within the attempts those rules allow, with the reason; no reply may go
out for it; and each sender's next message, answered normally, must still be delivered, in
order. The mechanism is tested in-process in tests/gateway/test_unrecordable_answers.py; this
is the daemon end to end, many senders at once, for `make faults`.

Compressed time: `max_age = 2s` and a 0.2 s .. 1 s backoff, so the whole retry schedule of an
event plays out in seconds, and each sender's bad answers are paced further apart than
`max_age` so most of them are retried several times rather than found past their deadline.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsgw.webhook import BackoffPolicy
from tests.faults.rig import API_KEY, Daemon, emulated_modems, write_config
from tests.faults.scale import counts_line
from tests.gateway.test_unrecordable_answers import DEEPLY_NESTED, NUL_IN_TEXT
from tests.webhook.http_server import Answer, Received, WebhookServer

SENDERS = 6
PER_SENDER = 20
#: Seconds between two injected SMS: each sender gets one every SENDERS * PACE = 1.5 s, a bad
#: answer every 3 s, longer than MAX_AGE, so its bad events rarely wait for one another.
PACE = 0.25
MAX_AGE = datetime.timedelta(seconds=2)
BACKOFF = BackoffPolicy(initial=datetime.timedelta(seconds=0.2), cap=datetime.timedelta(seconds=1))
#: What the webhook answers, by the first word of the message; the reason the gateway must
#: give when it dead-letters the event.
ANSWERS = {"nested": DEEPLY_NESTED, "nul": NUL_IN_TEXT, "plain": Answer()}
REASONS = {"nested": "nested too deeply", "nul": "NUL character"}


def most_attempts(max_age: datetime.timedelta, policy: BackoffPolicy) -> int:
    """The most POSTs the retry rules allow an event that always fails: every backoff at its
    shortest (jitter only shortens), then one last attempt pulled in to the deadline."""
    attempts, elapsed = 1, datetime.timedelta(0)
    while elapsed < max_age:  # this retry is scheduled before the deadline, or at it
        ceiling = min(policy.cap, policy.initial * policy.multiplier ** (attempts - 1))
        elapsed += ceiling * (1 - policy.jitter)
        attempts += 1
    return attempts


def _kind(text: str) -> str:
    return text.split(" ", 1)[0]


def _injected() -> list[tuple[str, str]]:
    """(sender, text) in injection order: each sender's 2nd and 4th of every four messages
    get a bad answer, so every bad one is followed by a good one from the same sender."""
    injected = []
    for n in range(SENDERS * PER_SENDER):
        k = n // SENDERS
        kind = {1: "nested", 3: "nul"}.get(k % 4, "plain")
        injected.append((f"+4072155{n % SENDERS:04d}", f"{kind} {n:04d}"))
    return injected


def _respond(request: Received) -> Answer:
    body = request.json()
    if body.get("type") != "incoming_sms":
        return Answer()
    return ANSWERS[_kind(str(body["message"]))]


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxRow:
    text: str
    state: str
    attempts: int
    last_error: str


def _outbox(database: Path) -> dict[str, OutboxRow]:
    """The incoming_sms events as the daemon left them (read after it stopped)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT body, state, attempts, last_error FROM webhook_outbox "
            "WHERE kind = 'incoming_sms'"
        ).fetchall()
    found = {}
    for body, state, attempts, last_error in rows:
        text = str(json.loads(body)["message"])
        found[text] = OutboxRow(text, str(state), int(attempts), str(last_error or ""))
    return found


async def _dead_letters(client: httpx.AsyncClient, base: str) -> dict[str, dict[str, Any]]:
    """The dead letters the API shows, by message text."""
    answer = await client.get(
        base + "/api/v1/webhook/dead-letters",
        params={"limit": 1000},
        headers={"X-API-Key": API_KEY},
    )
    answer.raise_for_status()
    return {str(event["payload"]["message"]): event for event in answer.json()["events"]}


async def _until_all_ended(
    base: str, server: WebhookServer, good: set[str], bad: set[str]
) -> dict[str, dict[str, Any]]:
    """Wait until every good event was posted and every bad one is a dead letter (an event
    that never ends is the failure this test exists for: say which); the dead letters."""
    dead: dict[str, dict[str, Any]] = {}
    posted: set[str] = set()
    try:
        async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(180):
            while not (set(dead) >= bad and posted >= good):
                await asyncio.sleep(0.5)
                dead = await _dead_letters(client, base)
                posted = {text for text, _ in _posts(list(server.received))}
    except TimeoutError:
        raise AssertionError(
            f"never ended: bad {sorted(bad - set(dead))}, good {sorted(good - posted)}"
        ) from None
    return dead


def _posts(received: list[Received]) -> list[tuple[str, str]]:
    """(text, Idempotency-Key) of every incoming_sms POST, in arrival order."""
    posts = []
    for request in received:
        body = request.json()
        if body.get("type") == "incoming_sms":
            posts.append((str(body["message"]), request.headers["idempotency-key"]))
    return posts


def _out_of_order(injected: list[tuple[str, str]], posts: list[tuple[str, str]]) -> list[str]:
    """Senders whose events were not posted strictly one after another in arrival order (a
    retried event is posted again before its sender's next one, never interleaved)."""
    wrong = []
    for sender in sorted({sender for sender, _ in injected}):
        theirs = [text for peer, text in injected if peer == sender]
        mine = set(theirs)
        runs = [text for text, _ in posts if text in mine]
        collapsed = [text for i, text in enumerate(runs) if i == 0 or runs[i - 1] != text]
        if collapsed != theirs:
            wrong.append(sender)
    return wrong


@pytest.mark.faults
@pytest.mark.timeout(300)
async def test_unrecordable_answers_are_dead_lettered_and_each_sender_goes_on(
    tmp_path: Path,
) -> None:
    injected = _injected()
    bad = {text for _, text in injected if _kind(text) in REASONS}
    good = {text for _, text in injected} - bad
    limit = most_attempts(MAX_AGE, BACKOFF)
    webhook: dict[str, str | float] = {
        "timeout": 5,  # a good answer never times out on a loaded machine (no retry, no dup)
        "max_age": f"{MAX_AGE.total_seconds():g}s",
        "backoff_initial": f"{BACKOFF.initial.total_seconds():g}s",
        "backoff_max": f"{BACKOFF.cap.total_seconds():g}s",
    }
    with WebhookServer(_respond) as server:
        async with emulated_modems(tmp_path, ["sim0"]) as modems:
            emulator, wire = modems["sim0"]
            config = write_config(
                tmp_path, webhook_url=server.url, modems={"sim0": emulator.link}, webhook=webhook
            )
            daemon = Daemon(config, tmp_path / "daemon.log")
            try:
                await daemon.start()
                for sender, text in injected:
                    await emulator.deliver(sender, text)
                    await asyncio.sleep(PACE)
                dead = await _until_all_ended(daemon.base, server, good, bad)
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
        posts = _posts(list(server.received))
    outbox = _outbox(tmp_path / "smsgw.db")

    keys: dict[str, set[str]] = collections.defaultdict(set)
    for text, key in posts:
        keys[text].add(key)
    post_counts = collections.Counter(text for text, _ in posts)
    delivered = {t for t in good if t in outbox and outbox[t].state == "delivered"}
    dead_lettered = {t for t in bad if t in outbox and outbox[t].state == "dead" and t in dead}
    attempts = sorted(outbox[t].attempts for t in bad if t in outbox)
    duplicated = sorted(t for t in good if post_counts[t] > 1)
    out_of_order = _out_of_order(injected, posts)
    counts_line(
        "unrecordable_answers",
        injected=len(injected),
        delivered=len(delivered),
        dead_lettered=len(dead_lettered),
        lost=len(injected) - len(delivered) - len(dead_lettered),
        duplicated=len(duplicated),
        bad_answers={kind: sum(_kind(t) == kind for t in bad) for kind in REASONS},
        attempts_min=attempts[0] if attempts else None,
        attempts_max=attempts[-1] if attempts else None,
        attempt_limit=limit,
        out_of_order_peers=out_of_order,
        replies_sent=len(wire.cmgs),
    )
    assert delivered == good, sorted(good - delivered)
    assert dead_lettered == bad, sorted(bad - dead_lettered)
    assert not duplicated, duplicated
    assert all(len(k) == 1 for k in keys.values()), "a retry changed its Idempotency-Key"
    assert not out_of_order, out_of_order
    for text in bad:
        row, letter = outbox[text], dead[text]
        # Every POST of the event was counted as an attempt, within what the rules allow.
        assert row.attempts == post_counts[text] == letter["attempts"], (text, row)
        assert 1 <= row.attempts <= limit, (text, row)
        assert "cannot be recorded" in row.last_error, row
        assert REASONS[_kind(text)] in row.last_error, row
        # Never given up before its deadline.
        created = datetime.datetime.fromisoformat(letter["created_at"])
        assert datetime.datetime.fromisoformat(letter["dead_at"]) >= created + MAX_AGE, letter
    assert outbox.keys() == good | bad
    assert wire.cmgs == [], "a reply went out for an answer that could not be recorded"
