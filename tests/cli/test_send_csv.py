"""`smsgw send --csv`: rows keyed by content within a window, --dry-run, malformed files, and
the text from stdin or after `--` for a single send."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.store import repository
from tests.api.live import LiveApi

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()


def _send(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["send", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _ids(out: str) -> list[str]:
    return [json.loads(line)["id"] for line in out.splitlines()]


def _queued_texts(api: LiveApi, peer: str) -> list[str]:
    records = api.run(repository.list_messages(api.services.db, peer=peer, limit=100))
    return sorted(record.text for record in records)


@pytest.fixture
def common(api: LiveApi, empty_config: Path) -> list[str]:
    return ["--api", api.base_url, "--key", api.key, "-c", str(empty_config)]


def test_an_edited_file_rerun_sends_only_the_new_rows(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "campaign.csv"
    sheet.write_text("to,text\n+40721556001,one\n+40721556001,two\n", encoding="utf-8")
    code, first, _ = _send("--csv", str(sheet), *common)
    assert code == 0
    # A row inserted at the top shifts every line number; only the new row is new.
    sheet.write_text(
        "to,text\n+40721556001,zero\n+40721556001,one\n+40721556001,two\n", encoding="utf-8"
    )
    code, again, err = _send("--csv", str(sheet), *common)
    assert code == 0, err
    rows = [json.loads(line) for line in again.splitlines()]
    assert [row["created"] for row in rows] == [True, False, False]
    assert [row["id"] for row in rows[1:]] == _ids(first)
    assert "1 queued, 2 already sent in the last 24h" in err
    assert "(lines 3, 4;" in err
    assert _queued_texts(api, "+40721556001") == ["one", "two", "zero"]


def test_the_same_file_twice_in_the_window_sends_nothing_and_says_so(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "twice.csv"
    sheet.write_text("to,text,id\n+40721556101,hi,a\n+40721556101,hi,b\n", encoding="utf-8")
    assert _send("--csv", str(sheet), *common)[0] == 0
    code, _, err = _send("--csv", str(sheet), *common)
    assert code == 0
    assert "0 queued, 2 already sent in the last 24h with the same recipient and text" in err
    # The id column tells two equal messages apart: both went out once.
    assert _queued_texts(api, "+40721556101") == ["hi", "hi"]


def test_after_the_window_the_same_rows_are_a_new_send(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "weekly.csv"
    sheet.write_text("to,text\n+40721556201,weekly news\n", encoding="utf-8")
    code, first, _ = _send("--csv", str(sheet), "--dedupe-window", "1s", *common)
    assert code == 0
    code, _, err = _send("--csv", str(sheet), "--dedupe-window", "1h", *common)
    assert code == 0
    assert "0 queued, 1 already sent in the last 1h" in err
    time.sleep(1.2)
    code, later, err = _send("--csv", str(sheet), "--dedupe-window", "1s", *common)
    assert code == 0
    assert "1 queued, 0 refused" in err
    assert _ids(later) != _ids(first)
    assert _queued_texts(api, "+40721556201") == ["weekly news", "weekly news"]


def test_dry_run_counts_parts_and_sends_nothing(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "dry.csv"
    sheet.write_text(
        "to,text\n+40721556301,short\n+40721556301," + "x" * 200 + "\n+40721556301,ţară\n",
        encoding="utf-8",
    )
    code, out, err = _send("--csv", str(sheet), "--dry-run", *common)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(row["line"], row["parts"], row["encoding"]) for row in rows] == [
        (2, 1, "gsm7"), (3, 2, "gsm7"), (4, 1, "ucs2")
    ]  # fmt: skip
    assert "3 rows" in err
    assert "4 SMS parts" in err
    assert "nothing was sent" in err
    assert _queued_texts(api, "+40721556301") == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("to;text\n+40721556401;hi\n", ":1: the columns are separated by semicolons"),
        ('to,text\n+40721556401,ok\n+40721556401,"never closed\n+40721556401,x\n',
         ":3: a quoted field is never closed"),
        ("to,text\n+40721556401,ok\n+40721556401\n", ":3: 1 field, the header has 2"),
        ("to,text,modem\n+40721556401,ok,\n+40721556401,b,c,d\n", ":3: 4 fields, the header has 3"),
        ("phone,message\n+40721556401,hi\n", ":1: the header has no `to` or `text` column"),
        ("to,text\n+40721556401,ok\n,hi\n", ":3: `to` is empty"),
        ("to,text\n+40721556401,ok\n+40721556401," + "y" * 1000 + "\n", ":3: the text needs 7"),
    ],
)  # fmt: skip
def test_a_malformed_file_stops_with_the_line_before_anything_is_sent(
    api: LiveApi, common: list[str], tmp_path: Path, content: str, problem: str
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(content, encoding="utf-8")
    code, out, err = _send("--csv", str(sheet), *common)
    assert code == 1
    assert out == ""
    assert f"error: {sheet}{problem}" in err
    assert "nothing was sent" in err
    assert _queued_texts(api, "+40721556401") == []


def test_text_from_stdin_and_a_text_starting_with_a_dash(api: LiveApi, common: list[str]) -> None:
    code, _, err = _send("+40721556501", "-", *common, stdin="from a pipe\n")
    assert code == 0, err
    code, _, err = _send("+40721556501", *common, "--", "-5 degrees tonight")
    assert code == 0, err
    assert _queued_texts(api, "+40721556501") == ["-5 degrees tonight", "from a pipe"]


def test_an_empty_stdin_is_refused(common: list[str]) -> None:
    code, _, err = _send("+40721556601", "-", *common, stdin="")
    assert code == 2
    assert "the text on stdin is empty" in err
