"""Migrations: empty → head on both engines, idempotent, concurrent-safe, matching the models."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from smsgw.exceptions import StoreError
from smsgw.store import current_revision, head_revision, open_database, repository, upgrade
from smsgw.store.migrate import HEAD_REVISION, MIGRATIONS_DIR, _config
from smsgw.store.schema import messages, metadata, webhook_outbox


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_empty_database_reaches_head_and_matches_the_models(db_url: str) -> None:
    database = open_database(db_url)
    try:
        assert await current_revision(database) is None
        await upgrade(db_url)
        assert await current_revision(database) == head_revision()
        async with database.transaction("inspect") as connection:
            assert await connection.run_sync(_tables) >= set(metadata.tables)
            assert await connection.run_sync(_schema_diff) == []
    finally:
        await database.close()


async def test_second_upgrade_is_a_no_op(db_url: str) -> None:
    await upgrade(db_url)
    database = open_database(db_url)
    try:
        await repository.heartbeat_node(database, "node-a")
        await upgrade(db_url)
        assert await current_revision(database) == head_revision()
        async with database.transaction("count") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM nodes")) == 1
    finally:
        await database.close()


def test_head_revision_constant_is_alembics_script_head() -> None:
    """The at-head shortcut compares against HEAD_REVISION: a new migration file without
    bumping it would leave every existing database unmigrated, so this must fail first."""
    assert head_revision() == HEAD_REVISION


async def test_database_at_an_older_revision_is_upgraded_to_head(db_url: str) -> None:
    """A database left at the first revision (an older smsgw) still goes through alembic."""
    database = open_database(db_url)
    try:
        async with database.transaction("migrate to 0001") as connection:
            await connection.run_sync(lambda sync: command.upgrade(_config(sync), "0001"))
        assert await current_revision(database) == "0001"
        await upgrade(db_url)
        assert await current_revision(database) == HEAD_REVISION
        async with database.transaction("inspect") as connection:
            assert await connection.run_sync(_schema_diff) == []
    finally:
        await database.close()


async def test_outbox_rows_from_before_0003_take_the_modem_of_their_message(
    db_url: str,
) -> None:
    """Events queued by an older smsgw carry their modem after the upgrade: the receiving
    modem for an incoming SMS, the sending one for a status event; NULL without a message."""
    database = open_database(db_url)
    now = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    try:
        async with database.transaction("migrate to 0002") as connection:
            await connection.run_sync(lambda sync: command.upgrade(_config(sync), "0002"))
        async with database.transaction("rows of an older smsgw") as connection:
            for pk, direction, modem in ((1, "in", "huawei"), (2, "out", "sim800")):
                await connection.execute(
                    sa.insert(messages).values(
                        pk=pk, id=f"m{pk}", direction=direction, peer="+1", modem=modem,
                        text="t", parts=1, created_at=now, updated_at=now,
                        delivery_report=False,
                    )
                )  # fmt: skip
            for pk, message_pk in ((1, 1), (2, 2), (3, None)):
                await connection.execute(
                    sa.text(
                        "INSERT INTO webhook_outbox (pk, event_id, kind, peer, message_pk, body,"
                        " attempts, next_attempt_at, state, created_at) VALUES (:pk, :event_id,"
                        " 'sms_status', '+1', :message_pk, :body, 0, :now, 'pending', :now)"
                    ),
                    {"pk": pk, "event_id": f"e{pk}", "message_pk": message_pk,
                     "body": b"{}", "now": now},
                )  # fmt: skip
        await upgrade(db_url)
        async with database.transaction("read modems") as connection:
            rows = (
                await connection.execute(
                    sa.select(webhook_outbox.c.pk, webhook_outbox.c.modem).order_by(
                        webhook_outbox.c.pk
                    )
                )
            ).all()
        assert [tuple(row) for row in rows] == [(1, "huawei"), (2, "sim800"), (3, None)]
    finally:
        await database.close()


_UPGRADE_AND_LIST_ALEMBIC = """
import asyncio, sys
from smsgw.store import upgrade
asyncio.run(upgrade(sys.argv[1]))
print(sorted(name for name in sys.modules if name.split(".")[0] in ("alembic", "mako")))
"""


@pytest.mark.timeout(60)
def test_upgrade_at_head_does_not_import_alembic(sqlite_url: str) -> None:
    """Every daemon start runs the upgrade; at head it must stay plain SQL (alembic and mako
    are ~10 MB of RSS), while a fresh database still gets alembic and its migrations."""

    def upgrade_in_a_new_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _UPGRADE_AND_LIST_ALEMBIC, sqlite_url],
            capture_output=True, text=True, check=True, timeout=50,
        )  # fmt: skip
        return done.stdout.strip()

    assert "'alembic'" in upgrade_in_a_new_process()  # fresh file: migrations ran
    assert upgrade_in_a_new_process() == "[]"  # at head: alembic never imported


@pytest.mark.timeout(60)
async def test_concurrent_upgrades_on_postgresql(pg_url: str) -> None:
    """Several nodes starting at once: all succeed, the schema is created once."""
    await asyncio.gather(*(upgrade(pg_url) for _ in range(4)))
    database = open_database(pg_url)
    try:
        assert await current_revision(database) == head_revision()
        async with database.transaction("count versions") as connection:
            assert await connection.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        await database.close()


@pytest.mark.timeout(60)
async def test_concurrent_upgrades_on_one_sqlite_file(sqlite_url: str) -> None:
    await asyncio.gather(*(upgrade(sqlite_url) for _ in range(3)))
    database = open_database(sqlite_url)
    try:
        assert await current_revision(database) == head_revision()
    finally:
        await database.close()


async def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot reach"):
        await upgrade("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")


def test_migration_files_are_shipped_as_package_data() -> None:
    """pyproject's package-data patterns must cover every file alembic needs at run time."""
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["smsgw"]
    package = root / "smsgw"
    needed = [
        path.relative_to(package).as_posix()
        for path in MIGRATIONS_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert needed, "no migration files found"
    for relative in needed:
        is_module_of_a_package = (
            relative.endswith(".py") and ((package / relative).parent / "__init__.py").exists()
        )
        assert is_module_of_a_package or any(fnmatch(relative, p) for p in patterns), relative
