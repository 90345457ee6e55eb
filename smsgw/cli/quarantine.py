"""`smsgw quarantine`: inbound SMS that could not be decoded, through the daemon's API.

`list` shows what the gateway set aside (newest first; `--json` prints the entries as the
API answers them), `clear ID...` removes entries the operator has dealt with; clearing a
modem's last entry resolves its `quarantined` alert. Like `smsgw send`, these talk to the
running daemon (`--api`, `--key`), so the alert events go out through its dispatcher.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from smsgw.cli.apiclient import ApiClient, ApiClientError, ApiTarget, resolve_target
from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit

app = typer.Typer(
    help="Inbound SMS that could not be decoded, kept aside (through the daemon's API).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

#: The API's largest page; `list --limit` beyond it is fetched page by page.
PAGE = 1000

ApiOption = Annotated[
    str | None,
    typer.Option("--api", help="Daemon API URL. Default: from api.listen."),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", help="API key. Default: SMSGW_API__KEY, api.key, else the daemon's key file."
    ),
]


def _target(api: str | None, key: str | None, config: Path | None) -> ApiTarget:
    settings = load_or_exit(config)
    try:
        return resolve_target(settings, url=api, key=key)
    except ApiClientError as exc:
        fail(str(exc), EXIT_USAGE)


@app.command("list")
def list_entries(
    modem: Annotated[str | None, typer.Option("--modem", help="Only this modem's.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="How many, newest first.")
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    api: ApiOption = None,
    key: KeyOption = None,
    config: ConfigOption = None,
) -> None:
    """List quarantined SMS, newest first."""
    target = _target(api, key, config)
    entries: list[dict[str, Any]] = []
    before: int | None = None
    try:
        with ApiClient(target) as client:
            while len(entries) < limit:
                page = client.quarantine(
                    limit=min(PAGE, limit - len(entries)), before=before, modem=modem
                )
                entries.extend(page.get("entries", []))
                before = page.get("next_before")
                if before is None:
                    break
    except ApiClientError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(entries, indent=2))
        return
    Console().print(_table(entries))


@app.command("clear")
def clear(
    entry_ids: Annotated[list[int], typer.Argument(help="Ids shown by `smsgw quarantine list`.")],
    api: ApiOption = None,
    key: KeyOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove quarantined SMS the operator has dealt with."""
    target = _target(api, key, config)
    try:
        with ApiClient(target) as client:
            for entry_id in entry_ids:
                cleared = client.clear_quarantined(entry_id)
                print(f"cleared {cleared.get('id')} ({cleared.get('modem')})")
    except ApiClientError as exc:
        fail(str(exc))


def _table(entries: list[dict[str, Any]]) -> Table:
    view = Table(title=f"{len(entries)} quarantined SMS, newest first", title_justify="left")
    for column in ("id", "received (UTC)", "modem", "where", "error", "raw PDU"):
        view.add_column(column, overflow="fold" if column in ("error", "raw PDU") else "ellipsis")
    for entry in entries:
        where = "routed" if entry.get("storage") is None else f"{entry['storage']}/{entry['index']}"
        # Escaped: the PDU and the decoder's message come from the SIM (rich markup inside).
        view.add_row(
            str(entry.get("id")),
            str(entry.get("received_at", ""))[:19].replace("T", " "),
            escape(str(entry.get("modem"))),
            escape(where),
            escape(repr(str(entry.get("error")))[1:-1]),
            escape(repr(str(entry.get("pdu_hex")))[1:-1]),
        )
    return view
