"""`smsgw modem info`: probe a modem directly, no daemon (CONTRACT.md §4)."""

from __future__ import annotations

import asyncio
import json

import typer

from smsgw.cli.common import fail
from smsgw.exceptions import AtConnectionLost, AtError, AtTimeout, ModemError
from smsgw.modem.base import ModemInfo
from smsgw.modem.direct import connect

app = typer.Typer(help="Talk to a modem directly (no daemon).", no_args_is_help=True)


@app.command("info")
def info(
    port: str = typer.Option(..., "--port", help="Device path, pty or socket://host:port."),
    baud: int = typer.Option(115200, "--baud", help="Serial speed."),
    pin: str | None = typer.Option(None, "--pin", help="SIM PIN, entered once if asked."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of a table."),
) -> None:
    """Maker, model, IMEI, SIM, operator, signal, registration, storage, CNMI/CPMS support."""
    details = asyncio.run(_collect(port, baud, pin))
    if as_json:
        print(json.dumps(details.as_json(), ensure_ascii=False))
    else:
        _print_table(details)


async def _collect(port: str, baud: int, pin: str | None) -> ModemInfo:
    try:
        async with connect(port, baudrate=baud, pin=pin) as modem:
            return await modem.info()
    except AtTimeout:
        fail(f"no modem answers on {port} (tried AT for 5 s at {baud} baud)")
    except AtConnectionLost as exc:
        fail(str(exc))
    except (AtError, ModemError) as exc:
        fail(f"{port}: {exc}")


def _print_table(details: ModemInfo) -> None:
    ident = details.identity
    storage = ", ".join(f"{s.memory or '?'} {s.used}/{s.total}" for s in details.storage)
    support = " / ".join(",".join(group) for group in details.storage_support)
    rows = [
        ("dialect", details.dialect),
        ("manufacturer", ident.manufacturer),
        ("model", ident.model),
        ("revision", ident.revision),
        ("IMEI", ident.imei),
        ("SIM", details.sim),
        ("operator", details.operator),
        ("signal", f"{details.signal_dbm} dBm" if details.signal_dbm is not None else None),
        ("registration", details.registration),
        ("storage", storage or None),
        ("CPMS support", support or None),
        ("CNMI support", details.cnmi_support),
        ("SMSC", details.service_center),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value if value is not None else '-'}")
