"""`smsgw db upgrade`: bring the database schema to the newest migration."""

from __future__ import annotations

import asyncio

import typer

from smsgw.cli.common import fail
from smsgw.cli.config import ConfigOption, load_or_exit, prepare_state_dir_or_exit
from smsgw.config import masked
from smsgw.exceptions import StoreError
from smsgw.store.migrate import upgrade as upgrade_schema

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Apply the database migrations up to the newest one (the daemon also does this at start).

    Safe to run again: an up-to-date database is left as it is. Without [database] url the
    SQLite file in the state directory is used (and the directory created, or tightened
    to mode 0700).
    """
    settings = load_or_exit(config)
    shown = masked(settings)["database"]["url"]
    prepare_state_dir_or_exit(settings)
    try:
        asyncio.run(upgrade_schema(settings.database.url))
    except StoreError as exc:
        fail(f"database upgrade failed: {exc}")
    print(f"database {shown} is at the newest schema")
