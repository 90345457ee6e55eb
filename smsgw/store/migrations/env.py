"""Alembic environment: runs on the connection `smsgw.store.migrate` hands over.

There is no alembic.ini and no URL here on purpose: migrations always run through
`smsgw.store.migrate.upgrade(url)` (the daemon at start, `smsgw db upgrade`), which opens the
connection, takes the cross-process lock and commits.
"""

from __future__ import annotations

from alembic import context

from smsgw.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with smsgw.store.migrate.upgrade(url), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
