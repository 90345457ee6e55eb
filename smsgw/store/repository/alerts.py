"""Modem alerts: open once, close once, with their webhook events in the same transaction.

An open alert is a row of `modem_alerts` keyed by (modem, alert). Raising inserts it unless it
is there already, and only a new row queues the `modem_alert` event (`resolved: false`), so a
condition seen on every poll is announced once, also after a restart or from another node.
Resolving deletes the row and queues the `resolved: true` event; resolving an alert that is
not open does nothing. Both events of one occurrence carry the row's `id`.

`raise_in` / `resolve_in` work inside a caller's transaction (quarantine opens its alert in
the transaction that stores the PDU); `raise_alert` / `resolve_alert` are their own.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from smsgw.models import WebhookEventKind
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.ids import new_id
from smsgw.store.repository._common import add_outbox_event, dialect_insert
from smsgw.store.schema import modem_alerts
from smsgw.store.types import AlertEventFactory, OpenAlert

__all__ = [
    "alert_peer",
    "list_open_alerts",
    "raise_alert",
    "raise_in",
    "resolve_alert",
    "resolve_in",
]

_PEER_LENGTH = 32


def alert_peer(modem: str) -> str:
    """The outbox `peer` of a modem's alerts: the outbox posts one peer's events in order,
    so a `resolved` event never overtakes the `raised` one of the same modem."""
    return f"alert:{modem}"[:_PEER_LENGTH]


def _open_alert(row: sa.Row[tuple[str, str, str, str, datetime.datetime]]) -> OpenAlert:
    return OpenAlert(
        modem=row.modem, alert=row.alert, id=row.id, detail=row.detail, raised_at=row.raised_at
    )


async def raise_in(
    connection: Connection,
    db: Database,
    *,
    modem: str,
    alert: str,
    detail: str,
    render: AlertEventFactory,
    now: datetime.datetime,
) -> OpenAlert | None:
    """Open `alert` of `modem` and queue its event; None when it is open already."""
    opened = OpenAlert(modem=modem, alert=alert, id=new_id(now), detail=detail, raised_at=now)
    statement = (
        dialect_insert(db.dialect, modem_alerts)
        .on_conflict_do_nothing(index_elements=["modem", "alert"])
        .returning(modem_alerts.c.id)
    )
    values = {"modem": modem, "alert": alert, "id": opened.id, "detail": detail, "raised_at": now}
    if (await connection.execute(statement, values)).scalar_one_or_none() is None:
        return None
    await _queue(connection, db, opened, resolved=False, detail=detail, render=render, now=now)
    return opened


async def resolve_in(
    connection: Connection,
    db: Database,
    *,
    modem: str,
    alert: str,
    detail: str,
    render: AlertEventFactory,
    now: datetime.datetime,
) -> OpenAlert | None:
    """Close `alert` of `modem` and queue its `resolved` event; None when it was not open."""
    row = (
        await connection.execute(
            sa.delete(modem_alerts)
            .where(modem_alerts.c.modem == modem, modem_alerts.c.alert == alert)
            .returning(*modem_alerts.c)
        )
    ).one_or_none()
    if row is None:
        return None
    closed = _open_alert(row)
    await _queue(connection, db, closed, resolved=True, detail=detail, render=render, now=now)
    return closed


async def _queue(
    connection: Connection,
    db: Database,
    alert: OpenAlert,
    *,
    resolved: bool,
    detail: str,
    render: AlertEventFactory,
    now: datetime.datetime,
) -> None:
    await add_outbox_event(
        connection,
        db,
        render(alert, resolved, now, detail),
        kind=WebhookEventKind.MODEM_ALERT,
        peer=alert_peer(alert.modem),
        modem=alert.modem,
        message_pk=None,
        now=now,
        ignore_duplicate=True,
    )


async def raise_alert(
    db: Database, *, modem: str, alert: str, detail: str, render: AlertEventFactory
) -> OpenAlert | None:
    """`raise_in` in a transaction of its own."""
    now = db.clock()
    async with db.transaction("raise modem alert") as connection:
        return await raise_in(
            connection, db, modem=modem, alert=alert, detail=detail, render=render, now=now
        )


async def resolve_alert(
    db: Database, *, modem: str, alert: str, detail: str, render: AlertEventFactory
) -> OpenAlert | None:
    """`resolve_in` in a transaction of its own."""
    now = db.clock()
    async with db.transaction("resolve modem alert") as connection:
        return await resolve_in(
            connection, db, modem=modem, alert=alert, detail=detail, render=render, now=now
        )


async def list_open_alerts(db: Database, *, modem: str | None = None) -> list[OpenAlert]:
    """The alerts open now (of one modem, or all), oldest first."""
    statement = sa.select(modem_alerts).order_by(modem_alerts.c.raised_at, modem_alerts.c.modem)
    if modem is not None:
        statement = statement.where(modem_alerts.c.modem == modem)
    async with db.transaction("list open modem alerts") as connection:
        return [_open_alert(row) for row in (await connection.execute(statement)).all()]
