"""The root command: version, help, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer import _click as click
from typer.core import TyperGroup
from typer.testing import CliRunner

from smsgw import __version__
from smsgw.cli.main import _LAZY, app
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


# ----------------------------------------------------------------------------- help and start-up

#: The web stack and the store: only `run`, `demo`, `db` and `messages` need them.
HEAVY = ("fastapi", "uvicorn", "starlette", "sqlalchemy", "alembic")

_MODULES_AFTER = """
import json, sys
from smsgw.cli.main import app
try:
    app(sys.argv[1:], prog_name="smsgw")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _MODULES_AFTER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return set(json.loads(proc.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["send", "--help"],
        # A real send attempt against a closed port: the client path, not just its help.
        ["send", "--api", "http://127.0.0.1:9", "--key", "k", "+40700000000", "hi"],
    ],
)
def test_help_and_send_do_not_import_the_web_stack_or_the_store(args: list[str]) -> None:
    modules = _modules_after(*args)
    assert "smsgw.cli.main" in modules
    assert _heavy(modules) == []


def test_the_root_help_lists_every_command_with_its_own_first_line() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    listed = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    for name in _LAZY:
        command = root.get_command(click.Context(root), name)
        assert command is not None
        own = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        assert _LAZY[name][3] == own, name
        assert f"{name}  " in listed


def _every_command_path(group: TyperGroup, prefix: list[str]) -> list[list[str]]:
    paths = []
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, TyperGroup):
            paths.append([*prefix, name])
            paths += _every_command_path(command, [*prefix, name])
        elif command is not None:
            paths.append([*prefix, name])
    return paths


def test_every_help_page_answers_dash_h_without_type_placeholders_or_lost_brackets() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    paths = [[], *_every_command_path(root, [])]
    assert ["send"] in paths
    assert ["db", "upgrade"] in paths
    for path in paths:
        result = CliRunner().invoke(app, [*path, "-h"], terminal_width=100)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: smsgw" in result.output, path
        assert "<bool>" not in result.output, path
    # Square brackets in help texts are shown as written, not eaten as markup.
    upgrade = CliRunner().invoke(app, ["db", "upgrade", "-h"], terminal_width=100).output
    assert "[database] url" in " ".join(upgrade.split())


def test_shell_completion_script_is_available() -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0
    assert "smsgw" in result.output
