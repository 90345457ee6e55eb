"""Modem alerts and the quarantine in the store: an alert is announced once when it opens
and once when it closes, across restarts; a quarantined entry read twice is one row."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from smsgw.gateway.alerts import ModemAlerts
from smsgw.gateway.render import render_alert
from smsgw.models import ModemAlertKind, WebhookEventKind
from smsgw.store import Database, repository
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import QuarantineItem
from tests.store_helpers import FakeClock

pytestmark = pytest.mark.timeout(60)


async def alert_events(db: Database) -> list[dict[str, object]]:
    """Every modem_alert event in the outbox, oldest first."""
    async with db.transaction("read alert events") as connection:
        rows = await connection.execute(
            sa.select(webhook_outbox.c.body, webhook_outbox.c.peer)
            .where(webhook_outbox.c.kind == WebhookEventKind.MODEM_ALERT.value)
            .order_by(webhook_outbox.c.pk)
        )
        return [json.loads(bytes(row.body)) | {"peer": row.peer} for row in rows]


async def test_an_alert_is_announced_once_when_raised_and_once_when_resolved(
    db: Database, clock: FakeClock
) -> None:
    wakes: list[int] = []
    alerts = ModemAlerts(db, on_new_event=lambda: wakes.append(1))
    assert await alerts.raise_alert("sim0", ModemAlertKind.NO_SIGNAL, "signal -113 dBm")
    clock.advance(seconds=30)
    assert not await alerts.raise_alert("sim0", ModemAlertKind.NO_SIGNAL, "still -113 dBm")
    # A new object over the same database (a restart) knows the alert is open.
    restarted = ModemAlerts(db, on_new_event=lambda: wakes.append(1))
    assert not await restarted.raise_alert("sim0", ModemAlertKind.NO_SIGNAL, "after restart")
    [open_alert] = await restarted.open_alerts()
    assert (open_alert.modem, open_alert.alert, open_alert.detail) == (
        "sim0",
        "no_signal",
        "signal -113 dBm",
    )
    assert not await restarted.resolve_alert("sim0", ModemAlertKind.OFFLINE)  # never raised
    clock.advance(seconds=30)
    assert await restarted.resolve_alert("sim0", ModemAlertKind.NO_SIGNAL, "back at -71 dBm")
    assert not await restarted.resolve_alert("sim0", ModemAlertKind.NO_SIGNAL, "again")
    assert await restarted.open_alerts() == []
    assert len(wakes) == 2

    raised, resolved = await alert_events(db)
    assert raised == {
        "type": "modem_alert",
        "id": f"{open_alert.id}.raised",
        "modem": "sim0",
        "alert": "no_signal",
        "detail": "signal -113 dBm",
        "resolved": False,
        "timestamp": raised["timestamp"],
        "peer": "alert:sim0",  # one queue per modem: the end never overtakes the start
    }
    assert resolved["id"] == f"{open_alert.id}.resolved"
    assert (resolved["resolved"], resolved["detail"]) == (True, "back at -71 dBm")
    assert resolved["timestamp"] == raised["timestamp"] + 60_000  # type: ignore[operator]

    # The next occurrence is a new alert with a new id.
    assert await restarted.raise_alert("sim0", ModemAlertKind.NO_SIGNAL, "lost again")
    [again] = await restarted.open_alerts("sim0")
    assert again.id != open_alert.id


async def test_alerts_of_different_modems_and_kinds_are_independent(db: Database) -> None:
    alerts = ModemAlerts(db, on_new_event=lambda: None)
    assert await alerts.raise_alert("sim0", ModemAlertKind.OFFLINE, "unplugged")
    assert await alerts.raise_alert("sim1", ModemAlertKind.OFFLINE, "unplugged")
    assert await alerts.raise_alert("sim0", ModemAlertKind.STORAGE_FULL, "50/50")
    assert len(await alerts.open_alerts()) == 3
    assert len(await alerts.open_alerts("sim0")) == 2


async def test_an_entry_quarantined_twice_is_one_row_seen_twice(
    db: Database, clock: FakeClock
) -> None:
    item = QuarantineItem(
        modem="sim0", storage="SM", storage_index=3, pdu_hex="00FF", error="reserved"
    )
    first = await repository.quarantine_pdu(db, item, alert_detail="d", render=render_alert)
    clock.advance(minutes=5)
    second = await repository.quarantine_pdu(db, item, alert_detail="d", render=render_alert)
    assert (first.is_new, first.alert_raised) == (True, True)
    assert (second.is_new, second.alert_raised, second.id) == (False, False, first.id)
    [row] = await repository.list_quarantine(db)
    assert row.times_seen == 2
    assert row.last_seen_at > row.received_at
    # Routed PDUs (no storage) are never the same entry twice.
    routed = QuarantineItem(
        modem="sim0", storage=None, storage_index=None, pdu_hex="00FF", error="x"
    )
    await repository.quarantine_pdu(db, routed, alert_detail="d", render=render_alert)
    await repository.quarantine_pdu(db, routed, alert_detail="d", render=render_alert)
    assert len(await repository.list_quarantine(db)) == 3
    assert len(await alert_events(db)) == 1
