"""Daily send limits: how many messages each modem started sending per UTC day.

A message is counted when it is claimed for a modem (the claim is the point after which it may
reach the network) and uncounted only when a claim is given back before any part was sent.
"""

from __future__ import annotations

import datetime
import functools

import sqlalchemy as sa

from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.repository._common import dialect_insert
from smsgw.store.schema import daily_counters


async def daily_count(db: Database, modem: str, *, day: datetime.date | None = None) -> int:
    """Messages `modem` started sending on `day` (UTC; today by default), for the daily limit."""
    now = db.clock()
    async with db.transaction("read daily counter") as connection:
        return await _count_on(connection, modem, day if day is not None else now.date())


async def count_today(connection: Connection, modem: str, now: datetime.datetime) -> int:
    """`modem`'s counter for the UTC day of `now`, inside the caller's transaction."""
    return await _count_on(connection, modem, _utc_day(now))


def _utc_day(now: datetime.datetime) -> datetime.date:
    return now.astimezone(datetime.UTC).date()


_DAILY_COUNT = sa.select(daily_counters.c.count).where(
    daily_counters.c.modem == sa.bindparam("modem"), daily_counters.c.day == sa.bindparam("day")
)


async def _count_on(connection: Connection, modem: str, day: datetime.date) -> int:
    count = await connection.scalar(_DAILY_COUNT, {"modem": modem, "day": day})
    return int(count or 0)


@functools.cache
def _count_send_statement(dialect: str) -> sa.Insert:
    """Add one to today's counter (parameters `modem`, `day`, `count`=1), built per dialect."""
    return dialect_insert(dialect, daily_counters).on_conflict_do_update(
        index_elements=["modem", "day"], set_={"count": daily_counters.c.count + 1}
    )


async def count_send(
    connection: Connection, db: Database, modem: str, now: datetime.datetime
) -> None:
    """Add one to `modem`'s counter for today (UTC), inside the caller's transaction."""
    await connection.execute(
        _count_send_statement(db.dialect), {"modem": modem, "day": _utc_day(now), "count": 1}
    )


async def uncount_send(connection: Connection, modem: str, now: datetime.datetime) -> None:
    """Take back `count_send` for a claim released before anything was sent (never below 0)."""
    await connection.execute(
        sa.update(daily_counters)
        .where(
            daily_counters.c.modem == modem,
            daily_counters.c.day == _utc_day(now),
            daily_counters.c.count > 0,
        )
        .values(count=daily_counters.c.count - 1)
    )
