"""Scale-out fixtures: PostgreSQL databases (shared with the store tests; skipped with the
reason when no server answers), registered here; node settings are in `tests.scaleout.nodes`."""

from __future__ import annotations

from tests.store_helpers import (
    clock,
    pg_migrated_template,
    pg_migrated_url,
    pg_skip_reason,
    pg_url,
)

__all__ = [
    "clock",
    "pg_migrated_template",
    "pg_migrated_url",
    "pg_skip_reason",
    "pg_url",
]
