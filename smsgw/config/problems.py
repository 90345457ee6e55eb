"""Configuration problems as one line each: where the value came from (the file or the
`SMSGW_*` variable), the dotted key (`modem[1].baud`) and what is wrong, never a traceback and
never a secret's value."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from smsgw.config.settings import (
    ENV_DELIMITER,
    ENV_PREFIX,
    KeyedValueError,
    Settings,
    section_model,
)
from smsgw.exceptions import ConfigError

__all__ = ["InvalidConfig", "describe_error", "did_you_mean"]


class InvalidConfig(ConfigError):
    """One or more configuration problems; `str()` is the first, `problems` holds them all."""

    def __init__(self, problems: list[ConfigError]) -> None:
        first = problems[0]
        super().__init__(_reason(first), file=first.file, key=first.key)
        self.problems = problems


def _reason(error: ConfigError) -> str:
    text = str(error)
    prefix = ": ".join(part for part in (error.file, error.key) if part)
    return text[len(prefix) + 2 :] if prefix and text.startswith(prefix + ": ") else text


def describe_error(
    error: Mapping[str, Any],
    file_label: str,
    env_vars: Mapping[str, str],
) -> ConfigError:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    cause = context.get("error")
    kind = error["type"]
    if isinstance(cause, KeyedValueError):
        loc, message = cause.loc, str(cause)
    elif isinstance(cause, ValueError):
        message = str(cause)
    elif kind == "extra_forbidden":
        message = "unknown key" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
    elif kind == "missing":
        message = "is required"
    elif loc == ("modem",) and kind.endswith("_type"):
        message = "must be a list of [[modem]] tables"
    elif loc[:1] == ("modem",) and len(loc) == 2 and kind.endswith("_type"):
        message = "must be a [[modem]] table with name and port"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "must be a table"
    elif "input" in error and not _is_secret(loc):
        message = f"{message[:1].lower()}{message[1:]} (got {_short(error['input'])})"
    return ConfigError(message, file=_source_of(loc, file_label, env_vars), key=_dotted(loc))


def _source_of(
    loc: tuple[str | int, ...],
    file_label: str,
    env_vars: Mapping[str, str],
) -> str:
    """Which input a key came from: the env variable that set it, else the file."""
    if not loc:
        return file_label
    section = str(loc[0]).upper()
    if len(loc) > 1 and section != "MODEM":
        single = f"{ENV_PREFIX}{section}{ENV_DELIMITER}{str(loc[1]).upper()}"
        if single in env_vars:
            return f"env {single}"
    whole = f"{ENV_PREFIX}{section}"
    if whole in env_vars:
        return f"env {whole}"
    return file_label


def _fields_at(loc: tuple[str | int, ...]) -> Mapping[str, Any]:
    if not loc:
        return Settings.model_fields
    model = section_model(str(loc[0]))
    return model.model_fields if model is not None else {}


def did_you_mean(word: str, candidates: Mapping[str, Any]) -> str:
    names = list(candidates)
    close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _is_secret(loc: tuple[str | int, ...]) -> bool:
    names = [part for part in loc if isinstance(part, str)]
    return ".".join(names) in Settings.SECRET_KEYS


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
