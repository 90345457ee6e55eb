"""Log lines: one format with level and component, JSON on request, quiet libraries, and
values from the network or the SIM that cannot forge a line or repaint a terminal."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from smsgw.cli import logs

#: A sender name / SMS text as hostile as a network can make it.
HOSTILE = (
    "hi\r\n2026-01-01 00:00:00,000 INFO smsgw.api: key accepted \x1b[2J\x1b[31mred\u202etxt.exe"
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logs.set_level("info")


def _logged(log_format: logs.LogFormat, *, exc: bool = False) -> str:
    stream = io.StringIO()
    logs.configure(log_format=log_format, stream=stream)
    log = logging.getLogger("smsgw.gateway.inbound")
    if exc:
        try:
            raise ValueError(HOSTILE)
        except ValueError:
            log.exception("sim800: SMS from %s could not be stored", HOSTILE)
    else:
        log.info("sim800: SMS from %s stored", HOSTILE)
    return stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_a_text_line_has_level_and_component_and_escapes_what_could_forge_a_line() -> None:
    output = _logged("text")
    assert output.count("\n") == 1
    line = output.rstrip("\n")
    assert " INFO smsgw.gateway.inbound: sim800: SMS from hi\\r\\n2026-01-01" in line
    assert "\x1b" not in line
    assert "\\x1b[2J\\x1b[31mred" in line
    assert "\u202e" not in line
    assert "\\u202etxt.exe" in line


@pytest.mark.usefixtures("restore_logging")
def test_a_traceback_never_starts_a_line_of_its_own() -> None:
    lines = _logged("text", exc=True).rstrip("\n").split("\n")
    assert " ERROR smsgw.gateway.inbound: " in lines[0]
    assert len(lines) > 2
    assert all(line.startswith("    ") for line in lines[1:])
    assert not any("\x1b" in line or "\r" in line for line in lines)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_time_level_component_and_the_escaped_message() -> None:
    output = _logged("json", exc=True)
    assert output.count("\n") == 1
    entry = json.loads(output)
    assert set(entry) == {"time", "level", "component", "message", "exception"}
    assert entry["level"] == "ERROR"
    assert entry["component"] == "smsgw.gateway.inbound"
    assert "\\r\\n2026-01-01" in entry["message"]
    assert "\x1b" not in output
    assert "\u202e" not in output
    assert "ValueError" in entry["exception"]


@pytest.mark.usefixtures("restore_logging")
def test_library_start_up_chatter_is_held_back_unless_debugging() -> None:
    logs.configure()
    for name in ("alembic.runtime.plugins", "uvicorn.error", "httpx"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    assert logging.getLogger("smsgw.modem.supervisor").isEnabledFor(logging.INFO)
    # alembic says which migration ran, and nothing else at INFO.
    migration = logging.getLogger("alembic.runtime.migration")
    records = [
        logging.LogRecord(migration.name, logging.INFO, __file__, 1, msg, (), None)
        for msg in ("Context impl SQLiteImpl.", "Running upgrade 0003 -> 0004, mqtt")
    ]
    shown = [bool(migration.filter(record)) for record in records]
    assert shown == [False, True]
    logs.configure(debug=True)
    assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.DEBUG)
    assert migration.filter(
        logging.LogRecord(migration.name, logging.INFO, __file__, 1, "Context impl", (), None)
    )


def test_the_cli_takes_log_format_json() -> None:
    code = (
        "import logging, sys\n"
        "from smsgw.cli.main import app\n"
        "try:\n"
        "    app(['--log-format', 'json', 'pdu', 'decode', '00'], prog_name='smsgw')\n"
        "except SystemExit:\n"
        "    pass\n"
        "logging.getLogger('smsgw.test').warning('after %s', 'run')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    last = json.loads(proc.stderr.strip().splitlines()[-1])
    assert last["component"] == "smsgw.test"
    assert last["message"] == "after run"
