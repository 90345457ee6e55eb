"""`smsgw export`: the message history as CSV (for a spreadsheet) or JSON lines (for another
system), straight from the database like `smsgw messages` (CONTRACT.md §11).

Streamed: rows are read in chunks (`repository.iter_history`) and written as they come, so
years of history never sit in memory. Oldest first, the fields `smsgw messages --json` prints.

CSV cells are made safe for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would be run as a formula by Excel or LibreOffice (an SMS text is written by
anyone), so such a cell gets a leading `'`, which spreadsheets read as "this is text". Phone
numbers in E.164 start with `+` and get it too. JSON lines are written as they are.
"""

from __future__ import annotations

import asyncio
import csv
import datetime
import enum
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.cli.messages import as_dict, normalise_peer
from smsgw.exceptions import StoreError
from smsgw.store import open_database, repository

__all__ = ["export", "spreadsheet_safe"]

#: The CSV columns: the keys of `smsgw messages --json` (`messages.as_dict`), in its order,
#: so even an export that matched nothing has its header row.
COLUMNS = (
    "id", "direction", "peer", "modem", "text", "encoding", "parts", "status", "error",
    "smsc_timestamp", "received_at", "sent_at", "created_at", "delivery_report",
    "missing_parts", "reply_to",
)  # fmt: skip

#: First characters a spreadsheet treats as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Format(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


def spreadsheet_safe(value: object) -> str:
    """One CSV cell: None is empty, lists are comma-joined, booleans true/false, and a text
    a spreadsheet would run as a formula is prefixed with `'`."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ",".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def parse_since(value: str) -> datetime.datetime:
    """`2026-01-31` (midnight UTC) or an ISO-8601 time; without an offset, UTC."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"--since {value!r} is not a date (YYYY-MM-DD) or an ISO-8601 time", EXIT_USAGE)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def export(
    output_format: Annotated[
        Format, typer.Option("--format", help="csv (spreadsheets) or jsonl (one JSON per line).")
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only messages stored on or after: YYYY-MM-DD or ISO time."),
    ] = None,
    peer: Annotated[
        str | None, typer.Option("--peer", help="Only messages with this number (or sender name).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the message history (both directions, oldest first) as CSV or JSON lines."""
    settings = load_or_exit(config)
    start = None if since is None else parse_since(since)
    wanted = None if peer is None else normalise_peer(peer, settings.api.default_region)
    if wanted == "":
        fail("--peer is empty", EXIT_USAGE)
    try:
        if output is None:
            count = asyncio.run(
                _write(settings.database.url, sys.stdout, output_format, start, wanted)
            )
        else:
            with output.open("w", encoding="utf-8", newline="") as sink:
                count = asyncio.run(
                    _write(settings.database.url, sink, output_format, start, wanted)
                )
    except StoreError as exc:
        fail(f"cannot read the message history: {exc}")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    if output is not None:
        print(f"{count} message(s) written to {output}", file=sys.stderr)


async def _write(
    url: str,
    sink: IO[str],
    output_format: Format,
    since: datetime.datetime | None,
    peer: str | None,
) -> int:
    write = _csv_writer(sink) if output_format is Format.CSV else _jsonl_writer(sink)
    count = 0
    db = open_database(url)
    try:
        async for record in repository.iter_history(db, since=since, peer=peer):
            write(as_dict(record))
            count += 1
    finally:
        await db.close()
    sink.flush()
    return count


def _csv_writer(sink: IO[str]) -> Callable[[dict[str, Any]], None]:
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(COLUMNS)

    def write(row: dict[str, Any]) -> None:
        writer.writerow([spreadsheet_safe(row.get(name)) for name in COLUMNS])

    return write


def _jsonl_writer(sink: IO[str]) -> Callable[[dict[str, Any]], None]:
    def write(row: dict[str, Any]) -> None:
        sink.write(json.dumps(row, ensure_ascii=False) + "\n")

    return write
