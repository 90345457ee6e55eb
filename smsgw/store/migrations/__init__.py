"""Alembic environment and revisions, shipped inside the package (see `smsgw.store.migrate`)."""
