"""Node and modem heartbeats: every node shows every node's modems, and a dead one is seen."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import sqlalchemy as sa

from smsgw.exceptions import StoreError
from smsgw.store.database import Database
from smsgw.store.repository._common import dialect_insert, for_update
from smsgw.store.schema import modems, nodes
from smsgw.store.types import ModemHeartbeat

DEFAULT_STALE_AFTER = datetime.timedelta(minutes=2)


async def heartbeat_node(db: Database, node: str) -> None:
    """Record that `node` is alive (first call also sets `started_at`)."""
    now = db.clock()
    async with db.transaction("node heartbeat") as connection:
        await connection.execute(
            dialect_insert(db.dialect, nodes)
            .values(name=node, started_at=now, last_seen=now)
            .on_conflict_do_update(index_elements=["name"], set_={"last_seen": now})
        )


async def heartbeat_modem(
    db: Database,
    *,
    modem: str,
    node: str,
    state: str,
    info: Mapping[str, object],
    stale_after: datetime.timedelta = DEFAULT_STALE_AFTER,
) -> None:
    """Record `modem`'s state as seen by `node`.

    Modem names are unique across nodes: if another node reported this name less than
    `stale_after` ago, this raises StoreError (two hosts configured with one name would
    otherwise steal each other's auto-replies).
    """
    now = db.clock()
    async with db.transaction("modem heartbeat") as connection:
        current = (
            await connection.execute(
                for_update(sa.select(modems).where(modems.c.name == modem), db)
            )
        ).one_or_none()
        values = {"node": node, "state": state, "info": dict(info), "last_seen": now}
        if current is None:
            await connection.execute(sa.insert(modems).values(name=modem, **values))
            return
        if current.node != node and current.last_seen > now - stale_after:
            raise StoreError(
                f"modem name {modem!r} is already used by node {current.node!r} "
                f"(last seen {current.last_seen.isoformat()}); modem names must be unique"
            )
        await connection.execute(sa.update(modems).where(modems.c.name == modem).values(**values))


async def list_modem_heartbeats(db: Database) -> list[ModemHeartbeat]:
    """Every modem any node reported, by name."""
    async with db.transaction("list modems") as connection:
        rows = (await connection.execute(sa.select(modems).order_by(modems.c.name))).all()
    return [
        ModemHeartbeat(
            name=row.name,
            node=row.node,
            state=row.state,
            info=dict(row.info),
            last_seen=row.last_seen,
        )
        for row in rows
    ]
