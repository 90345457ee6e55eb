"""Scale-out fixtures: PostgreSQL databases (shared with the store tests; skipped with the
reason when no server answers) and helpers to run several `smsgw run` nodes on one of them."""

from __future__ import annotations

from tests.store.conftest import (
    FakeClock,
    clock,
    pg_migrated_template,
    pg_migrated_url,
    pg_skip_reason,
    pg_url,
    render_status,
)

__all__ = [
    "FakeClock",
    "clock",
    "pg_migrated_template",
    "pg_migrated_url",
    "pg_skip_reason",
    "pg_url",
    "render_status",
]
