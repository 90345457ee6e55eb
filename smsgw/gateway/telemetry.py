"""Prometheus numbers the gateway keeps up to date (the metric objects live in smsgw.metrics,
the API renders them). Labels stay bounded: modem names, statuses, event kinds."""

from __future__ import annotations

from smsgw import metrics
from smsgw.at.channel import CommandObserver
from smsgw.models import MessageStatus
from smsgw.modem import ModemInfo
from smsgw.store import Database, repository
from smsgw.store.types import StatusTransition
from smsgw.webhook import AttemptReport, Outcome


def message_received(modem: str) -> None:
    metrics.MESSAGES_IN.labels(modem=modem).inc()


def message_queued(modem: str | None) -> None:
    metrics.MESSAGES_OUT.labels(modem=modem or "any", status=MessageStatus.QUEUED.value).inc()


def optout_refused(path: str) -> None:
    metrics.OPTOUT_REFUSALS.labels(path=path).inc()


def optout_keyword(action: str) -> None:
    metrics.OPTOUT_KEYWORDS.labels(action=action).inc()


def message_transition(change: StatusTransition) -> None:
    metrics.MESSAGES_OUT.labels(modem=change.modem or "any", status=change.status.value).inc()


def modem_state(modem: str, state: str) -> None:
    metrics.set_modem_state(modem, state)


def modem_info(modem: str, info: ModemInfo) -> None:
    if info.signal_dbm is not None:
        metrics.MODEM_SIGNAL_DBM.labels(modem=modem).set(info.signal_dbm)


def modem_balance(modem: str, amount: float | None) -> None:
    if amount is not None:
        metrics.MODEM_BALANCE.labels(modem=modem).set(amount)


def at_command_observer(modem: str) -> CommandObserver:
    """The AT channel's observer for `modem`: round-trip times of finished commands, and
    errors by kind. A command cancelled by its caller is neither (it did not finish)."""

    def observe(command: str, seconds: float, outcome: str) -> None:
        if outcome == "cancelled":
            return
        metrics.AT_COMMAND_SECONDS.labels(modem=modem, command=command).observe(seconds)
        if outcome != "ok":
            metrics.AT_COMMAND_ERRORS.labels(modem=modem, command=command, error=outcome).inc()

    return observe


def webhook_attempt(report: AttemptReport) -> None:
    kind = report.entry.kind.value
    metrics.WEBHOOK_ATTEMPTS.labels(kind=kind).inc()
    metrics.WEBHOOK_LATENCY.labels(kind=kind).observe(report.latency)
    if report.outcome is not Outcome.DELIVERED:
        metrics.WEBHOOK_FAILURES.labels(kind=kind, reason=failure_reason(report)).inc()


def failure_reason(report: AttemptReport) -> str:
    """A bounded label: `http_<code>`, `timeout` or `connect`."""
    if report.http_status is not None:
        return f"http_{report.http_status}"
    if (report.error and "timed out" in report.error.lower()) or "timeout" in (report.error or ""):
        return "timeout"
    return "connect"


async def refresh_queues(db: Database) -> None:
    """Outbox and outgoing queue gauges from the database (called with the heartbeat)."""
    for state, count in (await repository.outbox_counts(db)).items():
        metrics.OUTBOX_EVENTS.labels(state=state.value).set(count)
    for modem, depth in (await repository.queue_depths(db)).items():
        metrics.OUTGOING_QUEUE.labels(modem=modem or "any").set(depth)


def quarantined(modem: str) -> None:
    metrics.INBOUND_QUARANTINED.labels(modem=modem).inc()
