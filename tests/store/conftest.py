"""Store fixtures: a migrated database per test on SQLite and PostgreSQL (defined in
`tests.store_helpers`, registered here)."""

from __future__ import annotations

from tests.store_helpers import (
    clock,
    db,
    db_url,
    migrated_url,
    pg_migrated_template,
    pg_migrated_url,
    pg_skip_reason,
    pg_url,
    sqlite_url,
)

__all__ = [
    "clock",
    "db",
    "db_url",
    "migrated_url",
    "pg_migrated_template",
    "pg_migrated_url",
    "pg_skip_reason",
    "pg_url",
    "sqlite_url",
]
