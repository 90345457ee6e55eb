"""The root command: version, help, exit codes."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from smsgw import __version__
from smsgw.cli.main import app
from smsgw.exceptions import AtTimeout, CmsError, ConfigError


def test_version_flag_prints_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"smsgw {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_python_dash_m_runs_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "smsgw", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_errors_read_well_and_timeouts_are_timeouts() -> None:
    assert isinstance(AtTimeout("x"), TimeoutError)
    err = CmsError(322, command="AT+CMGS=23")
    assert err.code == 322
    assert "322" in str(err)
    assert "AT+CMGS=23" in str(err)
    assert str(ConfigError("must be > 0", file="smsgw.toml", key="limits.max_parts")) == (
        "smsgw.toml: limits.max_parts: must be > 0"
    )
