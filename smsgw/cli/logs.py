"""How every smsgw command logs: one line per record with the level and the component (the
logger's name), as text or as JSON (`--log-format json`, for journald shippers and log
collectors), with values from the network or the SIM unable to forge log lines.

Senders, SMS texts, webhook answers and modem responses end up in log messages. A CR/LF in
one would start what looks like a new, genuine log line; an ANSI escape could repaint the
operator's terminal; a bidi override (U+202E) could make a line read differently from what
it contains. So every control character, C1 control, line/paragraph separator and bidi
control in a message is escaped (`\\r`, `\\x1b`, `\\u202e`), and the continuation lines of
a traceback are indented so none of them starts where a log line starts.

Libraries log their start-up chatter at INFO (uvicorn's "Started server process", alembic's
"Context impl SQLiteImpl", httpx's line per request that the webhook dispatcher already
reports in its own words): they are held at WARNING unless smsgw itself logs at DEBUG.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from typing import Literal, TextIO

__all__ = ["LogFormat", "configure", "escape_controls", "set_level"]

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers whose INFO lines are start-up noise or duplicates of smsgw's own lines.
QUIET_LIBRARIES = ("alembic.runtime.plugins", "httpx", "httpcore", "uvicorn", "uvicorn.error",
                   "uvicorn.access", "asyncio", "aiosqlite", "multipart")  # fmt: skip

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every character that could forge or disguise a log line escaped."""

    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escaped, text)


class _SafeTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extra = _exception_text(self, record)
        if not extra:
            return line
        # A traceback keeps its lines, each indented and escaped: no line of it can pass
        # for a log line of its own.
        return "\n    ".join([line, *(escape_controls(part) for part in extra.split("\n"))])


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "component": record.name,
            "message": escape_controls(record.getMessage()),
        }
        extra = _exception_text(self, record)
        if extra:
            entry["exception"] = escape_controls(extra)
        return json.dumps(entry, ensure_ascii=False)


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    parts = []
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the record (a test runner or a
    daemonising wrapper may swap it after start-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(
    *, debug: bool = False, log_format: LogFormat = "text", stream: TextIO | None = None
) -> None:
    """Install smsgw's handler on the root logger and set the levels.

    Like `logging.basicConfig`, a root logger that already has handlers someone else
    installed (a test harness, an embedding program) is left with them; a handler installed
    by an earlier call is replaced, so calling this twice never doubles every line.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "smsgw_handler", False)]:
        root.removeHandler(old)
    if stream is not None or not root.handlers:
        handler: logging.Handler = (
            logging.StreamHandler(stream) if stream is not None else _StderrHandler()
        )
        handler.setFormatter(_JsonFormatter() if log_format == "json" else
                             _SafeTextFormatter(TEXT_FORMAT))  # fmt: skip
        handler.smsgw_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    set_level("debug" if debug else "info")


def set_level(level: str) -> None:
    """smsgw's level (`log.level` or --debug); libraries stay at WARNING unless DEBUG."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.getLogger().setLevel(numeric)
    library = logging.DEBUG if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(library)
    # alembic's "Running upgrade 0003 -> 0004, ..." lines say a migration really ran (rare,
    # and worth a line); its "Context impl SQLiteImpl." chatter on the same logger is not.
    migration = logging.getLogger("alembic.runtime.migration")
    migration.setLevel(logging.DEBUG if numeric <= logging.DEBUG else numeric)
    if numeric > logging.DEBUG:
        if _only_upgrades not in migration.filters:
            migration.addFilter(_only_upgrades)
    elif _only_upgrades in migration.filters:
        migration.removeFilter(_only_upgrades)


def _only_upgrades(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.getMessage().startswith("Running upgrade")
