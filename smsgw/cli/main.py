"""The `smsgw` command: registers every command group and owns the process exit code."""

from __future__ import annotations

import importlib
import logging

import typer

from smsgw import __version__

app = typer.Typer(
    name="smsgw",
    help="Self-hosted two-way SMS gateway for USB GSM modems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"smsgw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Verbose logs and full tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    """Attach the command groups; each lives in its own module under smsgw.cli."""
    from smsgw.cli import config, pdu

    app.add_typer(pdu.app, name="pdu")
    app.add_typer(config.app, name="config")
    app.add_typer(importlib.import_module("smsgw.cli.db").app, name="db")
    app.add_typer(importlib.import_module("smsgw.cli.emulator").app, name="emulator")
    app.add_typer(importlib.import_module("smsgw.cli.webhook").app, name="webhook")
    app.add_typer(importlib.import_module("smsgw.cli.modem").app, name="modem")
    app.command("send")(importlib.import_module("smsgw.cli.send").send)
    app.command("run")(importlib.import_module("smsgw.cli.run").run)
    app.command("messages")(importlib.import_module("smsgw.cli.messages").messages)
    app.command("demo")(importlib.import_module("smsgw.cli.demo").demo)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
