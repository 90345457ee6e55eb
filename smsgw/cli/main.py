"""The `smsgw` command: registers every command group and owns the process exit code.

Subcommands are imported only when they are invoked (or listed by `--help`): `smsgw run` is
the long-running daemon, and it should not carry the emulator, rich's tables and progress
bars or the other commands' dependencies for weeks (a few MB of RSS on a Raspberry Pi).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click  # typer's vendored click: the types TyperGroup's methods use

from smsgw import __version__

# httpx's `__init__` imports its own command-line client when it can (`httpx._main`: rich's
# console, tables, progress bars and syntax highlighting, and pygments' lexers), about 3 MB of
# RSS that no smsgw command uses. A None entry makes that optional import fail the way httpx
# expects when rich is absent (it then defines a stub `httpx.main`); nothing else changes.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: name -> (module under smsgw.cli, attribute, "group" for a Typer app or "command"), in the
#: order `smsgw --help` lists them (typer's: commands first, then groups).
_LAZY: dict[str, tuple[str, str, str]] = {
    "send": ("send", "send", "command"),
    "run": ("run", "run", "command"),
    "messages": ("messages", "messages", "command"),
    "demo": ("demo", "demo", "command"),
    "pdu": ("pdu", "app", "group"),
    "config": ("config", "app", "group"),
    "db": ("db", "app", "group"),
    "emulator": ("emulator", "app", "group"),
    "webhook": ("webhook", "app", "group"),
    "modem": ("modem", "app", "group"),
}


def _load(name: str) -> _click.Command:
    """Import one subcommand's module and build its click command exactly as an eager
    `add_typer`/`command` registration on the root would (same names, help and options)."""
    module_name, attribute, kind = _LAZY[name]
    target = getattr(importlib.import_module(f"smsgw.cli.{module_name}"), attribute)
    holder = typer.Typer()
    if kind == "group":
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class _LazyGroup(TyperGroup):
    """The root group: knows every subcommand's name, imports one only when it is needed."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*_LAZY, *(name for name in super().list_commands(ctx) if name not in _LAZY)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _LAZY:
            command = self.commands[cmd_name] = _load(cmd_name)
        return command


app = typer.Typer(
    name="smsgw",
    help="Self-hosted two-way SMS gateway for USB GSM modems.",
    cls=_LazyGroup,
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


def main() -> None:
    """Console-script entry point."""
    app()
