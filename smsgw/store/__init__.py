"""Durable state: SQLAlchemy 2 (async) over SQLite or PostgreSQL, with alembic migrations.

The only package that imports SQLAlchemy or alembic. Callers use:

- `open_database(url)` → `Database` (engine + clock; `await db.close()`),
- `migrate.upgrade(url)` (idempotent, safe to run from several processes at once),
- `repository.*` (one transaction per business operation; every failure is a `StoreError`),
- the value types in `smsgw.store.types`.
"""

from smsgw.store import repository
from smsgw.store.database import Database, normalise_url, open_database
from smsgw.store.ids import new_id
from smsgw.store.migrate import current_revision, head_revision, upgrade, upgrade_database

__all__ = [
    "Database",
    "current_revision",
    "head_revision",
    "new_id",
    "normalise_url",
    "open_database",
    "repository",
    "upgrade",
    "upgrade_database",
]
