"""Polls every modem of this node, judges the alert rules and tells an `AlertSink`.

The observation is built from what is already known, without asking the modem anything:
the supervisor's state and reason, the registration the modem last reported (``+CREG``
URCs), the details the fleet re-reads every minute (signal, SIM, storage) and the last
balance. `smsgw.gateway.alert_rules` decides; the sink records. The open alerts are also
kept on each `ModemRuntime` (API, UI) and in the `smsgw_modem_alert` gauge. The daemon's
sink is `StoredAlerts`: durable `modem_alert` events (webhook, MQTT), the open state in the
database, so a restart neither repeats nor forgets an alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from smsgw import metrics
from smsgw.gateway.alert_rules import AlertChange, AlertTracker, Observation
from smsgw.gateway.alerts import ModemAlerts
from smsgw.gateway.fleet import ModemRuntime
from smsgw.models import ModemAlertKind
from smsgw.modem import ModemState

__all__ = ["AlertSink", "AlertWatch", "LogAlertSink", "StoredAlerts", "observe"]

log = logging.getLogger(__name__)

#: Seconds between two judgements (the rules' delays are much longer).
POLL_INTERVAL = 10.0


class AlertSink(Protocol):
    """Where opened and closed alerts go (the durable `modem_alert` events, or the log)."""

    async def raise_alert(self, modem: str, alert: str, detail: str) -> bool: ...

    async def resolve_alert(self, modem: str, alert: str, detail: str = "") -> bool: ...


class StoredAlerts:
    """The durable sink: `modem_alert` events through the store (`gateway.alerts`), one when
    an alert opens and one when it closes, even across restarts."""

    def __init__(self, alerts: ModemAlerts) -> None:
        self._alerts = alerts

    async def raise_alert(self, modem: str, alert: str, detail: str) -> bool:
        return await self._alerts.raise_alert(modem, ModemAlertKind(alert), detail)

    async def resolve_alert(self, modem: str, alert: str, detail: str = "") -> bool:
        return await self._alerts.resolve_alert(modem, ModemAlertKind(alert), detail)


class LogAlertSink:
    """Alerts as log lines only: used while no durable alert store is wired in."""

    async def raise_alert(self, modem: str, alert: str, detail: str) -> bool:
        log.warning("%s: alert %s raised: %s", modem, alert, detail)
        return True

    async def resolve_alert(self, modem: str, alert: str, detail: str = "") -> bool:
        log.warning("%s: alert %s resolved: %s", modem, alert, detail)
        return True


def observe(runtime: ModemRuntime) -> Observation:
    """What the gateway knows about `runtime`'s modem now (no AT command is sent)."""
    supervisor = runtime.supervisor
    online = supervisor.state is ModemState.READY and supervisor.modem is not None
    registration = supervisor.modem.last_registration if supervisor.modem is not None else None
    info = runtime.info if online else None
    storage = info.storage[0] if info is not None and info.storage else None
    balance = runtime.balance
    return Observation(
        online=online,
        reason=supervisor.reason,
        failed=supervisor.state is ModemState.FAILED,
        registered=registration.registered if registration is not None else None,
        signal_dbm=info.signal_dbm if info is not None else None,
        sim=info.sim if info is not None else None,
        storage_used=storage.used if storage is not None else None,
        storage_total=storage.total if storage is not None else None,
        balance=balance.amount if balance is not None else None,
        balance_below=runtime.settings.balance_alert_below,
    )


class AlertWatch:
    """Judges every modem each `interval` seconds; see the module docstring."""

    def __init__(
        self,
        runtimes: Callable[[], Iterable[ModemRuntime]],
        sink: AlertSink,
        *,
        tracker: AlertTracker | None = None,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self._runtimes = runtimes
        self.sink = sink
        self.tracker = tracker or AlertTracker()
        self.interval = interval

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)

    async def check(self) -> list[AlertChange]:
        """One judgement of every modem; the changes (after the sink recorded them)."""
        now = asyncio.get_running_loop().time()
        changes: list[AlertChange] = []
        for runtime in self._runtimes():
            name = runtime.settings.name
            for change in self.tracker.observe(name, observe(runtime), now):
                await self._record(change)
                changes.append(change)
            runtime.alerts = tuple(self.tracker.open_alerts(name))
        return changes

    async def _record(self, change: AlertChange) -> None:
        metrics.MODEM_ALERT.labels(modem=change.modem, alert=change.alert).set(
            1 if change.raised else 0
        )
        try:
            if change.raised:
                await self.sink.raise_alert(change.modem, change.alert, change.detail)
            elif change.sync:
                await self._sync_resolve(change)
            else:
                await self.sink.resolve_alert(change.modem, change.alert, change.detail)
        except Exception:  # a database hiccup must not stop the watch; judged again later
            log.exception("%s: could not record alert %s", change.modem, change.alert)

    async def _sync_resolve(self, change: AlertChange) -> None:
        """Close what a previous run left open; the log sink has nothing to close."""
        if isinstance(self.sink, LogAlertSink):
            return
        await self.sink.resolve_alert(change.modem, change.alert, change.detail)
