"""`smsgw send`: one SMS through the daemon's API, a CSV file of them, or straight through a
modem with `--port`.

- `smsgw send TO TEXT [--api URL --key KEY]`: POST /api/v1/messages of a running daemon.
  TEXT `-` reads the text from stdin; `--` before a TEXT that starts with `-`.
- `smsgw send --csv FILE [--dry-run] [--dedupe-window 24h]`: every row (columns `to`, `text`,
  optional `modem` and `id`) through the API, with a progress bar (smsgw/cli/send_csv.py).
- `smsgw send TO TEXT --port DEV [--baud N]`: directly through a modem, no daemon.

The modem layer (pyserial, the AT driver) is imported only for `--port`, rich only for a
bulk send: a plain `smsgw send` starts in a fraction of a second on a Pi.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from smsgw.cli.apiclient import ApiClient, ApiClientError, ApiTarget, resolve_target
from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.cli.send_csv import DEFAULT_DEDUPE_WINDOW, checked_rows, dry_run, parse_window, send_rows
from smsgw.exceptions import AtConnectionLost, AtError, AtTimeout, ModemError, SendFailed

#: `smsgw send TO -` reads at most this much text from stdin (far beyond any SMS's parts).
MAX_STDIN_TEXT = 64 * 1024


def send(
    to: Annotated[
        str | None,
        typer.Argument(help="Recipient: +40722000000, or a national number (api.default_region)."),
    ] = None,
    text: Annotated[
        str | None,
        typer.Argument(
            help="Message text (split into parts as needed); - reads it from stdin. Put -- "
            "before a text that starts with a dash: smsgw send +40722000000 -- '-5 degrees'."
        ),
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
            help="Send every row of this CSV (header: to,text[,modem][,id]) through the API. "
            "The whole file is checked first; a malformed line stops it before any send.",
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
            help="--csv: send every row, even one already sent within the dedupe window.",
        ),
    ] = False,
    dedupe_window: Annotated[
        str,
        typer.Option(
            "--dedupe-window",
            help="--csv: a row with the same recipient, text (and id column) as one sent "
            "this long ago or less is not sent again (30m, 24h, 7d ...).",
        ),
    ] = DEFAULT_DEDUPE_WINDOW,
    dry: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="--csv: check every row and count the SMS parts it costs; send nothing.",
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Send at this time (ISO-8601 with offset: 2026-12-24T09:00:00+02:00); "
            "scheduled in the daemon until then.",
        ),
    ] = None,
    validity: Annotated[
        str | None,
        typer.Option("--validity", help="How long the network keeps trying: 30m, 1d ... 63w."),
    ] = None,
    flash: Annotated[
        bool, typer.Option("--flash", help="Flash SMS (class 0): shown at once, not stored.")
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="auto (default), gsm7 (refuse other characters), ucs2."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Send an SMS through the running daemon, a CSV file of them, or one directly (--port).

    Prints the result as JSON: the message id and status from the API, or the modem's
    message references with --port. Exit 1 when the send is refused or fails.
    """
    options = _api_options(at=at, validity=validity, flash=flash, encoding=encoding)
    if port is not None:
        if csv_file is not None or api is not None or options:
            fail(
                "--port sends directly through a modem; it cannot be combined with --csv, --api, "
                "--at, --validity, --flash or --encoding (they need the daemon)",
                EXIT_USAGE,
            )
        to, text = _need_to_and_text(to, text)
        text = _text_or_stdin(text)
        references = asyncio.run(_send_direct(port, baud, pin, to, text, bool(report)))
        print(json.dumps({"to": to, "parts": len(references), "references": references}))
        return
    delivery_report = True if report is None else report
    if csv_file is not None:
        if to is not None or text is not None:
            fail("--csv takes the recipients and texts from the file: drop TO and TEXT", EXIT_USAGE)
        window = parse_window(dedupe_window)
        settings = load_or_exit(config)
        rows = checked_rows(csv_file, max_parts=settings.limits.max_parts)
        if dry:
            dry_run(csv_file, rows)
            return
        target = _target(api, key, config)
        send_rows(target, csv_file, rows, modem=modem, delivery_report=delivery_report,
                  window=None if resend else window, options=options)  # fmt: skip
        return
    if dry:
        fail("--dry-run checks a --csv file; a single send has nothing to rehearse", EXIT_USAGE)
    to, text = _need_to_and_text(to, text)
    text = _text_or_stdin(text)
    target = _target(api, key, config)
    try:
        with ApiClient(target) as client:
            accepted = client.send(
                to=to, text=text, modem=modem, delivery_report=delivery_report, options=options
            )
    except ApiClientError as exc:
        fail(str(exc))
    print(json.dumps(accepted))


def _api_options(
    *, at: str | None, validity: str | None, flash: bool, encoding: str | None
) -> dict[str, Any]:
    """The sending options as API body fields (the daemon checks them: one set of rules)."""
    options: dict[str, Any] = {}
    if at is not None:
        options["send_at"] = at
    if validity is not None:
        options["validity"] = validity
    if flash:
        options["flash"] = True
    if encoding is not None:
        options["encoding"] = encoding.strip().lower()
    return options


def _need_to_and_text(to: str | None, text: str | None) -> tuple[str, str]:
    if to is None or text is None:
        fail("give the recipient and the text: smsgw send TO TEXT (or --csv FILE)", EXIT_USAGE)
    return to, text


def _text_or_stdin(text: str) -> str:
    """TEXT `-` is the text piped in (one trailing newline dropped, as `echo` adds one)."""
    if text != "-":
        return text
    if sys.stdin is None or sys.stdin.isatty():
        fail("TEXT is - but nothing is piped in: echo 'hello' | smsgw send TO -", EXIT_USAGE)
    data = sys.stdin.read(MAX_STDIN_TEXT + 1)
    if len(data) > MAX_STDIN_TEXT:
        fail(f"the text on stdin is longer than {MAX_STDIN_TEXT} characters", EXIT_USAGE)
    data = data.removesuffix("\n").removesuffix("\r")
    if not data.strip():
        fail("the text on stdin is empty", EXIT_USAGE)
    return data


def _target(api: str | None, key: str | None, config: Path | None) -> ApiTarget:
    settings = load_or_exit(config)
    try:
        return resolve_target(settings, url=api, key=key)
    except ApiClientError as exc:
        # Not knowing which key to use is a usage problem, like a missing argument.
        fail(f"{exc}; or send directly through a modem with --port DEV", EXIT_USAGE)


# ----------------------------------------------------------------------------- --port


async def _send_direct(
    port: str, baud: int, pin: str | None, to: str, text: str, report: bool
) -> list[int]:
    from smsgw.modem.base import ModemSettings
    from smsgw.modem.direct import connect

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
