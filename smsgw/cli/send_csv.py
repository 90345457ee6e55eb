"""`smsgw send --csv FILE`: every row of a checked CSV file through the daemon's API.

Each row is sent with an `Idempotency-Key` made from its content and an
`Idempotency-Window` (`--dedupe-window`, default 24 h): the daemon remembers the key for that
long, so re-running an edited file sends only the rows that are new, the same file run twice
in a day sends nothing and says so, and the same file next week is a new campaign. The window
lives in the daemon's store, not in this process, so two people sending the same file from
two machines are also deduplicated.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from smsgw.cli.apiclient import ApiClient, ApiClientError, ApiTarget
from smsgw.cli.common import EXIT_FAILED, EXIT_USAGE, fail
from smsgw.cli.csvrows import CsvProblem, CsvRow, read_rows

DEFAULT_DEDUPE_WINDOW = "24h"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_window(value: str) -> datetime.timedelta:
    """`--dedupe-window`: `90s`, `30m`, `24h`, `7d`, `2w` (one number and one unit)."""
    match = _DURATION.match(value)
    if match is None or int(match.group(1)) == 0:
        fail(f"--dedupe-window: {value!r} is not a duration like 30m, 24h or 7d", EXIT_USAGE)
    return datetime.timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def checked_rows(path: Path, *, max_parts: int) -> list[CsvRow]:
    """The file's rows, or exit 1 with `FILE:LINE: problem` before anything is sent."""
    try:
        return read_rows(path, max_parts=max_parts)
    except CsvProblem as problem:
        fail(f"{problem} (nothing was sent)")


def dry_run(path: Path, rows: list[CsvRow]) -> None:
    """Print what would be sent, row by row, and the SMS parts it costs; send nothing."""
    for row in rows:
        print(json.dumps({"line": row.line, "to": row.to, "parts": row.parts,
                          "encoding": row.encoding, "modem": row.modem}))  # fmt: skip
    parts = sum(row.parts for row in rows)
    unicode_rows = sum(1 for row in rows if row.encoding != "gsm7")
    print(
        f"dry run: {len(rows)} rows in {path} are valid; sending them costs {parts} SMS "
        f"part{'s' * (parts != 1)} ({unicode_rows} rows need UCS-2); nothing was sent",
        file=sys.stderr,
    )


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr; yields "one more row done". rich is imported only here, so
    a single `smsgw send` does not pay for it."""
    from rich import progress as bar
    from rich.console import Console

    columns = (bar.TextColumn("[bold]sending"), bar.BarColumn(), bar.MofNCompleteColumn(),
               bar.TimeElapsedColumn())  # fmt: skip
    progress = bar.Progress(*columns, console=Console(stderr=True), transient=False)
    task = progress.add_task("send", total=total)
    with progress:
        yield lambda: progress.advance(task)


def send_rows(
    target: ApiTarget,
    path: Path,
    rows: list[CsvRow],
    *,
    modem: str | None,
    delivery_report: bool,
    window: datetime.timedelta | None,
    options: dict[str, Any] | None = None,
) -> None:
    """Every row through the API; `window` None sends every row again (`--resend`).
    `options` (send_at, validity, flash, encoding) apply to rows whose cell is empty."""
    queued = 0
    already: list[int] = []
    failures: list[str] = []
    stopped: str | None = None
    with _progress(len(rows)) as advance, ApiClient(target) as client:
        for row in rows:
            try:
                accepted = client.send(
                    to=row.to,
                    text=row.text,
                    modem=row.modem or modem,
                    delivery_report=delivery_report,
                    idempotency_key=None if window is None else row.content_key(),
                    idempotency_window=window,
                    options={**(options or {}), **row.options},
                )
            except ApiClientError as exc:
                if exc.fatal:
                    stopped = f"{exc} (stopped at {path}:{row.line}; run again to send the rest)"
                    break
                failures.append(f"{path}:{row.line}: {exc}")
            else:
                if accepted.get("created", True):
                    queued += 1
                else:
                    already.append(row.line)
                print(json.dumps({"line": row.line, **accepted}), flush=True)
            advance()
    if stopped is not None:
        fail(stopped)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    print(_summary(len(rows), queued, already, len(failures), window), file=sys.stderr)
    if failures:
        raise typer.Exit(EXIT_FAILED)


def _summary(
    rows: int, queued: int, already: list[int], refused: int, window: datetime.timedelta | None
) -> str:
    text = f"{queued} queued"
    if already:
        lines = ", ".join(str(line) for line in already[:20])
        lines += ", ..." if len(already) > 20 else ""
        text += (
            f", {len(already)} already sent in the last {_human(window)} with the same "
            f"recipient and text (lines {lines}; --resend sends them again)"
        )
    return f"{text}, {refused} refused, {rows} rows"


def _human(window: datetime.timedelta | None) -> str:
    seconds = int(window.total_seconds()) if window is not None else 0
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        # Days only beyond two of them: "24h" reads as the default it is.
        if seconds and seconds % size == 0 and (unit != "d" or seconds > 2 * 86_400):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
