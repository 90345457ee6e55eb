"""`smsgw send`: one SMS through the daemon's API, a CSV file of them, or straight through a
modem with `--port` (CONTRACT.md §4).

- `smsgw send TO TEXT [--api URL --key KEY]`: POST /api/v1/messages of a running daemon.
- `smsgw send --csv FILE`: every row (columns `to`, `text`, optional `modem`) through the
  API, with a progress bar; a bad row is reported and the rest still go.
- `smsgw send TO TEXT --port DEV [--baud N]`: directly through a modem, no daemon.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from smsgw.cli.apiclient import ApiClient, ApiClientError, ApiTarget, resolve_target
from smsgw.cli.common import EXIT_FAILED, EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.exceptions import AtConnectionLost, AtError, AtTimeout, ModemError, SendFailed
from smsgw.modem.base import ModemSettings
from smsgw.modem.direct import connect

#: Rows beyond this are refused up front: the file is read whole before anything is sent.
MAX_CSV_ROWS = 100_000


def send(
    to: Annotated[
        str | None,
        typer.Argument(help="Recipient: +40722000000, or a national number (api.default_region)."),
    ] = None,
    text: Annotated[
        str | None, typer.Argument(help="Message text (split into parts as needed).")
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            "--api", help="Daemon API URL. Default: from api.listen, e.g. http://127.0.0.1:8080."
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="API key. Default: SMSGW_API__KEY, api.key, else the daemon's key file "
            "in the state directory.",
        ),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Send every row of this CSV (header: to,text[,modem]) through the API.",
            dir_okay=False,
        ),
    ] = None,
    modem: Annotated[
        str | None,
        typer.Option("--modem", help="API/CSV: send through this modem (default: any)."),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option("--port", help="Send directly through the modem on this port (no daemon)."),
    ] = None,
    baud: Annotated[int, typer.Option("--baud", help="--port: serial speed.")] = 115200,
    pin: Annotated[
        str | None, typer.Option("--pin", help="--port: SIM PIN, entered once if asked.")
    ] = None,
    report: Annotated[
        bool | None,
        typer.Option(
            "--srr/--no-srr",
            help="Request a delivery report (default: yes through the API, no with --port).",
        ),
    ] = None,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend",
            help="--csv: send every row again even if this exact file was sent before "
            "(by default a re-run only sends the rows that did not go through).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Send an SMS through the running daemon, a CSV file of them, or one directly (--port).

    Prints the result as JSON: the message id and status from the API, or the modem's
    message references with --port. Exit 1 when the send is refused or fails.
    """
    if port is not None:
        if csv_file is not None or api is not None:
            fail(
                "--port sends directly through a modem; it cannot be combined with --csv or --api",
                EXIT_USAGE,
            )
        to, text = _need_to_and_text(to, text)
        references = asyncio.run(_send_direct(port, baud, pin, to, text, bool(report)))
        print(json.dumps({"to": to, "parts": len(references), "references": references}))
        return
    target = _target(api, key, config)
    delivery_report = True if report is None else report
    if csv_file is not None:
        if to is not None or text is not None:
            fail("--csv takes the recipients and texts from the file: drop TO and TEXT", EXIT_USAGE)
        _send_csv(target, csv_file, modem=modem, delivery_report=delivery_report, resend=resend)
        return
    to, text = _need_to_and_text(to, text)
    try:
        with ApiClient(target) as client:
            accepted = client.send(to=to, text=text, modem=modem, delivery_report=delivery_report)
    except ApiClientError as exc:
        fail(str(exc))
    print(json.dumps(accepted))


def _need_to_and_text(to: str | None, text: str | None) -> tuple[str, str]:
    if to is None or text is None:
        fail("give the recipient and the text: smsgw send TO TEXT (or --csv FILE)", EXIT_USAGE)
    return to, text


def _target(api: str | None, key: str | None, config: Path | None) -> ApiTarget:
    settings = load_or_exit(config)
    try:
        return resolve_target(settings, url=api, key=key)
    except ApiClientError as exc:
        # Not knowing which key to use is a usage problem, like a missing argument.
        fail(f"{exc}; or send directly through a modem with --port DEV", EXIT_USAGE)


# ----------------------------------------------------------------------------- CSV


def read_csv_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; exits 1 with one line when unreadable."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {name.strip().lower() for name in reader.fieldnames or ()}
            if not {"to", "text"} <= fields:
                fail(f"{path}: the first line must be a header with `to` and `text` columns")
            rows: list[tuple[int, dict[str, str]]] = []
            for row in reader:
                if len(rows) >= MAX_CSV_ROWS:
                    fail(f"{path}: more than {MAX_CSV_ROWS} rows; split the file")
                clean = {
                    (name or "").strip().lower(): (value or "").strip()
                    if (name or "").strip().lower() != "text"
                    else (value or "")
                    for name, value in row.items()
                    if isinstance(value, str)
                }
                rows.append((reader.line_num, clean))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"{path}: not a UTF-8 CSV file ({exc})")
    return rows


def _send_csv(
    target: ApiTarget, path: Path, *, modem: str | None, delivery_report: bool, resend: bool
) -> None:
    """Every row through the API. Each row carries an Idempotency-Key made of the file's
    digest and the line number, so re-running a file after an interruption sends only the
    rows that did not go through (unless `resend`)."""
    rows = read_csv_rows(path)
    digest = None if resend else hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    console = Console(stderr=True)
    queued = 0
    already = 0
    failures: list[str] = []
    progress = Progress(
        TextColumn("[bold]sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress, ApiClient(target) as client:
        task = progress.add_task("send", total=len(rows))
        for line, row in rows:
            try:
                accepted = client.send(
                    to=row.get("to", ""),
                    text=row.get("text", ""),
                    modem=row.get("modem") or modem,
                    delivery_report=delivery_report,
                    idempotency_key=None if digest is None else f"csv:{digest}:{line}",
                )
            except ApiClientError as exc:
                if exc.fatal:
                    progress.stop()
                    fail(f"{exc} (stopped at {path}:{line}; run again to send the rest)")
                failures.append(f"{path}:{line}: {exc}")
            else:
                if accepted.get("created", True):
                    queued += 1
                else:
                    already += 1
                print(json.dumps({"line": line, **accepted}), flush=True)
            progress.advance(task)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    earlier = f", {already} already sent by an earlier run" if already else ""
    console.print(f"{queued} queued{earlier}, {len(failures)} refused, {len(rows)} rows")
    if failures:
        raise typer.Exit(EXIT_FAILED)


# ----------------------------------------------------------------------------- --port


async def _send_direct(
    port: str, baud: int, pin: str | None, to: str, text: str, report: bool
) -> list[int]:
    settings = ModemSettings(pin=pin, request_status_reports=report)
    try:
        async with connect(port, baudrate=baud, initialise=True, settings=settings) as modem:
            return await modem.send_sms(to, text, srr=report)
    except SendFailed as exc:
        sent = f" ({len(exc.references)}/{exc.parts} parts went out)" if exc.references else ""
        fail(f"not sent: {exc}{sent}")
    except AtTimeout:
        fail(f"no modem answers on {port}")
    except AtConnectionLost as exc:
        fail(str(exc))
    except (AtError, ModemError) as exc:
        fail(f"{port}: {exc}")
