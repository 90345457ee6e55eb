"""The state directory is the service's for its owner, and it, the database and the key stay
private (0700 / 0600) even when an earlier run or a person left them looser."""

from __future__ import annotations

import asyncio
import os
import pwd
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.config import API_KEY_FILENAME, ensure_api_key, load_settings, state_dir
from smsgw.config import state as state_module
from smsgw.exceptions import ConfigError
from smsgw.store import open_database


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_of_database_files(path: Path) -> dict[str, int]:
    """The mode of the database file and of each of its -wal/-shm/-journal siblings."""
    return {file.name: mode_of(file) for file in (path, *path.parent.glob(path.name + "-*"))}


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask of a shell or a `sudo` session, where systemd's `UMask=0077` does not apply."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def service_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """A stand-in for /var/lib/smsgw owned by a (pretend) non-root service user."""
    directory = tmp_path / "var-lib-smsgw"
    directory.mkdir(mode=0o700)
    owner = directory.stat().st_uid
    if owner == 0:  # as root: hand it to an ordinary uid, as systemd does for User=smsgw
        owner = 4242
        os.chown(directory, owner, -1)
    monkeypatch.setattr(state_module, "SYSTEM_STATE_DIR", directory)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.delenv("SMSGW_STATE_DIR", raising=False)
    return directory, owner


def test_the_owner_of_the_system_state_dir_uses_it(
    service_dir: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, owner = service_dir
    monkeypatch.setattr(os, "geteuid", lambda: owner)
    assert state_dir({"HOME": "/var/lib/smsgw"}) == directory
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    assert state_dir({"HOME": "/home/pi"}) == Path("/home/pi/.local/state/smsgw")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert state_dir({"HOME": "/root"}) == directory
    # systemd's own variable still wins, for the service itself.
    assert state_dir({"STATE_DIRECTORY": "/run/elsewhere"}) == Path("/run/elsewhere")


def test_config_check_as_the_service_user_shows_the_service_state_dir(
    service_dir: tuple[Path, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`sudo -u smsgw smsgw config check`: HOME is the service's home, no $STATE_DIRECTORY."""
    directory, owner = service_dir
    monkeypatch.setattr(os, "geteuid", lambda: owner)
    config = tmp_path / "smsgw.toml"
    config.write_text('[[modem]]\nname = "m"\nport = "/dev/null"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["config", "check", "-c", str(config)], env={"HOME": "/var/lib/smsgw"}
    )
    assert result.exit_code == 0, result.stderr
    assert f"# state directory: {directory}\n" in result.stdout
    assert f'url = "sqlite:///{directory / "smsgw.db"}"' in result.stdout


def test_db_upgrade_tightens_a_state_dir_and_database_made_earlier(
    tmp_path: Path, loose_umask: None
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    database = state / "smsgw.db"
    sqlite3.connect(database).close()  # an earlier run's file: 0644 under umask 022
    database.chmod(0o644)
    assert (mode_of(state), mode_of(database)) == (0o755, 0o644)
    config = tmp_path / "smsgw.toml"
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["db", "upgrade", "-c", str(config)], env={"SMSGW_STATE_DIR": str(state)}
    )
    assert result.exit_code == 0, result.stderr
    assert mode_of(state) == 0o700
    assert mode_of(database) == 0o600
    for sibling in state.glob("smsgw.db-*"):
        assert mode_of(sibling) == 0o600, sibling


def test_a_new_database_is_private_from_the_start(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "fresh.db"

    async def write_something() -> None:
        db = open_database(f"sqlite:///{path}")
        try:
            async with db.transaction("create a table") as connection:
                await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
                await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            modes = modes_of_database_files(path)
            assert set(modes) >= {"fresh.db", "fresh.db-wal"}  # checked while the WAL is open
            assert modes == dict.fromkeys(modes, 0o600)
        finally:
            await db.close()

    asyncio.run(write_something())
    assert mode_of(path) == 0o600


def test_a_loose_wal_file_left_behind_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x INTEGER)")
    connection.commit()
    wal = tmp_path / "old.db-wal"
    assert wal.exists()
    for file in (path, wal):
        file.chmod(0o644)
    open_database(f"sqlite:///{path}")
    connection.close()
    assert (mode_of(path), mode_of(wal) if wal.exists() else 0o600) == (0o600, 0o600)


def test_generating_the_key_tightens_a_loose_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    _, key_file = ensure_api_key(load_settings(empty, env={}), state)
    assert key_file == state / API_KEY_FILENAME
    assert (mode_of(state), mode_of(state / API_KEY_FILENAME)) == (0o700, 0o600)


def test_a_short_stored_key_is_refused_like_a_configured_one(tmp_path: Path) -> None:
    (tmp_path / API_KEY_FILENAME).write_text("letmein\n", encoding="ascii")
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ensure_api_key(load_settings(empty, env={}), tmp_path)
    assert caught.value.key == "api.key"
    assert "is 7 characters long; use at least 16" in str(caught.value)
    assert "delete the file" in str(caught.value)
    assert "letmein" not in str(caught.value)


def test_the_service_user_uses_its_home_as_state_dir_before_systemd_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`useradd --home-dir /var/lib/smsgw --no-create-home`: before the first start the
    directory does not exist yet, and the service user must still not get a private one."""
    missing = tmp_path / "var-lib-smsgw"
    monkeypatch.setattr(state_module, "SYSTEM_STATE_DIR", missing)
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    service = pwd.struct_passwd(("smsgw", "x", 4242, 4242, "", str(missing), "/bin/false"))
    other = pwd.struct_passwd(("pi", "x", 4243, 4243, "", "/home/pi", "/bin/bash"))
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: service)
    assert state_dir({"HOME": str(missing)}) == missing
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: other)
    assert state_dir({"HOME": "/home/pi"}) == Path("/home/pi/.local/state/smsgw")
