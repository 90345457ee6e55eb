"""Durations, the state directory, the generated API key and masking."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.config import (
    API_KEY_FILENAME,
    MAX_DURATION,
    ensure_api_key,
    format_duration,
    load_settings,
    masked,
    parse_duration,
    state_dir,
    to_json,
)
from smsgw.exceptions import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("48h", timedelta(hours=48)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 1H 30M ", timedelta(minutes=90)),
        ("0.5s", timedelta(milliseconds=500)),
        ("30", timedelta(seconds=30)),
        (45, timedelta(seconds=45)),
        (2.5, timedelta(seconds=2.5)),
        (timedelta(hours=1), timedelta(hours=1)),
    ],
)
def test_durations_parse(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "h", "10x", "1h30", "-5s", "1.2.3s", "s10", "nan", "inf", "3651d", 1e300, True, None, [1]],
)
def test_bad_durations_are_value_errors(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@settings(deadline=None, max_examples=200)
@given(st.integers(min_value=0, max_value=int(MAX_DURATION.total_seconds())))
def test_format_duration_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    text = format_duration(value)
    assert parse_duration(text) == value
    assert text == "0s" or not text.startswith("0")


def test_format_duration_prefers_big_units() -> None:
    assert format_duration(timedelta(hours=48)) == "2d"
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(milliseconds=1500)) == "1.5s"


def test_state_dir_prefers_systemd_then_smsgw_variable(tmp_path: Path) -> None:
    env = {"STATE_DIRECTORY": "/var/lib/smsgw:/var/lib/other", "SMSGW_STATE_DIR": "/x"}
    assert state_dir(env) == Path("/var/lib/smsgw")
    assert state_dir({"SMSGW_STATE_DIR": str(tmp_path)}) == tmp_path


def test_state_dir_fallback_depends_on_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert state_dir({"HOME": "/root"}) == Path("/var/lib/smsgw")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert state_dir({"HOME": "/home/pi"}) == Path("/home/pi/.local/state/smsgw")


@pytest.fixture
def no_key_config(tmp_path: Path) -> Path:
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_api_key_is_generated_once_with_mode_0600(tmp_path: Path, no_key_config: Path) -> None:
    settings = load_settings(no_key_config, env={})
    directory = tmp_path / "state" / "nested"
    key, path = ensure_api_key(settings, directory)
    assert path == directory / API_KEY_FILENAME
    assert len(key) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert path.read_text(encoding="ascii").strip() == key
    again, again_path = ensure_api_key(settings, directory)
    assert (again, again_path) == (key, path)
    other_dir = tmp_path / "other"
    assert ensure_api_key(settings, other_dir)[0] != key


def test_configured_api_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[api]\nkey = 'mine-0123456789abcdef'\n", encoding="utf-8")
    settings = load_settings(config, env={})
    assert ensure_api_key(settings, tmp_path / "state") == ("mine-0123456789abcdef", None)
    assert not (tmp_path / "state").exists()


def test_loose_key_file_permissions_are_tightened(tmp_path: Path, no_key_config: Path) -> None:
    key_file = tmp_path / API_KEY_FILENAME
    key_file.write_text("existing-key-0123456789\n", encoding="ascii")
    key_file.chmod(0o644)
    key, path = ensure_api_key(load_settings(no_key_config, env={}), tmp_path)
    assert (key, path) == ("existing-key-0123456789", key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_empty_key_file_is_a_config_error(tmp_path: Path, no_key_config: Path) -> None:
    (tmp_path / API_KEY_FILENAME).write_text("\n", encoding="ascii")
    with pytest.raises(ConfigError) as caught:
        ensure_api_key(load_settings(no_key_config, env={}), tmp_path)
    assert caught.value.key == "api.key"
    assert caught.value.file == str(tmp_path / API_KEY_FILENAME)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_state_dir_is_a_config_error(tmp_path: Path, no_key_config: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="cannot create"):
        ensure_api_key(load_settings(no_key_config, env={}), locked)


def test_state_dir_that_is_a_file_is_a_config_error(tmp_path: Path, no_key_config: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot create the state directory"):
        ensure_api_key(load_settings(no_key_config, env={}), blocker / "state")


def test_masked_hides_every_secret_but_shows_whether_it_is_set(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[database]\nurl = 'postgresql+asyncpg://gw:pw-1@db:5432/sms'\n"
        "[api]\nkey = 'key-1-0123456789abcdef'\n"
        "[webhook]\nurl = 'https://u:pw-2@hook.example/x'\nsecret = 'sec-1'\n"
        "[[modem]]\nname = 'a'\nport = '/dev/ttyUSB0'\npin = '4321'\n"
        "[[modem]]\nname = 'b'\nport = '/dev/ttyUSB1'\n",
        encoding="utf-8",
    )
    settings = load_settings(config, env={})
    data = masked(settings)
    text = json.dumps(data)
    for secret in ("pw-1", "key-1", "pw-2", "sec-1", "4321"):
        assert secret not in text
    assert data["database"]["url"] == "postgresql+asyncpg://gw:********@db:5432/sms"
    assert data["webhook"]["url"] == "https://u:********@hook.example/x"
    assert data["api"]["key"] == "********"
    assert [m["pin"] for m in data["modem"]] == ["********", ""]
    assert data["webhook"]["max_age"] == "2d"
    assert json.loads(to_json(settings)) == data
    # Masking is for display only: the settings still hold the real values.
    assert settings.api.key.get_secret_value() == "key-1-0123456789abcdef"
