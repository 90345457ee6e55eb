"""Reading the configuration: the TOML file, then `SMSGW_*` variables key by key, then one
validation that reports every problem at once (each one line: source, dotted key, reason)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from smsgw.config.problems import InvalidConfig, describe_error, did_you_mean
from smsgw.config.settings import ENV_DELIMITER, ENV_PREFIX, Settings, section_model
from smsgw.config.state import default_config_path, default_database_url, state_dir
from smsgw.exceptions import ConfigError

__all__ = ["load_settings"]


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment parsing, fed from a given mapping instead of os.environ."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def load_settings(path: Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (default: `/etc/smsgw/smsgw.toml` if it exists), apply `SMSGW_*`
    overrides from `env` (default: the process environment) and validate everything.

    Raises `InvalidConfig` (a `ConfigError`) naming the file or variable, the dotted key and
    the problem for every bad key; never touches a modem or the database.
    """
    environ = os.environ if env is None else env
    if path is None:
        path = default_config_path()
    file_label = str(path) if path is not None else "<defaults>"
    file_data = _read_toml(path) if path is not None else {}

    env_vars, problems = _known_env_vars(environ)
    env_data = _parse_env(env_vars, problems)

    merged = _deep_merge(file_data, env_data)
    database = merged.setdefault("database", {})
    if isinstance(database, dict) and not str(database.get("url", "")).strip():
        merged["database"] = {**database, "url": default_database_url(state_dir(environ))}
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        problems += [describe_error(error, file_label, env_vars) for error in exc.errors()]
        raise InvalidConfig(problems) from None
    if problems:
        raise InvalidConfig(problems)
    return settings


def _parse_env(env_vars: dict[str, str], problems: list[ConfigError]) -> dict[str, Any]:
    """Nested values from the variables; a variable that is not valid JSON where JSON is
    needed is reported and dropped, so the remaining problems are still found."""
    while True:
        try:
            return _MappingEnvSource(env_vars)()
        except SettingsError as exc:
            match = re.search(r'field "(\w+)"', str(exc))
            name = f"{ENV_PREFIX}{match.group(1).upper()}" if match else ""
            if name not in env_vars:
                problems.append(ConfigError(f"cannot read the environment: {exc}", file="env"))
                return {}
            section = name[len(ENV_PREFIX) :].lower()
            expected = "a JSON array of modem tables" if section == "modem" else "a JSON object"
            problems.append(ConfigError(f"must be {expected}", file=f"env {name}", key=section))
            del env_vars[name]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InvalidConfig([ConfigError("file not found", file=str(path))]) from None
    except IsADirectoryError:
        raise InvalidConfig([ConfigError("is a directory, not a file", file=str(path))]) from None
    except PermissionError:
        raise InvalidConfig([ConfigError("permission denied", file=str(path))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig([ConfigError(f"not valid TOML: {exc}", file=str(path))]) from None
    except UnicodeDecodeError:
        raise InvalidConfig([ConfigError("not UTF-8 text", file=str(path))]) from None
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        raise InvalidConfig([ConfigError(reason, file=str(path))]) from None


def _smsgw_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The configuration variables: `SMSGW_<SECTION>[__<KEY>]`, upper-cased names."""
    sections = {name.upper() for name in Settings.model_fields}
    selected = {}
    for name, value in environ.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        rest = upper[len(ENV_PREFIX) :]
        if ENV_DELIMITER in rest or rest in sections:
            selected[upper] = value
    return selected


def _known_env_vars(environ: Mapping[str, str]) -> tuple[dict[str, str], list[ConfigError]]:
    """The usable configuration variables, and a problem for each one naming no known key
    (reported, then left out so the rest is still checked)."""
    env_vars = _smsgw_env(environ)
    problems = _unknown_env_keys(env_vars)
    rejected = {problem.file for problem in problems}
    return {k: v for k, v in env_vars.items() if f"env {k}" not in rejected}, problems


def _unknown_env_keys(env_vars: Mapping[str, str]) -> list[ConfigError]:
    problems = []
    for name in sorted(env_vars):
        section, _, key = name[len(ENV_PREFIX) :].lower().partition(ENV_DELIMITER)
        model = section_model(section)
        if model is None:
            hint = did_you_mean(section, Settings.model_fields)
            problems.append(ConfigError(f"unknown section{hint}", file=f"env {name}", key=section))
        elif section == "modem" and key:
            problems.append(
                ConfigError(
                    "modems cannot be set key by key; set SMSGW_MODEM to a JSON array",
                    file=f"env {name}",
                    key="modem",
                )
            )
        elif key and key not in model.model_fields:
            hint = did_you_mean(key, model.model_fields)
            problems.append(
                ConfigError(f"unknown key{hint}", file=f"env {name}", key=f"{section}.{key}")
            )
    return problems


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged
