"""`smsgw send` through a running API (typer's runner and a real subprocess) and `--csv`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.store import repository
from tests.api.live import LiveApi

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()


def _send(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["send", *args])
    return result.exit_code, result.stdout, result.stderr


def test_send_through_the_api_prints_the_queued_message(api: LiveApi, empty_config: Path) -> None:
    code, out, err = _send(
        "0721 555 001", "hello", "--api", api.base_url, "--key", api.key, "-c", str(empty_config)
    )
    assert code == 0, err
    accepted = json.loads(out)
    assert accepted["to"] == "+40721555001"
    assert accepted["status"] == "queued"
    stored = api.run(repository.get_message(api.services.db, accepted["id"]))
    assert stored is not None
    assert stored.message.text == "hello"


def test_key_from_the_environment(
    api: LiveApi, empty_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSGW_API__KEY", api.key)
    code, out, err = _send(
        "+40721555002", "env key", "--api", api.base_url, "-c", str(empty_config)
    )
    assert code == 0, err
    assert json.loads(out)["to"] == "+40721555002"


def test_key_from_the_daemons_key_file(
    api: LiveApi, empty_config: Path, clean_env: dict[str, str]
) -> None:
    (Path(clean_env["SMSGW_STATE_DIR"]) / "api-key").write_text(api.key + "\n")
    code, _, err = _send("+40721555003", "file key", "--api", api.base_url, "-c", str(empty_config))
    assert code == 0, err


def test_no_key_anywhere_is_a_usage_error(empty_config: Path) -> None:
    code, _, err = _send(
        "+40721555004", "x", "--api", "http://127.0.0.1:9", "-c", str(empty_config)
    )
    assert code == 2
    assert err.startswith("error: no API key")
    assert "--key" in err


def test_wrong_key_fails_with_one_line(api: LiveApi, empty_config: Path) -> None:
    code, out, err = _send(
        "+40721555005", "x", "--api", api.base_url, "--key", "nope", "-c", str(empty_config)
    )
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [f"error: the API at {api.base_url} refused the key (401)"]


@pytest.mark.parametrize(
    ("to", "text", "expected"),
    [
        ("+40721555006", "   ", "422: text: the message is empty"),
        ("123", "hi", "422: to: '123' is not a valid phone number"),
    ],
)
def test_refused_sends_show_the_api_detail(
    api: LiveApi, empty_config: Path, to: str, text: str, expected: str
) -> None:
    code, _, err = _send(to, text, "--api", api.base_url, "--key", api.key, "-c", str(empty_config))
    assert code == 1
    assert err.startswith(f"error: {expected}")


def test_unreachable_daemon_is_explained(empty_config: Path) -> None:
    code, _, err = _send(
        "+40721555007", "x", "--api", "http://127.0.0.1:9", "--key", "k", "-c", str(empty_config)
    )
    assert code == 1
    assert "cannot reach the smsgw API at http://127.0.0.1:9" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--api", "http://127.0.0.1:9", "--key", "k"],  # TO and TEXT missing
        ["+40721555008", "x", "--port", "/dev/null", "--csv", "f.csv"],
        ["+40721555008", "x", "--csv", "f.csv", "--key", "k"],
    ],
)
def test_conflicting_or_missing_arguments_are_usage_errors(
    empty_config: Path, args: list[str]
) -> None:
    code, _, err = _send(*args, "-c", str(empty_config))
    assert code == 2
    assert err.startswith("error:")


def test_csv_sends_every_good_row_and_reports_the_bad_ones(
    api: LiveApi, empty_config: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "bulk.csv"
    sheet.write_text(
        "to,text\n+40721555101,first\n0721555102,second\nnonsense,third\n+40721555104,fourth\n",
        encoding="utf-8",
    )
    code, out, err = _send(
        "--csv", str(sheet), "--api", api.base_url, "--key", api.key, "-c", str(empty_config)
    )
    assert code == 1
    queued = [json.loads(line) for line in out.splitlines()]
    assert [row["to"] for row in queued] == ["+40721555101", "+40721555102", "+40721555104"]
    assert [row["line"] for row in queued] == [2, 3, 5]
    assert f"error: {sheet}:4: 422: to: 'nonsense' is not a phone number" in err
    assert "3 queued, 1 refused, 4 rows" in err


def test_send_as_a_real_subprocess(api: LiveApi, tmp_path: Path, empty_config: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "smsgw",
            "send",
            "+40721555301",
            "from a process",
            "--api",
            api.base_url,
            "--key",
            api.key,
            "-c",
            str(empty_config),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "SMSGW_STATE_DIR": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["to"] == "+40721555301"
    assert completed.stderr == ""


def test_csv_stops_at_the_first_row_when_the_daemon_is_unreachable(
    empty_config: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "down.csv"
    sheet.write_text("to,text\n+40721555501,one\n+40721555502,two\n", encoding="utf-8")
    code, out, err = _send(
        "--csv", str(sheet), "--api", "http://127.0.0.1:9", "--key", "k", "-c", str(empty_config)
    )
    assert code == 1
    assert out == ""
    assert f"stopped at {sheet}:2; run again to send the rest" in err
