"""`smsgw ussd CODE`: a USSD code through the daemon's API, or directly with `--port`.

Through the API a menu (`status: more`) is continued interactively: the answer is asked on
the terminal and posted with the session, until the network is done (an empty answer, or
end of input, ends the session with DELETE). `--json` prints each API answer as one JSON
line and never asks (for scripts: they post the next answer themselves with `--session`).
With `--port` the modem is used directly (no daemon), the menu the same way.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer

from smsgw.cli.apiclient import ApiClient, ApiClientError, resolve_target
from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.exceptions import AtConnectionLost, AtError, AtTimeout, ModemError

#: Seconds the network may take to answer one request.
DEFAULT_WAIT = 30.0


def ussd(
    code: Annotated[str, typer.Argument(help="The code (*100#), or a menu answer with --session.")],
    modem: Annotated[
        str | None, typer.Option("--modem", help="Modem name (default: the first configured).")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Continue this open session with CODE.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each answer as a JSON line; never ask.")
    ] = False,
    wait: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the network's answer.")
    ] = DEFAULT_WAIT,
    api: Annotated[str | None, typer.Option("--api", help="Daemon API URL.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="API key.")] = None,
    port: Annotated[
        str | None, typer.Option("--port", help="Use the modem on this port directly.")
    ] = None,
    baud: Annotated[int, typer.Option("--baud", help="--port: serial speed.")] = 115200,
    pin: Annotated[str | None, typer.Option("--pin", help="--port: SIM PIN if asked.")] = None,
    config: ConfigOption = None,
) -> None:
    """Send a USSD code (balance, menus) through the daemon or directly through a modem."""
    if port is not None:
        if api is not None or session is not None:
            fail("--port talks to the modem directly: drop --api and --session", EXIT_USAGE)
        asyncio.run(_direct(port, baud, pin, code, wait, as_json))
        return
    settings = load_or_exit(config)
    name = modem or (settings.modem[0].name if settings.modem else None)
    if name is None:
        fail("no [[modem]] configured: give --modem NAME (or --port DEV)", EXIT_USAGE)
    try:
        target = resolve_target(settings, url=api, key=key)
    except ApiClientError as exc:
        fail(f"{exc}; or talk to a modem directly with --port DEV", EXIT_USAGE)
    path = f"/api/v1/modems/{name}/ussd"
    try:
        with ApiClient(target, timeout=wait + 10) as client:
            answer = client.post(path, {"code": code, "session": session, "timeout": wait})
            while True:
                _show(answer, as_json)
                if answer.get("status") != "more" or as_json:
                    return
                reply = _ask()
                if not reply:
                    client.delete(f"{path}/{answer['session']}")
                    print("(session ended)", file=sys.stderr)
                    return
                body = {"code": reply, "session": answer["session"], "timeout": wait}
                answer = client.post(path, body)
    except ApiClientError as exc:
        fail(str(exc))


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, ensure_ascii=False))
        return
    print(answer.get("text", ""))
    if answer.get("status") not in ("done", "more"):
        print(f"({answer.get('status')})", file=sys.stderr)


def _ask() -> str:
    """The next menu answer from the terminal ('' at end of input); the prompt goes to
    stderr so stdout holds only the network's answers."""
    if sys.stdin is None:
        return ""
    print("> ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline(200).strip()


async def _direct(port: str, baud: int, pin: str | None, code: str, wait: float,
                  as_json: bool) -> None:  # fmt: skip
    from smsgw.modem.direct import connect

    try:
        async with connect(port, baudrate=baud, pin=pin) as device:
            device.ussd.start()
            answer = await device.ussd.request(code, wait=wait)
            while True:
                shown = {"session": None, "status": answer.status, "text": answer.text}
                _show(shown, as_json)
                if answer.status != "more":
                    return
                reply = "" if as_json else _ask()
                if not reply:
                    await device.ussd.cancel()
                    return
                answer = await device.ussd.request(reply, wait=wait)
    except AtTimeout:
        fail(f"no modem answers on {port}")
    except AtConnectionLost as exc:
        fail(str(exc))
    except (AtError, ModemError) as exc:
        fail(f"{port}: {exc}")


__all__ = ["ussd"]
