"""Events owed to the MQTT broker: claimed in creation order, deleted once acknowledged.

The MQTT sink publishes over one connection, so unlike the webhook there is no per-peer
concurrency to manage: a batch of the oldest pending events is claimed (a lease, so several
nodes on one PostgreSQL never publish the same event twice at once), published, and the
acknowledged ones deleted in one transaction. An event that could not be published keeps its
row (attempts + 1, the error) and is claimable again at once: a broker outage is a link state,
not a property of the event, so there is no per-event backoff; the link's reconnect backoff
paces the retries.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Sequence

import sqlalchemy as sa

from smsgw.models import Direction, WebhookEventKind
from smsgw.store.database import Database
from smsgw.store.schema import messages, mqtt_outbox, webhook_outbox

DEFAULT_MQTT_LEASE = datetime.timedelta(minutes=2)


@dataclasses.dataclass(frozen=True, slots=True)
class MqttPending:
    """One event to publish: the same frozen body the webhook gets."""

    pk: int
    event_id: str
    kind: WebhookEventKind
    modem: str | None
    body: bytes
    created_at: datetime.datetime


@functools.cache
def _claimable(dialect: str) -> sa.Select[tuple[int]]:
    statement = (
        sa.select(mqtt_outbox.c.event_pk)
        .where(
            sa.or_(
                mqtt_outbox.c.claim_until.is_(None),
                mqtt_outbox.c.claim_until < sa.bindparam("now"),
            )
        )
        .order_by(mqtt_outbox.c.event_pk)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return statement


_CLAIM = (
    sa.update(mqtt_outbox)
    .where(mqtt_outbox.c.event_pk.in_(sa.bindparam("pks", expanding=True)))
    .values(claimed_by=sa.bindparam("node"), claim_until=sa.bindparam("lease_until"))
)
_BODIES = (
    sa.select(
        webhook_outbox.c.pk,
        webhook_outbox.c.event_id,
        webhook_outbox.c.kind,
        webhook_outbox.c.modem,
        webhook_outbox.c.body,
        webhook_outbox.c.created_at,
    )
    .where(webhook_outbox.c.pk.in_(sa.bindparam("pks", expanding=True)))
    .order_by(webhook_outbox.c.pk)
)
_PUBLISHED = sa.delete(mqtt_outbox).where(
    mqtt_outbox.c.event_pk.in_(sa.bindparam("pks", expanding=True))
)
_FAILED = (
    sa.update(mqtt_outbox)
    .where(mqtt_outbox.c.event_pk.in_(sa.bindparam("pks", expanding=True)))
    .values(
        attempts=mqtt_outbox.c.attempts + 1,
        last_error=sa.bindparam("error"),
        claimed_by=None,
        claim_until=None,
    )
)


async def claim_mqtt_events(
    db: Database,
    *,
    node: str,
    limit: int = 64,
    lease: datetime.timedelta = DEFAULT_MQTT_LEASE,
) -> list[MqttPending]:
    """Claim up to `limit` of the oldest events owed to MQTT (none another node holds)."""
    now = db.clock()
    async with db.transaction("claim mqtt events") as connection:
        pks = list(
            (
                await connection.execute(_claimable(db.dialect), {"now": now, "limit": limit})
            ).scalars()
        )
        if not pks:
            return []
        await connection.execute(_CLAIM, {"pks": pks, "node": node, "lease_until": now + lease})
        rows = (await connection.execute(_BODIES, {"pks": pks})).all()
        orphans = set(pks) - {int(row.pk) for row in rows}
        if orphans:
            # The event itself is gone (pruned, or deleted where SQLite did not cascade):
            # nothing left to publish, and left in place it would be claimed first forever.
            await connection.execute(_PUBLISHED, {"pks": sorted(orphans)})
    return [
        MqttPending(
            pk=int(row.pk),
            event_id=row.event_id,
            kind=WebhookEventKind(row.kind),
            modem=row.modem,
            body=bytes(row.body),
            created_at=row.created_at,
        )
        for row in rows
    ]


async def mark_mqtt_published(db: Database, pks: Sequence[int]) -> None:
    """The broker acknowledged these events: nothing more is owed for them."""
    if pks:
        async with db.transaction("mark mqtt events published") as connection:
            await connection.execute(_PUBLISHED, {"pks": list(pks)})


async def mark_mqtt_failed(db: Database, pks: Sequence[int], error: str) -> None:
    """Publishing failed: the events stay owed and claimable again (count the attempt)."""
    if pks:
        async with db.transaction("mark mqtt events failed") as connection:
            await connection.execute(_FAILED, {"pks": list(pks), "error": error[:500]})


async def release_mqtt_claims(db: Database, *, node: str) -> int:
    """At start-up: events `node` had claimed when it died are claimable again at once."""
    async with db.transaction("release mqtt claims") as connection:
        result = await connection.execute(
            sa.update(mqtt_outbox)
            .where(mqtt_outbox.c.claimed_by == node)
            .values(claimed_by=None, claim_until=None)
        )
        return int(result.rowcount or 0)


async def mqtt_pending_count(db: Database) -> int:
    """How many events the broker has not acknowledged yet (metrics, health)."""
    async with db.transaction("count mqtt events") as connection:
        return int(
            await connection.scalar(sa.select(sa.func.count()).select_from(mqtt_outbox)) or 0
        )


async def received_today(db: Database, modem: str) -> int:
    """Messages `modem` received since midnight UTC (the MQTT state's `received_today`)."""
    now = db.clock().astimezone(datetime.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with db.transaction("count received today") as connection:
        found = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(messages)
            .where(
                messages.c.modem == modem,
                messages.c.direction == Direction.IN.value,
                messages.c.received_at >= midnight,
            )
        )
    return int(found or 0)
