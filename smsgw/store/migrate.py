"""Bring a database to the newest schema: `await upgrade(url)`.

Idempotent (at head it does nothing) and safe when several processes start at once: on
PostgreSQL the whole upgrade runs in one transaction holding a transaction-level advisory lock,
so the second node waits, then finds the schema at head; on SQLite the upgrade transaction is
`BEGIN IMMEDIATE`, which serialises writers the same way.

Alembic is imported only when a migration is actually needed. Every daemon start runs
`upgrade_database`, and almost always the database is already at `HEAD_REVISION`: that case is
one plain `SELECT` on `alembic_version`, which keeps alembic (and mako, which it pulls in) out
of the long-running process, about 10 MB of RSS on a Raspberry Pi. A test checks that
`HEAD_REVISION` equals alembic's own script head, so the constant cannot go stale when a
migration is added.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from smsgw.exceptions import StoreError
from smsgw.store.database import Database, open_database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: The newest revision in migrations/versions; bump it with every new migration file
#: (tests/store/test_migrations.py fails until it matches alembic's script head).
HEAD_REVISION = "0007"

#: alembic's default version table, where it records the revision a database is at.
VERSION_TABLE = "alembic_version"

#: pg_advisory_xact_lock key: "smsg" in ASCII, fixed so every smsgw version agrees on it.
ADVISORY_LOCK_KEY = 0x736D7367


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of smsgw, as alembic's scripts say."""
    from alembic.script import ScriptDirectory

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
        # Checked under the lock: a node that waited for another's migration sees head here.
        if await connection.run_sync(_read_revision) == HEAD_REVISION:
            return
        await connection.run_sync(_upgrade_sync)


def _upgrade_sync(connection: Connection) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    try:
        command.upgrade(_config(connection), "head")
    except CommandError as error:
        raise StoreError(f"database migration failed: {error}") from error


def _read_revision(connection: Connection) -> str | None:
    """What alembic's `MigrationContext.get_current_revision()` returns, in plain SQL.

    None for a database that was never migrated (no version table, or an empty one). Several
    rows would mean branched heads, which smsgw's linear history never creates; that is None
    too, so such a database is never mistaken for one at head and is left to alembic.
    """
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    revisions = connection.scalars(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(revisions) > 1:
        return None
    return revisions[0] if revisions else None


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with db.transaction("read schema revision") as connection:
        return await connection.run_sync(_read_revision)
