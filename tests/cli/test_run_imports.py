"""What `smsgw run` keeps in memory: the daemon runs for weeks on small boards, so modules only
other commands or rare paths need must not be imported by it (issue 7: RSS <= 70 MB).

The real CLI runs in a fresh interpreter (`app(["run", ...])`, as the console script does)
against a SQLite database already at head and an emulated modem on a pty in this process; it
stops itself with SIGTERM once /health/ready answers 200, then prints its sys.modules.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from smsgw.store import upgrade
from tests.faults.rig import emulated_modems, write_config

pytestmark = pytest.mark.timeout(90)

_RUN_UNTIL_READY_THEN_LIST_MODULES = """
import json, os, signal, sys, threading, time, urllib.request
from smsgw.cli.main import app

def stop_once_ready(url):
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=stop_once_ready, args=(sys.argv[2],), daemon=True).start()
try:
    app(["run", "--config", sys.argv[1]], prog_name="smsgw")
except SystemExit as exit_request:
    assert not exit_request.code, exit_request.code
print(json.dumps(sorted(sys.modules)))
"""

#: Never needed by a SQLite daemon whose database is at head: alembic (+ mako) only migrates;
#: asyncpg, SQLAlchemy's postgresql dialect and its asyncio extension (which loads the ORM,
#: greenlet and the aiosqlite driver) serve PostgreSQL only: SQLite statements run inline on
#: sqlite3; aiomqtt and paho wait for an enabled [mqtt]; the rest belongs to
#: other subcommands (the emulator, rich's tables and progress bars) or to httpx's own
#: command-line client (rich, pygments); the web stack (FastAPI, Starlette, the API's models,
#: the inbox and its jinja2) waits for the first request that is not a health probe or a
#: public /metrics scrape.
NOT_IMPORTED = (
    "alembic",
    "mako",
    "asyncpg",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "greenlet",
    "aiosqlite",
    "aiomqtt",
    "paho",
    "rich",
    "pygments",
    "smsgw.emulator",
    "jinja2",
    "fastapi",
    "starlette",
    "smsgw.webapp",
    "smsgw.api.app",
    "smsgw.ui",
)
#: The other subcommands' modules (only `run` and what it imports itself may load).
OTHER_COMMANDS = ("db", "demo", "emulator", "messages", "modem", "pdu", "send", "webhook")


def _environment(state: Path) -> dict[str, str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SMSGW_")}
    return clean | {"SMSGW_STATE_DIR": str(state)}


async def _modules_of_smsgw_run(tmp_path: Path) -> set[str]:
    async with emulated_modems(tmp_path, ["sim0"]) as modems:
        emulator, _wire = modems["sim0"]
        config = write_config(tmp_path, webhook_url="http://127.0.0.1:9/hook",
                              modems={"sim0": emulator.link})  # fmt: skip
        await upgrade(f"sqlite:///{tmp_path / 'smsgw.db'}")  # at head, as after the first start
        listen = next(line for line in config.read_text().splitlines() if "listen" in line)
        ready_url = "http://" + listen.split('"')[1] + "/health/ready"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _RUN_UNTIL_READY_THEN_LIST_MODULES, str(config), ready_url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=_environment(tmp_path / "state"),
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    return set(json.loads(out.decode().splitlines()[-1]))


async def test_smsgw_run_leaves_migrations_drivers_and_other_commands_unimported(
    tmp_path: Path,
) -> None:
    modules = await _modules_of_smsgw_run(tmp_path)
    # It really ran: the daemon, the API server and the modem layer were loaded.
    assert {"smsgw.gateway.daemon", "uvicorn", "smsgw.modem.supervisor"} <= modules
    loaded = sorted(
        name for name in modules if any(name == top or name.startswith(top + ".")
                                        for top in NOT_IMPORTED)
    )  # fmt: skip
    assert loaded == []
    other_commands = sorted(
        name for name in modules if name.removeprefix("smsgw.cli.") in OTHER_COMMANDS
    )
    assert other_commands == []
