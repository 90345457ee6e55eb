"""Drain the durable outbox to the webhook: concurrent across peers, in order within one.

One background task claims due entries (the outbox hands out at most one per peer) and starts
one delivery task per entry; a peer is not claimed again until its delivery is recorded, so a
slow answer for one sender never delays another, and one sender's events stay in order.
`wake()` makes a new event go out at once; retries are timed by sleeping until the outbox's
`next_due_at`, with `idle_poll` as a safety net (another process may have written events).
Quicker still, a new event can be claimed for this dispatcher in the transaction that creates
it (`reserve`, then `hand_over`): its POST starts when that commit returns.

A 2xx whose answer cannot be recorded (JSON too deep to parse, a reply no database takes, a
delivery the outbox refuses) is a failed attempt like a 5xx, so every event ends, delivered or
dead-lettered at `max_age`, and none holds back its sender's later events for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import functools
import logging
import random
import time
from collections.abc import Callable

import httpx

from smsgw.models import OutboxEntry
from smsgw.webhook.outbox import Outbox
from smsgw.webhook.payloads import ReplyDecision, UnrecordableAnswer, read_reply
from smsgw.webhook.retry import GiveUp, Outcome, after_failure, classify, parse_retry_after
from smsgw.webhook.settings import WebhookSettings
from smsgw.webhook.transport import Attempt, post_event

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]

#: Pause after the outbox itself failed (database down), so the loop does not spin.
OUTBOX_ERROR_PAUSE = 2.0
#: Sleep when the outbox says something is already due yet handed nothing out (leased by
#: another node, or an approximate `next_due_at`): re-check soon, but do not spin.
STALE_DUE_PAUSE = 1.0
#: How much of an error's text a log line keeps (a database error can quote a long statement).
MAX_ERROR_CHARS = 300


def utc_now() -> datetime.datetime:
    """The default clock: aware UTC."""
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptReport:
    """What one attempt did, for metrics (Prometheus counters/histograms in the gateway)."""

    entry: OutboxEntry
    outcome: Outcome
    http_status: int | None
    error: str | None
    latency: float


@dataclasses.dataclass(slots=True)
class DispatcherStats:
    """Running totals since start; `failures` = attempts that will be retried or gave up."""

    attempts: int = 0
    delivered: int = 0
    dropped: int = 0
    failures: int = 0
    dead_lettered: int = 0
    replies: int = 0
    latency_total: float = 0.0

    def record(self, report: AttemptReport, replied: bool) -> None:
        self.attempts += 1
        self.latency_total += report.latency
        if report.outcome is Outcome.DELIVERED:
            self.delivered += 1
            self.replies += int(replied)
        elif report.outcome is Outcome.DROPPED:
            self.dropped += 1
        else:
            self.failures += 1
            self.dead_lettered += int(report.outcome is Outcome.DEAD_LETTER)


class WebhookDispatcher:
    """Posts outbox entries to the webhook and records each outcome back in the outbox.

    `client` is shared and owned by the caller (connection pooling, closed by the gateway).
    `clock` must return aware datetimes; tests inject one to reach `max_age` without waiting.
    `on_attempt` is called after every attempt (exceptions in it are logged, not raised).
    """

    def __init__(
        self,
        outbox: Outbox,
        client: httpx.AsyncClient,
        settings: WebhookSettings,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        on_attempt: Callable[[AttemptReport], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._client = client
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._on_attempt = on_attempt
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._reserved: set[str] = set()
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._cooldown_until = 0.0
        self.stats = DispatcherStats()

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    @property
    def in_flight(self) -> frozenset[str]:
        """Peers with a POST under way."""
        return frozenset(self._in_flight)

    async def start(self) -> None:
        """Start the background drain; it posts whatever is already due straight away."""
        if self.running:
            return
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    def wake(self) -> None:
        """A new event was committed: look at the outbox now instead of at the next timer."""
        self._wakeup.set()

    def reserve(self, peer: str) -> bool:
        """Promise to post an event for `peer` that the caller's transaction is about to
        claim for this dispatcher; False when stopping, full, or already promised for `peer`.
        The caller must call `hand_over` after that transaction, also when it failed.

        A peer being posted may be reserved: the transaction claims the new event only once
        nothing older of the peer is pending, i.e. after that POST's outcome was committed."""
        if not self.running or self._stopping or peer in self._reserved:
            return False
        if len(self._in_flight) + len(self._reserved) >= self._settings.max_in_flight:
            return False
        self._reserved.add(peer)
        return True

    def hand_over(self, peer: str, entry: OutboxEntry | None) -> None:
        """End a `reserve`: post `entry` (claimed for this dispatcher), at once.

        A delivery of `peer` may still be finishing (its outcome committed, which is what let
        the new event be claimed, but its task not yet done): the new one then follows it."""
        self._reserved.discard(peer)
        if entry is None or self._stopping:
            return  # a claimed entry left here is released at the next start, or by its lease
        self._start(entry, after=self._in_flight.get(entry.peer))

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let POSTs under way finish for up to `grace` seconds (default: the
        webhook timeout), then cancel the rest. A cancelled entry stays pending in the outbox
        and is posted again after restart, with the same body and Idempotency-Key."""
        self._stopping = True
        self._wakeup.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        pending = set(self._in_flight.values())
        if pending:
            _, late = await asyncio.wait(
                pending, timeout=self._settings.timeout if grace is None else grace
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def dispatch_due(self) -> int:
        """One pass without the background loop: post everything due now, wait for the
        outcomes, return how many entries were attempted (tests, `smsgw webhook` tooling)."""
        tasks = await self._launch_due()
        await asyncio.gather(*tasks)
        return len(tasks)

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            pause = max(0.0, self._cooldown_until - time.monotonic())
            if not pause:
                try:
                    await self._launch_due()
                    pause = await self._idle_pause()
                except Exception:  # the outbox (database) failed: keep the loop alive
                    logger.exception(
                        "webhook outbox unavailable; retrying in %gs", OUTBOX_ERROR_PAUSE
                    )
                    pause = OUTBOX_ERROR_PAUSE
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wakeup.wait()

    async def _launch_due(self) -> list[asyncio.Task[None]]:
        free = self._settings.max_in_flight - len(self._in_flight) - len(self._reserved)
        if free <= 0 or self._stopping:
            return []
        entries = await self._outbox.claim_due(
            self._clock(), exclude_peers=frozenset(self._in_flight), limit=free
        )
        started: list[asyncio.Task[None]] = []
        for entry in entries:
            if entry.peer in self._in_flight:
                logger.error(
                    "outbox returned a second entry for %s (event %s); skipped to keep order",
                    entry.peer,
                    entry.event_id,
                )
                continue
            started.append(self._start(entry))
        return started

    def _start(
        self, entry: OutboxEntry, after: asyncio.Task[None] | None = None
    ) -> asyncio.Task[None]:
        delivery = self._deliver(entry) if after is None else self._deliver_after(after, entry)
        task = asyncio.create_task(delivery, name=f"webhook-{entry.event_id}")
        self._in_flight[entry.peer] = task
        task.add_done_callback(functools.partial(self._finished, entry.peer))
        return task

    async def _deliver_after(self, previous: asyncio.Task[None], entry: OutboxEntry) -> None:
        await asyncio.wait([previous])
        await self._deliver(entry)

    def _finished(self, peer: str, task: asyncio.Task[None]) -> None:
        if self._in_flight.get(peer) is task:  # not a follower `hand_over` chained to it
            del self._in_flight[peer]
        self._wakeup.set()  # the peer's next event may be waiting

    async def _idle_pause(self) -> float:
        if len(self._in_flight) >= self._settings.max_in_flight:
            return self._settings.idle_poll  # a finishing delivery wakes us
        next_due = await self._outbox.next_due_at(exclude_peers=frozenset(self._in_flight))
        if next_due is None:
            return self._settings.idle_poll
        wait = (next_due - self._clock()).total_seconds()
        if wait <= 0:
            return min(STALE_DUE_PAUSE, self._settings.idle_poll)
        return min(wait, self._settings.idle_poll)

    async def _deliver(self, entry: OutboxEntry) -> None:
        try:
            attempt = await post_event(
                self._client,
                self._settings,
                body=entry.body,
                event_id=entry.event_id,
                timestamp=int(self._clock().timestamp()),
            )
        except Exception:  # a bug, not the network (post_event turns that into data)
            self._cooldown_until = time.monotonic() + OUTBOX_ERROR_PAUSE
            logger.exception("webhook event %s could not be posted", entry.event_id)
            return
        try:
            outcome, decision = await self._record(entry, attempt)
        except Exception:
            # The POST happened but its outcome is not stored: the entry stays pending and is
            # posted again (same Idempotency-Key). Pause claiming so a broken outbox does not
            # turn into a tight loop of re-posts.
            self._cooldown_until = time.monotonic() + OUTBOX_ERROR_PAUSE
            logger.exception(
                "could not record webhook outcome for event %s (%s); it will be posted again",
                entry.event_id,
                attempt.describe(),
            )
            return
        report = AttemptReport(entry, outcome, attempt.http_status, attempt.error, attempt.latency)
        self.stats.record(report, replied=decision is not None and decision.replies)
        if self._on_attempt is not None:
            try:
                self._on_attempt(report)
            except Exception:
                logger.exception("webhook on_attempt hook failed")

    async def _record(
        self, entry: OutboxEntry, attempt: Attempt
    ) -> tuple[Outcome, ReplyDecision | None]:
        outcome = classify(attempt.http_status)
        if outcome is Outcome.DELIVERED:
            return await self._record_delivered(entry, attempt)
        if outcome is Outcome.DROPPED:
            reason = f"{attempt.describe()}: the webhook asked never to send this event again"
            logger.warning("webhook event %s dropped: %s", entry.event_id, reason)
            await self._outbox.drop(entry, reason)
            return outcome, None
        return await self._record_failure(entry, attempt, attempt.describe())

    async def _record_delivered(
        self, entry: OutboxEntry, attempt: Attempt
    ) -> tuple[Outcome, ReplyDecision | None]:
        """A 2xx: mark the event delivered with its reply, unless the answer cannot be
        recorded; then the attempt failed like any other, so the event still ends (dead
        letter at `max_age`) and stops holding back its sender's later events."""
        assert attempt.http_status is not None
        try:
            decision = _reply_of(entry, attempt)
        except UnrecordableAnswer as error:
            reason = f"{attempt.describe()}, but the answer cannot be recorded: {error}"
            return await self._record_failure(entry, attempt, reason)
        try:
            await self._outbox.complete(entry, attempt.http_status, decision.text)
        except Exception as error:
            # Something in this answer the store refused (a value the database rejects, a
            # structure too deep for it). If the database itself is down, recording the
            # failure fails too and `_deliver` treats it as before: posted again later.
            logger.warning(
                "webhook event %s: the answer could not be recorded (%s); counted as a "
                "failed attempt",
                entry.event_id,
                _brief(error),
            )
            # The reason is stored and shown (dead-letter API, inbox): only the error's kind
            # there, since a database error names the database; the details are in the log.
            reason = (
                f"{attempt.describe()}, but the answer could not be recorded "
                f"({type(error).__name__}; details in the gateway log)"
            )
            return await self._record_failure(entry, attempt, reason)
        logger.info(
            "webhook event %s (%s, %s) delivered: %s in %.0f ms; %s",
            entry.event_id,
            entry.kind.value,
            entry.peer,
            attempt.describe(),
            attempt.latency * 1000,
            "reply queued" if decision.replies else f"no reply ({decision.reason})",
        )
        return Outcome.DELIVERED, decision

    async def _record_failure(
        self, entry: OutboxEntry, attempt: Attempt, error: str
    ) -> tuple[Outcome, ReplyDecision | None]:
        """Count a failed attempt: retry after the backoff, or dead-letter past `max_age`."""
        now = self._clock()
        header = attempt.response_headers.get("retry-after")
        plan = after_failure(
            created_at=entry.created_at,
            failures=entry.attempts + 1,
            now=now,
            max_age=self._settings.max_age,
            policy=self._settings.backoff,
            rng=self._rng,
            retry_after=None if header is None else parse_retry_after(header, now),
        )
        if isinstance(plan, GiveUp):
            reason = f"{error}; gave up after {entry.attempts + 1} attempts over {plan.age}"
            logger.error("webhook event %s dead-lettered: %s", entry.event_id, reason)
            await self._outbox.dead_letter(entry, reason)
            return Outcome.DEAD_LETTER, None
        logger.warning(
            "webhook event %s attempt %d failed: %s; next try at %s",
            entry.event_id,
            entry.attempts + 1,
            error,
            plan.when.isoformat(timespec="seconds"),
        )
        await self._outbox.retry_later(entry, plan.when, error)
        return Outcome.RETRY, None


def _brief(error: BaseException) -> str:
    """`error` as one bounded line for the log."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _reply_of(entry: OutboxEntry, attempt: Attempt) -> ReplyDecision:
    if attempt.truncated:
        reason = f"response longer than {len(attempt.body)} bytes was not read"
        logger.warning("webhook answer to event %s ignored: %s", entry.event_id, reason)
        return ReplyDecision(None, reason)
    return read_reply(entry.kind, attempt.body)
