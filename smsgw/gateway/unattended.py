"""What a gateway on a prepaid SIM needs to run unattended: USSD sessions, balance checks,
incoming calls turned into durable events, and radio recovery reported.

`Unattended` is built by the daemon next to the fleet. It owns the USSD sessions (the API,
the CLI and the inbox go through `sessions`), runs one balance monitor per modem with a
`balance_ussd`, judges the modem alerts (`alert_watch`), and takes the modem events of
these features (`on_event` returns False for the events it does not handle, which the
daemon then handles itself).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from smsgw.gateway import telemetry
from smsgw.gateway.alert_watch import AlertSink, AlertWatch, LogAlertSink, StoredAlerts
from smsgw.gateway.alerts import ModemAlerts
from smsgw.gateway.balance import BalanceMonitor
from smsgw.gateway.fleet import Fleet, ModemRuntime
from smsgw.gateway.ussd import UssdSessions
from smsgw.models import ModemBalance, WebhookEventKind
from smsgw.modem import (
    IncomingCall,
    ModemEvent,
    ModemSupervisor,
    RadioRestarted,
    RecoveryExhausted,
)
from smsgw.store import Database, new_id, repository
from smsgw.store.types import NewEvent
from smsgw.webhook import incoming_call_body

__all__ = ["WITHHELD_PEER", "Unattended"]

log = logging.getLogger(__name__)

#: The outbox's peer for a call from a withheld number (events are ordered per peer).
WITHHELD_PEER = "withheld"

Clock = Callable[[], datetime.datetime]
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class Unattended:
    """See the module docstring."""

    def __init__(
        self,
        db: Database,
        fleet: Fleet,
        *,
        clock: Clock,
        spawn: Spawn,
        on_new_event: Callable[[], None],
        alerts: ModemAlerts | None = None,
    ) -> None:
        self._db = db
        self._fleet = fleet
        self._clock = clock
        self._spawn = spawn
        self._on_new_event = on_new_event
        self.sessions = UssdSessions(self._supervisor_of)
        sink: AlertSink = StoredAlerts(alerts) if alerts is not None else LogAlertSink()
        self.alerts = AlertWatch(lambda: self._fleet, sink)

    def use_alert_sink(self, sink: AlertSink) -> None:
        """Record alerts durably (the `modem_alert` events) instead of only logging them."""
        self.alerts.sink = sink

    def start(self) -> None:
        """Start the alert watch (the balance monitors start with their modems)."""
        self._spawn(self.alerts.run(), "modem alerts")

    def _supervisor_of(self, name: str) -> ModemSupervisor | None:
        try:
            return self._fleet.get(name).supervisor
        except KeyError:
            return None

    def watch(self, runtime: ModemRuntime) -> None:
        """Start what this modem's configuration asks for (its balance checks)."""
        section = runtime.settings
        if not section.balance_ussd:
            return
        monitor = BalanceMonitor(
            section,
            self.sessions,
            clock=self._clock,
            on_balance=self._balance_read,
            wait_ready=runtime.supervisor.wait_ready,
        )
        runtime.balance_monitor = monitor
        self._spawn(monitor.run(), f"balance {section.name}")

    async def check_balance(self, name: str) -> ModemBalance | None:
        """Check `name`'s balance now (the UI's "check now"); None when it cannot be asked."""
        monitor = self._fleet.get(name).balance_monitor
        return None if monitor is None else await monitor.check()

    async def _balance_read(self, name: str, balance: ModemBalance) -> None:
        runtime = self._fleet.get(name)
        runtime.balance = balance
        telemetry.modem_balance(name, balance.amount)
        self._fleet.on_change()  # the MQTT state carries the balance: publish it now
        threshold = runtime.settings.balance_alert_below
        if threshold > 0 and balance.amount is not None and balance.amount < threshold:
            log.warning("%s: balance %.2f is below %.2f", name, balance.amount, threshold)

    async def on_event(self, runtime: ModemRuntime, event: ModemEvent) -> bool:
        """Handle the events of these features; False for any other event."""
        name = runtime.settings.name
        if isinstance(event, IncomingCall):
            await self._call_ended(name, event)
        elif isinstance(event, RadioRestarted):
            log.warning("%s: radio restarted (%s), %d time(s) in the last hour", name,
                        event.reason, event.attempt)  # fmt: skip
        elif isinstance(event, RecoveryExhausted):
            log.error("%s: %s", name, event.reason)
        else:
            return False
        return True

    async def _call_ended(self, name: str, call: IncomingCall) -> None:
        """One durable `incoming_call` event per call, through the outbox like SMS events."""
        event_id = new_id(call.started_at)
        body = incoming_call_body(
            event_id=event_id, caller=call.caller, modem=name, at=call.started_at, rings=call.rings
        )
        await repository.enqueue_event(
            self._db,
            NewEvent(event_id=event_id, body=body),
            kind=WebhookEventKind.INCOMING_CALL,
            peer=call.caller or WITHHELD_PEER,
            modem=name,
        )
        self._on_new_event()

    async def stop(self) -> None:
        await self.sessions.stop()
