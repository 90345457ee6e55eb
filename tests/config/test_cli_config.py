"""`smsgw config check` through typer's runner and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app

GOOD = """
[api]
key = "top-secret-key-0123"
[webhook]
url = "http://127.0.0.1:3000/sms-webhook"
secret = "hmac-secret"
max_age = "36h"
[[modem]]
name = "sim800"
port = "/dev/smsgw/sim800"
pin = "7391"
"""


@pytest.fixture
def good_config(tmp_path: Path) -> Path:
    path = tmp_path / "smsgw.toml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_check_prints_effective_config_as_toml_with_secrets_masked(
    good_config: Path, tmp_path: Path
) -> None:
    code, out, err = invoke(
        "config", "check", "--config", str(good_config), env={"SMSGW_STATE_DIR": str(tmp_path)}
    )
    assert (code, err) == (0, "")
    for secret in ("top-secret-key-0123", "hmac-secret", "7391"):
        assert secret not in out
    data = tomllib.loads(out)  # the output is valid TOML (comments included)
    assert data["api"]["key"] == "********"
    assert data["webhook"]["max_age"] == "1d12h"
    assert data["modem"][0]["pin"] == "********"
    assert data["database"]["url"] == f"sqlite:///{tmp_path / 'smsgw.db'}"
    assert f"# configuration: {good_config}" in out
    missing_note = "# modem[0].port: /dev/smsgw/sim800 does not exist now"
    assert (missing_note in out) == (not Path("/dev/smsgw/sim800").exists())


def test_check_json_reflects_environment_overrides(good_config: Path) -> None:
    code, out, _ = invoke(
        "config",
        "check",
        "-c",
        str(good_config),
        "--json",
        env={"SMSGW_LIMITS__MAX_PARTS": "3", "SMSGW_API__LISTEN": "0.0.0.0:8081"},
    )
    assert code == 0
    data = json.loads(out)
    assert data["limits"]["max_parts"] == 3
    assert data["api"]["listen"] == "0.0.0.0:8081"
    assert data["api"]["key"] == "********"
    assert data["modem"][0]["name"] == "sim800"


def test_check_mentions_the_generated_key_and_missing_modems(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    code, out, _ = invoke("config", "check", "-c", str(empty), env={"SMSGW_STATE_DIR": "/st"})
    assert code == 0
    assert "generated at first start in /st/api-key" in out
    assert "no [[modem]] configured" in out


def test_bad_config_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[webhook]\nhistory_size = 3\n[[modem]]\nname = 'x'\nport = 'p'\nbaud = 1\n")
    code, out, err = invoke("config", "check", "-c", str(bad))
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"error: {bad}: webhook.history_size: input should be 0, 5, 10, 20 or 50 (got 3)",
        f"error: {bad}: modem[0].baud: 1 is not one of "
        "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
    ]


def test_missing_file_exits_1(tmp_path: Path) -> None:
    code, _, err = invoke("config", "check", "-c", str(tmp_path / "nope.toml"))
    assert code == 1
    assert err.strip() == f"error: {tmp_path / 'nope.toml'}: file not found"


def test_unknown_option_is_a_usage_error() -> None:
    assert invoke("config", "check", "--bogus")[0] == 2


@pytest.mark.timeout(60)
def test_subprocess_reports_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[api]\nlisten = 'everywhere'\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "smsgw", "config", "check", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {bad}: api.listen: ")
