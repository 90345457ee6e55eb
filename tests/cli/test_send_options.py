"""`smsgw send --at/--validity/--flash/--encoding` and the CSV option columns reach the API
and are stored as asked; a bad option cell stops the file before anything is sent."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.store import repository
from smsgw.store.types import MessageRecord
from tests.api.live import LiveApi

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_env")]

runner = CliRunner()


@pytest.fixture
def common(api: LiveApi, empty_config: Path) -> list[str]:
    return ["--api", api.base_url, "--key", api.key, "-c", str(empty_config)]


def _stored(api: LiveApi, message_id: str) -> MessageRecord:
    detail = api.run(repository.get_message(api.services.db, message_id))
    assert detail is not None
    return detail.message


def test_single_send_with_every_option(api: LiveApi, common: list[str]) -> None:
    when = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=3)).replace(
        microsecond=0
    )
    result = runner.invoke(
        app,
        ["send", "+40721557001", "Alert", "--at", when.isoformat(), "--validity", "1h",
         "--flash", "--encoding", "gsm7", *common],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    accepted = json.loads(result.stdout)
    assert accepted["status"] == "scheduled"
    message = _stored(api, accepted["id"])
    assert message.send_at == when
    assert message.validity == datetime.timedelta(hours=1)
    assert message.flash is True
    assert message.encoding == "gsm7"


def test_single_send_gsm7_refusal_names_the_character(api: LiveApi, common: list[str]) -> None:
    result = runner.invoke(app, ["send", "+40721557002", "Ştefan", "--encoding", "gsm7", *common])
    assert result.exit_code == 1
    assert "'Ş'" in result.stderr


def test_csv_option_columns_override_the_command_line(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "options.csv"
    sheet.write_text(
        "to,text,validity,flash,encoding\n"
        "+40721557003,row one,,yes,\n"
        "+40721557004,row two,2d,,ucs2\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["send", "--csv", str(sheet), "--validity", "30m", *common])
    assert result.exit_code == 0, result.stderr
    first, second = (json.loads(line)["id"] for line in result.stdout.splitlines())
    one, two = _stored(api, first), _stored(api, second)
    assert (one.validity, one.flash, one.encoding) == (datetime.timedelta(minutes=30), True, "gsm7")
    assert (two.validity, two.flash, two.encoding) == (datetime.timedelta(days=2), False, "ucs2")


def test_csv_bad_option_cell_stops_before_any_send(
    api: LiveApi, common: list[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "to,text,send_at,encoding\n+40721557005,fine,,\n+40721557005,late,next week,\n"
        "+40721557005,Ţară,,gsm7\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["send", "--csv", str(sheet), *common])
    assert result.exit_code == 1
    assert ":3: send_at:" in result.stderr
    records = api.run(repository.list_messages(api.services.db, peer="+40721557005", limit=10))
    assert records == []
    sheet.write_text("to,text,encoding\n+40721557005,Ţară,gsm7\n", encoding="utf-8")
    result = runner.invoke(app, ["send", "--csv", str(sheet), *common])
    assert result.exit_code == 1
    assert ":2: the text cannot be sent as gsm7" in result.stderr
