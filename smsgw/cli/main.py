"""The `smsgw` command: registers every command group and owns the process exit code.

Subcommands are imported only when they are invoked (or listed by `--help`): `smsgw run` is
the long-running daemon, and it should not carry the emulator, rich's tables and progress
bars or the other commands' dependencies for weeks (a few MB of RSS on a Raspberry Pi).
"""

from __future__ import annotations

import enum
import importlib
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer import _click  # typer's vendored click: the types TyperGroup's methods use

from smsgw import __version__
from smsgw.cli import logs

# httpx's `__init__` imports its own command-line client when it can (`httpx._main`: rich's
# console, tables, progress bars and syntax highlighting, and pygments' lexers), about 3 MB of
# RSS that no smsgw command uses. A None entry makes that optional import fail the way httpx
# expects when rich is absent (it then defines a stub `httpx.main`); nothing else changes.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: name -> (module under smsgw.cli, attribute, "group" for a Typer app or "command", the
#: one-line help `smsgw --help` shows), in the order `smsgw --help` lists them. The line is
#: kept here so that listing the commands imports none of them (`smsgw run`'s module alone
#: pulls in uvicorn, FastAPI and SQLAlchemy: ~0.5 s on a Pi); a test checks it against each
#: command's own docstring.
_LAZY: dict[str, tuple[str, str, str, str]] = {
    "send": (
        "send",
        "send",
        "command",
        "Send an SMS through the running daemon, a CSV file of them, or one directly (--port).",
    ),
    "run": (
        "run",
        "run",
        "command",
        "Run the gateway: modems, webhook dispatcher and REST API, until SIGTERM.",
    ),
    "messages": (
        "messages",
        "messages",
        "command",
        "Show the message history (both directions, newest first) from the database.",
    ),
    "export": (
        "export",
        "export",
        "command",
        "Write the message history (both directions, oldest first) as CSV or JSON lines.",
    ),
    "demo": (
        "demo",
        "demo",
        "command",
        "Try smsgw without hardware: an emulated SIM800, the daemon and an example webhook.",
    ),
    "pdu": ("pdu", "app", "group", "Decode and encode SMS PDUs (3GPP TS 23.040)."),
    "config": ("config", "app", "group", "Check the configuration file and SMSGW_* overrides."),
    "db": ("db", "app", "group", "Database maintenance."),
    "emulator": (
        "emulator",
        "app",
        "group",
        "A virtual GSM modem on a pty (SIM800 or Huawei persona).",
    ),
    "webhook": (
        "webhook",
        "app",
        "group",
        "Webhook tools (the webhook receives every incoming SMS and delivery status).",
    ),
    "modem": ("modem", "app", "group", "Talk to a modem directly (no daemon)."),
    "mqtt": (
        "mqtt",
        "app",
        "group",
        "MQTT tools (events, modem state and send topics on a broker; Home Assistant).",
    ),
    "ussd": (
        "ussd",
        "ussd",
        "command",
        "Send a USSD code (balance, menus) through the daemon or directly through a modem.",
    ),
    "quarantine": (
        "quarantine",
        "app",
        "group",
        "Inbound SMS that could not be decoded, kept aside (through the daemon's API).",
    ),
}

#: `-h` as well as `--help`, on every command (click passes it down to the subcommands).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _flag_type_hidden(self: TyperOption, ctx: _click.Context) -> str | None:
    """typer labels every on/off flag `<bool>` in the help, as if it took a value; a flag
    takes none, so its type column stays empty (options with values keep theirs)."""
    if self.is_flag:
        return None
    return _typer_display_type_rich(self, ctx)


_typer_display_type_rich = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type_hidden  # type: ignore[method-assign]


def _load(name: str) -> _click.Command:
    """Import one subcommand's module and build its click command exactly as an eager
    `add_typer`/`command` registration on the root would (same names, help and options)."""
    module_name, attribute, kind, _summary = _LAZY[name]
    target = getattr(importlib.import_module(f"smsgw.cli.{module_name}"), attribute)
    holder = typer.Typer(rich_markup_mode=None)
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

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The root's help lists the lazy commands by their stored one-line help: standing
        placeholders answer `--help` without importing the commands themselves."""
        placeholders = [name for name in _LAZY if name not in self.commands]
        for name in placeholders:
            _module, _attribute, kind, summary = _LAZY[name]
            stand_in = TyperGroup if kind == "group" else TyperCommand
            self.commands[name] = stand_in(name=name, help=summary)
        try:
            super().format_help(ctx, formatter)
        finally:
            for name in placeholders:
                del self.commands[name]


app = typer.Typer(
    name="smsgw",
    help="Self-hosted two-way SMS gateway for USB GSM modems.",
    cls=_LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # `--install-completion` / `--show-completion` for bash, zsh and fish (docs/cli.md).
    add_completion=True,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


class _LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


LogFormatChoice = Annotated[
    _LogFormat,
    typer.Option(
        "--log-format",
        help="text: one line per record with level and component; json: one JSON object "
        "per line (time, level, component, message) for journald shippers.",
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"smsgw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Verbose logs and full tracebacks."),
    log_format: LogFormatChoice = LogFormatChoice.text,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    logs.configure(debug=debug, log_format=log_format.value)


def main() -> None:
    """Console-script entry point."""
    app()
