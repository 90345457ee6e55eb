"""`smsgw messages`: history read straight from a real SQLite database."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.store import open_database, repository, upgrade
from tests.api.live import receive

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config whose database holds one incoming and two outgoing messages."""
    url = f"sqlite:///{tmp_path / 'history.db'}"

    async def fill() -> None:
        await upgrade(url)
        db = open_database(url)
        try:
            await receive(db, sender="+40721000111", text="is my order late?")
            for peer, text in (("+40721000111", "no, it ships today"), ("+40722000222", "promo")):
                await repository.enqueue_outgoing(
                    db, peer=peer, text=text, parts=1, encoding="gsm7"
                )
        finally:
            await db.close()

    asyncio.run(fill())
    path = tmp_path / "smsgw.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[api]\ndefault_region = "RO"\n', encoding="utf-8")
    return path


def _messages(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["messages", "-c", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_is_newest_first_with_the_api_fields(config: Path) -> None:
    code, out, err = _messages(config, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [row["text"] for row in rows] == ["promo", "no, it ships today", "is my order late?"]
    assert [row["direction"] for row in rows] == ["out", "out", "in"]
    assert rows[0]["status"] == "queued"
    assert rows[2]["status"] is None


def test_filters_and_national_peer_numbers(config: Path) -> None:
    code, out, _ = _messages(config, "--json", "--peer", "0721 000 111", "--direction", "out")
    assert code == 0
    assert [row["text"] for row in json.loads(out)] == ["no, it ships today"]
    code, out, _ = _messages(config, "--json", "--limit", "1")
    assert [row["text"] for row in json.loads(out)] == ["promo"]


def test_table_for_people(config: Path) -> None:
    result = runner.invoke(app, ["messages", "-c", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "3 message(s), newest first" in result.stdout
    for expected in ("+40721000111", "is my order late?", "received", "queued", "promo"):
        assert expected in result.stdout


def test_the_table_fits_80_columns_and_shows_texts_as_written(config: Path) -> None:
    async def add_markup() -> None:
        db = open_database(_database_url(config))
        try:
            await repository.enqueue_outgoing(
                db, peer="+40722000333", text="[bold red]sale[/] ends [link=x]today", parts=1,
                encoding="gsm7",
            )  # fmt: skip
        finally:
            await db.close()

    asyncio.run(add_markup())
    _, out, _ = _messages(config, "--json")
    ids = [row["id"] for row in json.loads(out)]
    result = runner.invoke(app, ["messages", "-c", str(config)], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    start = next(line.index("text ·") for line in lines if "text ·" in line)
    flat = "".join(line[start:].strip() for line in lines)  # the text column, unfolded
    assert "[bold red]sale[/] ends [link=x]today".replace(" ", "") in flat.replace(" ", "")
    for message_id in ids:  # the whole id, usable with GET /api/v1/messages/{id}
        assert message_id in flat


def _database_url(config: Path) -> str:
    line = next(line for line in config.read_text().splitlines() if line.startswith("url"))
    return line.split('"')[1]


@pytest.mark.parametrize("args", [["--limit", "0"], ["--direction", "sideways"]])
def test_bad_options_are_usage_errors(config: Path, args: list[str]) -> None:
    code, _, _ = _messages(config, *args)
    assert code == 2


def test_a_database_without_tables_fails_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fresh.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "new.db"}"\n', encoding="utf-8")
    code, _, err = _messages(path)
    assert code == 1
    assert err.startswith("error: cannot read the message history")
    assert "smsgw db upgrade" in err
    assert len(err.strip().splitlines()) == 1


def _no_config(tmp_path: Path) -> Path:
    """A config with no [database] url: the default SQLite file in the state directory."""
    path = tmp_path / "plain.toml"
    path.write_text('[api]\ndefault_region = "RO"\n', encoding="utf-8")
    return path


def test_without_a_database_it_reads_a_running_demos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    demo = temp / "smsgw-demo-abc123"
    demo.mkdir(parents=True)
    url = f"sqlite:///{demo / 'smsgw.db'}"

    async def fill() -> None:
        await upgrade(url)
        db = open_database(url)
        try:
            await receive(db, sender="+40721000000", text="Hi, I need help with my order")
        finally:
            await db.close()

    asyncio.run(fill())
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    code, out, err = _messages(_no_config(tmp_path), "--json")
    assert code == 0, err
    assert [row["text"] for row in json.loads(out)] == ["Hi, I need help with my order"]
    assert "running smsgw demo" in err
    assert str(demo / "smsgw.db") in err


def test_without_any_database_it_says_where_to_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # no demo running
    code, out, err = _messages(_no_config(tmp_path))
    assert code == 1
    assert "no database at" in err
    assert "--config" in err
    assert "smsgw demo" in err
    assert "no such table" not in err + out
    assert not (tmp_path / "state" / "smsgw.db").exists()  # nothing created by looking
