"""Every command that reads the configuration reports a bad one the same way: exit 1 and one
`error: <source>: <key>: <problem>` line per problem on stderr, never a traceback, never a
secret. A modem-less configuration is refused by `smsgw run` and flagged by `config check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app

#: (TOML text, dotted key, fragment of the problem). The password "pw-77" must never show.
BAD_CONFIGS = [
    pytest.param(
        '[database]\nurl = "postgresql://gw:pw-77@db:notaport/sms"\n',
        "database.url",
        "port is not a number",
        id="db-url-port",
    ),
    pytest.param(
        '[database]\nurl = "postgresql://gw:pw-77@[::1/sms"\n',
        "database.url",
        "IPv6",
        id="db-url-ipv6",
    ),
    pytest.param(
        '[database]\nurl = "mysql://gw:pw-77@db/sms"\n',
        "database.url",
        "SQLite or PostgreSQL",
        id="db-url-backend",
    ),
    pytest.param(
        '[database]\nurl = "sqlite://gw:pw-77@host/sms.db"\n',
        "database.url",
        "names a file",
        id="db-url-sqlite-host",
    ),
    pytest.param('[webhook]\nmax_age = "2 days"\n', "webhook.max_age", "duration", id="duration"),
    pytest.param('[api]\nlisen = "0.0.0.0:1"\n', "api.lisen", "did you mean", id="unknown-key"),
    pytest.param('[limits]\nmax_parts = "many"\n', "limits.max_parts", "integer", id="type"),
    pytest.param('[api]\nkey = "pw-77"\n', "api.key", "at least 16", id="short-api-key"),
    pytest.param("[api\nkey = 1\n", "", "not valid TOML", id="toml"),
]

#: Every command that loads the configuration, with arguments that get it past its own checks.
COMMANDS = [
    pytest.param(["config", "check"], id="config-check"),
    pytest.param(["run"], id="run"),
    pytest.param(["db", "upgrade"], id="db-upgrade"),
    pytest.param(["messages"], id="messages"),
    pytest.param(["webhook", "test", "http://127.0.0.1:9/hook"], id="webhook-test"),
    pytest.param(["send", "+40721000000", "hi", "--api", "http://127.0.0.1:9"], id="send"),
]


def _invoke(args: list[str], config: Path, state: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*args, "--config", str(config)], env={"SMSGW_STATE_DIR": str(state)}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("toml", "key", "fragment"), BAD_CONFIGS)
def test_a_bad_config_is_one_line_naming_the_key(
    tmp_path: Path, command: list[str], toml: str, key: str, fragment: str
) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text(toml + '[[modem]]\nname = "m"\nport = "/dev/null"\n', encoding="utf-8")
    code, out, err = _invoke(command, config, tmp_path / "state")
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {config}: {key}" if key else f"error: {config}: ")
    assert fragment in lines[0]
    assert "pw-77" not in err
    assert not (tmp_path / "state").exists()  # nothing was created before the check


@pytest.mark.timeout(60)
def test_run_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text(
        '[database]\nurl = "postgresql://gw:pw-77@db:99999/sms"\n'
        '[[modem]]\nname = "m"\nport = "/dev/null"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "smsgw", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"SMSGW_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: {config}: database.url: the port is not a number from 1 to 65535"
    ]


def test_run_without_a_modem_exits_1_saying_how_to_add_one(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text('[api]\nlisten = "127.0.0.1:1"\n', encoding="utf-8")
    code, out, err = _invoke(["run"], config, tmp_path / "state")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "error: no [[modem]] configured: `smsgw run` needs at least one; add a [[modem]] "
        f"table with name and port to {config}, or set SMSGW_MODEM"
    ]
    assert not (tmp_path / "state").exists()  # refused before any file was made


def test_config_check_warns_about_a_missing_modem_but_stays_valid(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text("", encoding="utf-8")
    code, out, err = _invoke(["config", "check"], config, tmp_path / "state")
    assert code == 0
    assert "# no [[modem]] configured" in out
    assert err.splitlines() == [
        "warning: no [[modem]] configured: `smsgw run` needs at least one; add a [[modem]] "
        f"table with name and port to {config}, or set SMSGW_MODEM"
    ]
