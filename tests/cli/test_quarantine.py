"""`smsgw quarantine list|clear` through a running API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.gateway.render import render_alert
from smsgw.store import Database, repository
from smsgw.store.types import QuarantineItem
from tests.api.live import LiveApi

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()
#: A "PDU" with an ANSI escape and a line break: hostile bytes that reached the store.
HOSTILE = "0011\x1b[31mRED\nFAKE"


async def keep(db: Database, index: int, pdu_hex: str) -> int:
    item = QuarantineItem(
        modem="sim800", storage="SM", storage_index=index, pdu_hex=pdu_hex, error="TP-MTI 3"
    )
    stored = await repository.quarantine_pdu(db, item, alert_detail="aside", render=render_alert)
    return stored.id


def test_list_json_then_clear(api: LiveApi, empty_config: Path) -> None:
    ids = [api.run(keep(api.services.db, index, f"00AA{index:02X}")) for index in range(3)]
    common = ["--api", api.base_url, "--key", api.key, "-c", str(empty_config)]

    listed = runner.invoke(app, ["quarantine", "list", "--json", "--limit", "2", *common])
    assert listed.exit_code == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [entry["id"] for entry in entries] == ids[::-1][:2]
    assert entries[0]["pdu_hex"] == "00AA02"

    cleared = runner.invoke(app, ["quarantine", "clear", str(ids[0]), *common])
    assert cleared.exit_code == 0, cleared.stderr
    assert f"cleared {ids[0]}" in cleared.stdout
    again = runner.invoke(app, ["quarantine", "clear", str(ids[0]), *common])
    assert again.exit_code == 1
    assert "404" in again.stderr

    remaining = runner.invoke(app, ["quarantine", "list", "--json", *common])
    assert [entry["id"] for entry in json.loads(remaining.stdout)] == ids[:0:-1]
    for entry_id in ids[1:]:
        assert runner.invoke(app, ["quarantine", "clear", str(entry_id), *common]).exit_code == 0


def test_the_table_shows_hostile_bytes_escaped(api: LiveApi, empty_config: Path) -> None:
    api.run(keep(api.services.db, 9, HOSTILE))
    common = ["--api", api.base_url, "--key", api.key, "-c", str(empty_config)]
    shown = runner.invoke(app, ["quarantine", "list", *common], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    assert "\\x1b[31mRED\\nFAKE" in shown.stdout


def test_no_daemon_is_one_clear_line(empty_config: Path) -> None:
    result = runner.invoke(
        app,
        ["quarantine", "list", "--api", "http://127.0.0.1:9", "--key", "k" * 20,
         "-c", str(empty_config)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach the smsgw API" in result.stderr
