"""Gateway fixtures: the store's database fixtures (both engines) and the seed's Flask example,
registered here; the helpers the tests share are in `tests.gateway.helpers`."""

from __future__ import annotations

from tests.store_helpers import (
    clock,
    db,
    migrated_url,
    pg_migrated_template,
    pg_migrated_url,
    pg_skip_reason,
    sqlite_url,
)
from tests.webhook.seed_examples import flask_example

__all__ = [
    "clock",
    "db",
    "flask_example",
    "migrated_url",
    "pg_migrated_template",
    "pg_migrated_url",
    "pg_skip_reason",
    "sqlite_url",
]
