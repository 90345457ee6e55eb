"""Starting nodes: two `smsgw run` processes migrating one empty PostgreSQL at the same moment
both come up on the newest schema; a node configured with a modem name another live node
uses exits 1 at start with a message naming the modem and the other node."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from smsgw.store import head_revision, open_database
from tests.ports import free_port
from tests.scaleout.cluster import Cluster, ClusterOptions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


async def _revision(url: str) -> str | None:
    db = open_database(url)
    try:
        async with db.transaction("test: schema revision") as connection:
            value = await connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
            return None if value is None else str(value)
    finally:
        await db.close()


async def test_two_nodes_migrate_an_empty_database_at_once_and_a_modem_name_clash_stops_a_third(
    tmp_path: Path, pg_url: str
) -> None:
    options = ClusterOptions(nodes=2, modems_per_node=1)
    async with Cluster(tmp_path, pg_url, options) as cluster:
        # Both daemons started together on the empty database (Cluster starts them at once).
        assert await _revision(pg_url) == head_revision()
        logs = [node.log.read_text(errors="replace") for node in cluster.nodes]
        # The advisory lock serialised them: one ran the migrations, the other found the
        # schema at head; neither failed.
        assert sum("Running upgrade  -> " in log for log in logs) == 1, logs
        for log in logs:
            assert "Traceback" not in log, log
            assert "migration failed" not in log, log

        taken = next(iter(cluster.nodes[0].modems))
        config = tmp_path / "clash.toml"
        config.write_text(
            f'[database]\nurl = "{pg_url}"\n[api]\nlisten = "127.0.0.1:{free_port()}"\n'
            f'key = "clash-key-0123456789"\n[node]\nname = "clash"\n'
            f'[[modem]]\nname = "{taken}"\nport = "{tmp_path / "elsewhere"}"\n',
            encoding="utf-8",
        )
        clash = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smsgw", "run", "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "SMSGW_STATE_DIR": str(tmp_path / "clash-state")},
        )  # fmt: skip
        async with asyncio.timeout(60):
            output, _ = await clash.communicate()
        text = output.decode(errors="replace")
        assert clash.returncode == 1, text
        assert f"modem name '{taken}' is already used by node 'node0'" in text, text
        # The running nodes were not disturbed.
        codes = await cluster.stop_all()
        assert set(codes.values()) == {0}, codes
