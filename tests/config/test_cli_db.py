"""`smsgw db upgrade` on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app


def upgrade(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["db", "upgrade", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def revision(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        (value,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(value)


@pytest.mark.timeout(60)
def test_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "gw.db"
    config = tmp_path / "smsgw.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    code, out, err = upgrade("--config", str(config))
    assert code == 0, err
    assert "newest schema" in out
    first = revision(database)
    assert first
    code, _, err = upgrade("--config", str(config))
    assert code == 0, err
    assert revision(database) == first


@pytest.mark.timeout(60)
def test_default_database_lands_in_the_state_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    state = tmp_path / "state" / "smsgw"
    code, _, err = upgrade("-c", str(empty), env={"SMSGW_STATE_DIR": str(state)})
    assert code == 0, err
    assert revision(state / "smsgw.db")


@pytest.mark.timeout(60)
def test_unopenable_database_is_one_line_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/missing/dir/gw.db"\n', encoding="utf-8"
    )
    code, _, err = upgrade("-c", str(config))
    assert code == 1
    assert err.startswith("error: database upgrade failed: ")
    assert len(err.strip().splitlines()) == 1


def test_bad_config_fails_before_touching_the_database(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text('[database]\nurl = "mysql://nope"\n', encoding="utf-8")
    code, _, err = upgrade("-c", str(config))
    assert code == 1
    assert err.startswith(f"error: {config}: database.url: ")
