"""Bring a database to the newest schema: `await upgrade(url)`.

Idempotent (at head it does nothing) and safe when several processes start at once: on
PostgreSQL the whole upgrade runs in one transaction holding a transaction-level advisory lock,
so the second node waits, then finds the schema at head; on SQLite the upgrade transaction is
`BEGIN IMMEDIATE`, which serialises writers the same way.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection

from smsgw.exceptions import StoreError
from smsgw.store.database import Database, open_database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: pg_advisory_xact_lock key: "smsg" in ASCII, fixed so every smsgw version agrees on it.
ADVISORY_LOCK_KEY = 0x736D7367


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of smsgw."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def upgrade(url: str) -> None:
    """Apply every missing migration to the database at `url` (no-op when at head)."""
    db = open_database(url)
    try:
        await upgrade_database(db)
    finally:
        await db.close()


async def upgrade_database(db: Database) -> None:
    """`upgrade` on an already open database."""
    async with db.transaction("apply database migrations") as connection:
        if db.dialect == "postgresql":
            await connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        await connection.run_sync(_upgrade_sync)


def _upgrade_sync(connection: Connection) -> None:
    try:
        command.upgrade(_config(connection), "head")
    except CommandError as error:
        raise StoreError(f"database migration failed: {error}") from error


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with db.transaction("read schema revision") as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
