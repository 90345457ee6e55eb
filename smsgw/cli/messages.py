"""`smsgw messages`: the message history straight from the database (CONTRACT.md §4).

Reads the configured database directly, so it works whether or not the daemon runs (and
when its API is down, which is when one most wants to look). Newest first; a rich table for
people, `--json` (one array, the API's field names) for scripts. Without a database of its
own (nothing has run here, no `[database] url`) it reads a running `smsgw demo`'s, and says
so, or says where to look.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import phonenumbers
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.cli.demo_state import running_demo_database
from smsgw.config import Settings, default_database_url, state_dir
from smsgw.exceptions import StoreError
from smsgw.models import Direction
from smsgw.store import open_database, repository
from smsgw.store.repository.queries import MAX_PAGE
from smsgw.store.types import MessageRecord


def messages(
    peer: Annotated[
        str | None,
        typer.Option("--peer", help="Only messages with this number (or sender name)."),
    ] = None,
    direction: Annotated[
        Direction | None, typer.Option("--direction", help="Only incoming or outgoing.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_PAGE, help="How many, newest first.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the message history (both directions, newest first) from the database."""
    settings = load_or_exit(config)
    wanted = None if peer is None else normalise_peer(peer, settings.api.default_region)
    if wanted == "":
        fail("--peer is empty", EXIT_USAGE)
    url = _database_url(settings)
    try:
        records = asyncio.run(_load(url, wanted, direction, limit))
    except StoreError as exc:
        fail(f"cannot read the message history: {exc} (a new database? `smsgw db upgrade`)")
    if as_json:
        print(json.dumps([as_dict(record) for record in records], indent=2))
        return
    Console().print(table(records))


def _database_url(settings: Settings) -> str:
    """The configured database; when that is the default SQLite file and it does not exist
    yet, a running demo's database, else a clear "where to look" instead of a table error."""
    url = settings.database.url
    directory = state_dir()
    if url != default_database_url(directory) or (directory / _sqlite_name(url)).exists():
        return url
    demo = running_demo_database()
    if demo is None:
        fail(
            f"no database at {directory / _sqlite_name(url)}: nothing has run with this state "
            "directory yet. Point at one with --config (a file with [database] url), "
            "SMSGW_DATABASE__URL or SMSGW_STATE_DIR; a running `smsgw demo` prints its own."
        )
    print(f"no database at {directory}; showing the running smsgw demo's ({demo})", file=sys.stderr)
    return f"sqlite:///{demo}"


def _sqlite_name(url: str) -> str:
    return Path(url.removeprefix("sqlite:///")).name


def normalise_peer(raw: str, region: str) -> str:
    """E.164 for anything that parses as a valid number; sender names stay as typed."""
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def _load(
    url: str, peer: str | None, direction: Direction | None, limit: int
) -> list[MessageRecord]:
    db = open_database(url)
    try:
        return await repository.list_messages(db, direction=direction, peer=peer, limit=limit)
    finally:
        await db.close()


def as_dict(record: MessageRecord) -> dict[str, Any]:
    """The same fields the API lists (GET /api/v1/messages)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": record.id,
        "direction": record.direction.value,
        "peer": record.peer,
        "modem": record.modem,
        "text": record.text,
        "encoding": record.encoding,
        "parts": record.parts,
        "status": None if record.status is None else record.status.value,
        "error": record.error,
        "smsc_timestamp": iso(record.smsc_timestamp),
        "received_at": iso(record.received_at),
        "sent_at": iso(record.sent_at),
        "created_at": iso(record.created_at),
        "delivery_report": record.delivery_report,
        "missing_parts": list(record.missing_parts),
        "reply_to": record.reply_to,
    }


def table(records: list[MessageRecord]) -> Table:
    """Readable in an 80-column terminal: the text gets the room; the message id, modem and
    parts go on a dim second line under it. Every cell is plain Text, so an SMS containing
    `[bold]` or `[/]` is shown as written, never read as markup."""
    view = Table(
        title=f"{len(records)} message(s), newest first",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    view.add_column("when (UTC)", no_wrap=True)
    view.add_column("", no_wrap=True)
    view.add_column("peer", overflow="fold")
    view.add_column("status", overflow="fold")
    view.add_column("text · id · modem · parts", overflow="fold", ratio=1)
    for record in records:
        when = record.smsc_timestamp or record.sent_at or record.created_at
        status = "received" if record.direction is Direction.IN else str(record.status or "")
        if record.error:
            status += f" ({record.error})"
        details = f"{record.id} · {record.modem or 'any modem'} · {record.parts} part(s)"
        cell = Text(record.text)
        cell.append("\n" + details, style="dim")
        view.add_row(
            Text(when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")),
            Text("←" if record.direction is Direction.IN else "→"),
            Text(record.peer),
            Text(status),
            cell,
        )
    return view
