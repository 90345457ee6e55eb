"""Quarantine: inbound SMS that could not be decoded, kept as read so they can leave the SIM.

Storing one is a single transaction with the `quarantined` alert of its modem (opened only if
it is not open yet), so the modem may delete the entry as soon as this returns: the PDU, the
alert and its webhook event are all durable by then. Releasing (the operator cleared an
entry) resolves the alert in the same transaction once the modem has nothing quarantined left.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from smsgw.models import ModemAlertKind
from smsgw.store.database import Database
from smsgw.store.repository._common import insert_or_ignore
from smsgw.store.repository.alerts import raise_in, resolve_in
from smsgw.store.schema import quarantine
from smsgw.store.types import AlertEventFactory, Quarantined, QuarantineItem, QuarantineRecord

__all__ = ["list_quarantine", "quarantine_pdu", "release_quarantined"]

_ALERT = ModemAlertKind.QUARANTINED.value
_IDENTITY = ["modem", "storage", "storage_index", "pdu_digest"]


def _record(row: sa.Row[tuple[object, ...]]) -> QuarantineRecord:
    return QuarantineRecord(
        id=int(row.pk),
        modem=row.modem,
        storage=row.storage,
        storage_index=row.storage_index,
        pdu_hex=row.pdu_hex,
        error=row.error,
        received_at=row.received_at,
        last_seen_at=row.last_seen_at,
        times_seen=int(row.times_seen),
    )


async def quarantine_pdu(
    db: Database, item: QuarantineItem, *, alert_detail: str, render: AlertEventFactory
) -> Quarantined:
    """Store `item` (or count it again when this very entry is already quarantined) and
    open the modem's `quarantined` alert if it is not open; all in one commit."""
    now = db.clock()
    digest = hashlib.sha256(item.pdu_hex.encode("utf-8", "replace")).hexdigest()
    values = {
        "modem": item.modem,
        "storage": item.storage,
        "storage_index": item.storage_index,
        "pdu_hex": item.pdu_hex,
        "pdu_digest": digest,
        "error": item.error,
        "received_at": now,
        "last_seen_at": now,
        "times_seen": 1,
    }
    async with db.transaction("quarantine an undecodable SMS") as connection:
        pk = await insert_or_ignore(connection, db, quarantine, values, _IDENTITY)
        is_new = pk is not None
        if pk is None:
            identity = [quarantine.c[name] == values[name] for name in _IDENTITY]
            pk = (
                await connection.execute(
                    sa.update(quarantine)
                    .where(*identity)
                    .values(last_seen_at=now, times_seen=quarantine.c.times_seen + 1)
                    .returning(quarantine.c.pk)
                )
            ).scalar_one()
        opened = await raise_in(
            connection,
            db,
            modem=item.modem,
            alert=_ALERT,
            detail=alert_detail,
            render=render,
            now=now,
        )
    return Quarantined(id=int(pk), is_new=is_new, alert_raised=opened is not None)


async def list_quarantine(
    db: Database, *, limit: int = 100, before: int | None = None, modem: str | None = None
) -> list[QuarantineRecord]:
    """Quarantined SMS, newest first; page with `before` = the last entry's id."""
    statement = sa.select(quarantine).order_by(quarantine.c.pk.desc()).limit(limit)
    if before is not None:
        statement = statement.where(quarantine.c.pk < before)
    if modem is not None:
        statement = statement.where(quarantine.c.modem == modem)
    async with db.transaction("list quarantined SMS") as connection:
        return [_record(row) for row in (await connection.execute(statement)).all()]


async def release_quarantined(
    db: Database, entry_id: int, *, render: AlertEventFactory
) -> QuarantineRecord | None:
    """Delete one quarantined SMS (the operator has dealt with it); None if there is none.

    When it was the modem's last one, the modem's `quarantined` alert is resolved in the
    same transaction."""
    now = db.clock()
    async with db.transaction("release a quarantined SMS") as connection:
        row = (
            await connection.execute(
                sa.delete(quarantine).where(quarantine.c.pk == entry_id).returning(*quarantine.c)
            )
        ).one_or_none()
        if row is None:
            return None
        released = _record(row)
        left = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(quarantine)
            .where(quarantine.c.modem == released.modem)
        )
        if not left:
            await resolve_in(
                connection,
                db,
                modem=released.modem,
                alert=_ALERT,
                detail="every quarantined SMS of this modem was cleared by the operator",
                render=render,
                now=now,
            )
        return released
