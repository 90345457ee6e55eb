"""The opt-out list: numbers that asked for no more messages.

One row per number, in the shared database, so every node refuses the same numbers. Adding
a number already listed (a second STOP) keeps the first row: its time is when the person
opted out, which is what an operator needs to see.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import sqlalchemy as sa

from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.repository._common import dialect_insert
from smsgw.store.schema import optouts

__all__ = ["OptOut", "add_optout", "get_optout", "is_opted_out_in", "list_optouts", "remove_optout"]

MAX_OPTOUT_PAGE = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class OptOut:
    number: str
    source: str  # sms | api | ui
    modem: str | None
    created_at: datetime.datetime


def _record(row: sa.Row[Any]) -> OptOut:
    return OptOut(
        number=str(row.number), source=str(row.source), modem=row.modem, created_at=row.created_at
    )


async def add_optout(
    db: Database, number: str, *, source: str, modem: str | None = None
) -> tuple[OptOut, bool]:
    """List `number`; the entry and whether it is new (False: it was listed already)."""
    now = db.clock()
    async with db.transaction("add opt-out") as connection:
        values: dict[str, object] = {
            "number": number,
            "source": source,
            "modem": modem,
            "created_at": now,
        }
        created = await _insert(connection, db, values)
        row = (await connection.execute(sa.select(optouts).where(optouts.c.number == number))).one()
    return _record(row), created


async def _insert(connection: Connection, db: Database, values: dict[str, object]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: two nodes handling two STOPs at once both succeed."""
    statement = (
        dialect_insert(db.dialect, optouts)
        .on_conflict_do_nothing(index_elements=["number"])
        .returning(optouts.c.number)
    )
    return (await connection.execute(statement, values)).scalar_one_or_none() is not None


async def remove_optout(db: Database, number: str) -> bool:
    """Take `number` off the list; False when it was not on it."""
    async with db.transaction("remove opt-out") as connection:
        result = await connection.execute(sa.delete(optouts).where(optouts.c.number == number))
    return bool(result.rowcount)


async def get_optout(db: Database, number: str) -> OptOut | None:
    async with db.transaction("read opt-out") as connection:
        row = (
            await connection.execute(sa.select(optouts).where(optouts.c.number == number))
        ).one_or_none()
    return None if row is None else _record(row)


async def is_opted_out_in(connection: Connection, number: str) -> bool:
    """Inside an open transaction (the auto-reply path checks within its own)."""
    found = await connection.scalar(sa.select(optouts.c.number).where(optouts.c.number == number))
    return found is not None


async def list_optouts(db: Database, *, limit: int = 100, offset: int = 0) -> list[OptOut]:
    """Newest first."""
    limit = max(1, min(limit, MAX_OPTOUT_PAGE))
    async with db.transaction("list opt-outs") as connection:
        rows = (
            await connection.execute(
                sa.select(optouts)
                .order_by(optouts.c.created_at.desc(), optouts.c.number)
                .limit(limit)
                .offset(max(0, offset))
            )
        ).all()
    return [_record(row) for row in rows]
