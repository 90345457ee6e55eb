"""`smsgw send TO TEXT --port DEV`: send one SMS straight through a modem (CONTRACT.md §4).

Sending through a running daemon (``--api``/``--key``, ``--csv``) belongs to the REST API
and is not available yet: without ``--port`` the command says so and exits 2.
"""

from __future__ import annotations

import asyncio
import json

import typer

from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.exceptions import AtConnectionLost, AtError, AtTimeout, ModemError, SendFailed
from smsgw.modem.base import ModemSettings
from smsgw.modem.direct import connect


def send(
    to: str = typer.Argument(..., help="Recipient number, e.g. +40722000000."),
    text: str = typer.Argument(..., help="Message text (split into parts as needed)."),
    port: str | None = typer.Option(None, "--port", help="Send directly through this modem."),
    baud: int = typer.Option(115200, "--baud", help="Serial speed."),
    pin: str | None = typer.Option(None, "--pin", help="SIM PIN, entered once if asked."),
    report: bool = typer.Option(False, "--srr/--no-srr", help="Request a delivery report."),
) -> None:
    """Send an SMS. Only --port (direct modem use) works for now."""
    if port is None:
        fail(
            "only `--port DEV` is supported for now; sending through the daemon API "
            "(--api/--key, --csv) is not available yet",
            EXIT_USAGE,
        )
    references = asyncio.run(_send(port, baud, pin, to, text, report))
    print(json.dumps({"to": to, "parts": len(references), "references": references}))


async def _send(
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
