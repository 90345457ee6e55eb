"""`smsgw config check`: validate the configuration and print what the daemon would use."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from smsgw.cli.common import EXIT_FAILED
from smsgw.config import (
    API_KEY_FILENAME,
    DEFAULT_CONFIG_PATH,
    InvalidConfig,
    Settings,
    default_config_path,
    default_database_url,
    load_settings,
    masked,
    prepare_state_dir,
    state_dir,
)
from smsgw.exceptions import ConfigError

app = typer.Typer(help="Check the configuration file and SMSGW_* overrides.", no_args_is_help=True)

CONFIG_OPTION_HELP = (
    f"TOML configuration file (default: {DEFAULT_CONFIG_PATH} if it exists). "
    "Every key can also be set as SMSGW_<SECTION>__<KEY>."
)
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help=CONFIG_OPTION_HELP, dir_okay=False)
]


def load_or_exit(config: Path | None) -> Settings:
    """Load the configuration or exit 1 with one `file: key: problem` line per problem.

    Shared by every command that reads the configuration (run, db upgrade, ...), so a bad
    config always fails the same way and before anything touches a modem.
    """
    try:
        return load_settings(config)
    except InvalidConfig as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
    raise typer.Exit(EXIT_FAILED)


def no_modem_problem(config: Path | None) -> str:
    """Why `smsgw run` refuses a configuration without modems, and how to add one."""
    source = config or default_config_path()
    where = f"to {source}" if source else f"to {DEFAULT_CONFIG_PATH} (or pass --config)"
    return (
        "no [[modem]] configured: `smsgw run` needs at least one; add a [[modem]] table with "
        f"name and port {where}, or set SMSGW_MODEM"
    )


def prepare_state_dir_or_exit(settings: Settings) -> Path:
    """The state directory, created (0700) or tightened when the default SQLite file is used;
    exit 1 with one line when that is impossible."""
    directory = state_dir()
    if settings.database.url == default_database_url(directory):
        try:
            prepare_state_dir(directory)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_FAILED) from None
    return directory


@app.command("check")
def check(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate the configuration and print the effective values, secrets masked.

    Exit 0 when valid; exit 1 with "file: key: problem" lines on stderr otherwise.
    """
    settings = load_or_exit(config)
    data = masked(settings)
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    source = config or default_config_path()
    directory = state_dir()
    print(f"# configuration: {source or 'none (defaults and SMSGW_* environment)'}")
    print(f"# state directory: {directory}")
    if not settings.api.key.get_secret_value():
        print(f"# api.key: not set; generated at first start in {directory / API_KEY_FILENAME}")
    if not settings.modem:
        print("# no [[modem]] configured: `smsgw run` needs at least one")
        print(f"warning: {no_modem_problem(config)}", file=sys.stderr)
    for index, modem in enumerate(settings.modem):
        if not Path(modem.port).exists():
            print(f"# modem[{index}].port: {modem.port} does not exist now (not plugged in?)")
    print(render_toml(data))


def render_toml(data: dict[str, Any]) -> str:
    """The masked settings as TOML that `tomllib` reads back (tables, then [[modem]])."""
    blocks = []
    for section, values in data.items():
        if isinstance(values, list):
            for item in values:
                blocks.append(_table(f"[[{section}]]", item))
        else:
            blocks.append(_table(f"[{section}]", values))
    return "\n\n".join(blocks)


def _table(header: str, values: dict[str, Any]) -> str:
    lines = [header]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)
