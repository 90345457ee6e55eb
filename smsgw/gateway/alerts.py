"""Modem alerts (CONTRACT.md §8): raise when a condition starts, resolve when it ends.

Usage, for any condition the gateway can observe::

    alerts = ModemAlerts(db, on_new_event=gateway.wake_webhook)
    await alerts.raise_alert("sim0", ModemAlertKind.NO_SIGNAL, "signal -113 dBm for 5 min")
    ...                                    # raising again while open: no second event
    await alerts.resolve_alert("sim0", ModemAlertKind.NO_SIGNAL, "signal back at -71 dBm")

Each call is one store transaction; the webhook (and any other sink of the outbox) gets
exactly one `modem_alert` event when an alert opens (`resolved: false`) and one when it
closes (`resolved: true`), both with the same occurrence in their id. Call `raise_alert` on
every poll that sees the condition and `resolve_alert` on every poll that does not: the open
state lives in the database (`modem_alerts`), not in this object, so the calls are cheap to
repeat, a restart neither repeats nor forgets an alert, and a condition that ended while the
gateway was down is resolved by the first poll after the start. `open_alerts` lists what is
open now (for the API, the UI, a health view).

Which conditions open and close which alert is up to the caller: `quarantined` opens when an
undecodable SMS is set aside (`smsgw.gateway.quarantine`) and closes when the operator has
cleared the modem's last quarantined entry (`DELETE /api/v1/quarantine/{id}`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from smsgw.gateway.render import render_alert
from smsgw.models import ModemAlertKind
from smsgw.store import Database, repository
from smsgw.store.types import OpenAlert

__all__ = ["ModemAlerts"]

log = logging.getLogger(__name__)


class ModemAlerts:
    """Raise and resolve modem alerts; see the module doc."""

    def __init__(self, db: Database, *, on_new_event: Callable[[], None]) -> None:
        self._db = db
        self._on_new_event = on_new_event

    async def raise_alert(self, modem: str, alert: ModemAlertKind, detail: str) -> bool:
        """Open `alert` for `modem` unless it is open; True when this call opened it (and
        queued its event)."""
        opened = await repository.raise_alert(
            self._db, modem=modem, alert=alert.value, detail=detail, render=render_alert
        )
        if opened is None:
            return False
        self.announce(opened, resolved=False, detail=detail)
        return True

    async def resolve_alert(self, modem: str, alert: ModemAlertKind, detail: str = "") -> bool:
        """Close `alert` for `modem` if it is open; True when this call closed it (and queued
        its event)."""
        closed = await repository.resolve_alert(
            self._db, modem=modem, alert=alert.value, detail=detail, render=render_alert
        )
        if closed is None:
            return False
        self.announce(closed, resolved=True, detail=detail)
        return True

    async def open_alerts(self, modem: str | None = None) -> list[OpenAlert]:
        """The alerts open now, oldest first."""
        return await repository.list_open_alerts(self._db, modem=modem)

    def announce(self, alert: OpenAlert, *, resolved: bool, detail: str) -> None:
        """Log an alert that was opened or closed (its event is committed) and wake the
        dispatcher; for callers that opened or closed it inside a transaction of their own."""
        log.warning(
            "%s: alert %s %s: %r",
            alert.modem,
            alert.alert,
            "resolved" if resolved else "raised",
            detail,
        )
        self._on_new_event()
