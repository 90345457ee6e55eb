"""Configuration: one TOML file plus `SMSGW_<SECTION>__<KEY>` environment overrides.

Why this shape: a gateway on a Raspberry Pi is configured once in `/etc/smsgw/smsgw.toml`
and sometimes tweaked from a systemd drop-in or a container's environment, so the file is
the base and the environment wins key by key. Every key is validated up front, and a bad one
stops the daemon *before* it touches a modem, with the file, the dotted key (`modem[1].baud`)
and what is wrong. Unknown keys are errors too: a typo (`histroy_size`) must not silently
fall back to a default.

Environment overrides (the variable names are case-insensitive):

- `SMSGW_<SECTION>__<KEY>` sets one scalar, e.g. `SMSGW_API__LISTEN=0.0.0.0:8080`,
  `SMSGW_WEBHOOK__MAX_AGE=2d`. It overrides only that key; the rest of the section still
  comes from the file.
- `SMSGW_<SECTION>` holding a JSON object sets several keys of a section at once.
- `SMSGW_MODEM` holding a JSON array of modem tables *replaces* the file's whole
  `[[modem]]` list (lists cannot be merged element by element in a way anyone can predict),
  e.g. `SMSGW_MODEM='[{"name": "sim800", "port": "/dev/smsgw/sim800"}]'`.
- `SMSGW_STATE_DIR` is not a configuration key: it chooses the state directory (see
  `state_dir`).

This module is a leaf: it imports pydantic and pydantic-settings, never another smsgw layer.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
import secrets
import socket
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from smsgw.exceptions import ConfigError

__all__ = [
    "API_KEY_FILENAME",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "MAX_DURATION",
    "ApiSettings",
    "DatabaseSettings",
    "InvalidConfig",
    "LimitsSettings",
    "LogSettings",
    "ModemSettings",
    "NodeSettings",
    "Settings",
    "UiSettings",
    "WebhookSettings",
    "default_config_path",
    "default_database_url",
    "ensure_api_key",
    "format_duration",
    "load_settings",
    "masked",
    "parse_duration",
    "state_dir",
    "to_json",
]

DEFAULT_CONFIG_PATH = Path("/etc/smsgw/smsgw.toml")
ENV_PREFIX = "SMSGW_"
ENV_DELIMITER = "__"
API_KEY_FILENAME = "api-key"
DATABASE_FILENAME = "smsgw.db"
MASK = "********"

# --------------------------------------------------------------------------------------------
# Durations: "90s", "10m", "48h", "2d", "1h30m", or a plain number of seconds.
# --------------------------------------------------------------------------------------------

MAX_DURATION = timedelta(days=3650)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(value: object) -> timedelta:
    """Turn `"48h"`-style text (or a number of seconds) into a timedelta.

    Accepted: one or more `<number><unit>` parts with units s, m, h, d, w (`"90s"`, `"10m"`,
    `"1h30m"`, `"2d"`), a bare number of seconds (`30`, `"30"`, `1.5`), or a timedelta.
    Negative values are rejected here; each field sets its own lower bound on top.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError("expected a duration such as '90s', '10m', '48h' or '2d'")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value)
    else:
        raise ValueError("expected a duration such as '90s', '10m', '48h' or '2d'")
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"a duration must be at most {MAX_DURATION.days} days")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


def _parse_duration_text(text: str) -> float:
    compact = text.strip().lower().replace(" ", "")
    try:
        return float(compact)
    except ValueError:
        pass
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not compact or position != len(compact):
        raise ValueError(
            f"{text!r} is not a duration; use a number with a unit: '90s', '10m', '48h', '2d'"
        )
    return total


def format_duration(value: timedelta) -> str:
    """Compact `"1d2h"`-style text (biggest units first) that `parse_duration` reads back."""
    seconds = value.total_seconds()
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining = int(seconds)
    if remaining == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


def _seconds(value: object) -> float:
    """A plain-seconds field that also accepts the duration syntax (`timeout = "10s"`)."""
    return parse_duration(value).total_seconds()


Seconds = Annotated[float, BeforeValidator(_seconds)]

# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


class _Section(BaseModel):
    """Every section rejects unknown keys and validates defaults like given values."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


class DatabaseSettings(_Section):
    """`[database]`: where messages, status events and the webhook outbox live."""

    url: str = Field(
        default="",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB. "
        "Empty: an SQLite file in the state directory.",
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be an sqlite:/// or postgresql+asyncpg:// URL")
        return value


class ApiSettings(_Section):
    """`[api]`: the REST API the daemon serves."""

    listen: str = Field(
        default="127.0.0.1:8080", description="HOST:PORT to listen on ([::1]:8080 for IPv6)."
    )
    key: SecretStr = Field(
        default=SecretStr(""),
        description="API key for X-API-Key / Bearer. Empty: generated at first start and "
        "stored (mode 0600) in the state directory.",
    )
    default_region: str = Field(
        default="RO", description="ISO 3166 region for numbers written without +country code."
    )

    @field_validator("key")
    @classmethod
    def _header_safe_key(cls, value: SecretStr) -> SecretStr:
        if not all("!" <= char <= "~" for char in value.get_secret_value()):
            raise ValueError("must be printable ASCII without spaces (it is sent as a header)")
        return value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        _split_host_port(value)
        return value.strip()

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise ValueError(f"{value!r} is not a two-letter region code such as 'RO' or 'DE'")
        return region

    @property
    def host(self) -> str:
        """Host part of `listen` (IPv6 without brackets)."""
        return _split_host_port(self.listen)[0]

    @property
    def port(self) -> int:
        """Port part of `listen`."""
        return _split_host_port(self.listen)[1]


def _split_host_port(value: str) -> tuple[str, int]:
    text = value.strip()
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([^:\[\]\s]+):(\d+)", text)
    if match is None:
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if match.group(1):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1-65535")
    return host, port


class WebhookSettings(_Section):
    """`[webhook]`: where incoming messages and status changes are POSTed."""

    url: str = Field(
        default="", description="http(s) URL to POST events to. Empty: no webhook (store only)."
    )
    secret: SecretStr = Field(
        default=SecretStr(""),
        description="Sent as X-API-Key and keys the X-Signature HMAC. Empty: neither.",
    )
    history_size: Literal[0, 5, 10, 20, 50] = Field(
        default=10, description="Earlier messages with the same peer included in each payload."
    )
    timeout: Seconds = Field(default=10.0, gt=0, le=300, description="Per-request timeout (s).")
    max_age: Duration = Field(
        default=timedelta(hours=48), description="Give up delivering an event after this long."
    )
    backoff_initial: Duration = Field(
        default=timedelta(seconds=5), description="First retry delay; doubled per attempt."
    )
    backoff_max: Duration = Field(
        default=timedelta(minutes=10), description="Longest delay between two retries."
    )

    @field_validator("secret")
    @classmethod
    def _header_safe_secret(cls, value: SecretStr) -> SecretStr:
        if not all(" " <= char <= "~" for char in value.get_secret_value()):
            raise ValueError("must be printable ASCII (it is sent as the X-API-Key header)")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("max_age", "backoff_initial", "backoff_max")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> WebhookSettings:
        if self.backoff_initial > self.backoff_max:
            raise ValueError("backoff_initial must not be longer than backoff_max")
        return self


class LimitsSettings(_Section):
    """`[limits]`: protect the SIM (operator caps), the wallet and the peers."""

    daily_per_modem: int = Field(default=10000, ge=1, description="SMS parts per modem per day.")
    max_parts: int = Field(default=6, ge=1, le=255, description="Longest message, in parts.")
    replies_per_peer_per_hour: int = Field(
        default=30, ge=0, description="Auto-replies to one number per hour (0: none)."
    )


def _hostname() -> str:
    return socket.gethostname() or "smsgw"


class NodeSettings(_Section):
    """`[node]`: identity of this host when several gateways share one PostgreSQL."""

    name: str = Field(default_factory=_hostname, description="Unique per host. Default: hostname.")
    heartbeat_interval: Duration = Field(
        default=timedelta(seconds=15),
        description="How often this node tells the database it is alive (and renews its leases).",
    )
    lease: Duration = Field(
        default=timedelta(minutes=2),
        description="How long after its last heartbeat a node counts as dead: its unfinished "
        "sends are then reported interrupted and its webhook events taken over by other nodes.",
    )

    @field_validator("name")
    @classmethod
    def _token(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", value):
            raise ValueError(f"{value!r} is not a node name: 1-63 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("heartbeat_interval")
    @classmethod
    def _heartbeat_bounds(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=0.1):
            raise ValueError("must be at least 0.1s")
        return value

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> NodeSettings:
        # A live node renews its leases every heartbeat; with less than two heartbeats of
        # margin, one slow database round would make other nodes take a live node for dead.
        if self.lease < 3 * self.heartbeat_interval:
            raise ValueError(
                f"node.lease ({format_duration(self.lease)}) must be at least three "
                f"node.heartbeat_interval ({format_duration(self.heartbeat_interval)})"
            )
        return self


class UiSettings(_Section):
    """`[ui]`: the operator inbox under /ui (signed in with the API key)."""

    enabled: bool = Field(default=True, description="Serve the web inbox at /ui.")


class LogSettings(_Section):
    """`[log]`: how chatty the daemon is (`--debug` on the command line forces debug)."""

    level: Literal["debug", "info", "warning", "error"] = Field(default="info")

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class ModemSettings(_Section):
    """One `[[modem]]` table: a serial port with a GSM modem behind it."""

    name: str = Field(description="Unique short name, used in the API and the database.")
    port: str = Field(description="Serial device, e.g. /dev/smsgw/sim800 or /dev/serial0.")
    baud: int = Field(default=115200, description="Serial speed (SIM800 autobauds).")
    pin: SecretStr = Field(
        default=SecretStr(""), description="SIM PIN, entered once (never retried)."
    )
    dialect: Literal["auto", "sim800", "huawei", "generic"] = Field(
        default="auto", description="auto: identify by AT+CGMI/AT+CGMM."
    )
    health_interval: Duration = Field(
        default=timedelta(seconds=30), description="How often signal and registration are polled."
    )
    sweep_interval: Duration = Field(
        default=timedelta(minutes=5),
        description="How often SIM storage is listed for messages whose +CMTI was missed.",
    )
    number: str | None = Field(
        default=None,
        description="The SIM's own number, sent as `recipient` in incoming_sms; "
        "empty: read it from the SIM (AT+CNUM), which most prepaid SIMs do not store.",
    )

    @field_validator("number")
    @classmethod
    def _phone_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        number = "".join(value.split())
        if not re.fullmatch(r"\+?[0-9]{3,20}", number):
            raise ValueError(f"{value!r} is not a phone number, e.g. +40721000000")
        return number

    @field_validator("name")
    @classmethod
    def _token(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", value):
            raise ValueError(
                f"{value!r} is not a modem name: 1-32 letters, digits, '.', '_' or '-'"
            )
        return value

    @field_validator("port")
    @classmethod
    def _nonempty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a serial device, e.g. /dev/smsgw/sim800")
        return value.strip()

    @field_validator("baud")
    @classmethod
    def _standard_baud(cls, value: int) -> int:
        if value not in _BAUD_RATES:
            raise ValueError(f"{value} is not one of {', '.join(map(str, _BAUD_RATES))}")
        return value

    @field_validator("pin")
    @classmethod
    def _pin_digits(cls, value: SecretStr) -> SecretStr:
        pin = value.get_secret_value().strip()
        if pin and not re.fullmatch(r"\d{4,8}", pin):
            raise ValueError("a SIM PIN is 4 to 8 digits")
        return SecretStr(pin)

    @field_validator("health_interval", "sweep_interval")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class Settings(BaseSettings):
    """The whole configuration, one attribute per TOML section.

    `Settings()` alone reads only the process environment; `load_settings` is what the
    commands use (file + environment, with errors that name the file and key).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    node: NodeSettings = Field(default_factory=NodeSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    modem: list[ModemSettings] = Field(default_factory=list)

    SECRET_KEYS: ClassVar[frozenset[str]] = frozenset({"api.key", "webhook.secret", "modem.pin"})

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, data: Any) -> Any:
        """Direct `Settings(...)` gets the same default database as `load_settings`."""
        if isinstance(data, dict):
            database = data.get("database")
            if isinstance(database, DatabaseSettings):
                database = database.model_dump()
            if database is None or (isinstance(database, dict) and not database.get("url")):
                url = default_database_url(state_dir())
                data = {**data, "database": {**(database or {}), "url": url}}
        return data

    @model_validator(mode="after")
    def _unique_modems(self) -> Settings:
        seen: dict[str, int] = {}
        for index, modem in enumerate(self.modem):
            if modem.name in seen:
                raise _KeyedValueError(
                    ("modem", index, "name"),
                    f"duplicate modem name {modem.name!r} (also modem[{seen[modem.name]}])",
                )
            seen[modem.name] = index
        ports: dict[str, int] = {}
        for index, modem in enumerate(self.modem):
            if modem.port in ports:
                raise _KeyedValueError(
                    ("modem", index, "port"),
                    f"port {modem.port!r} is already used by modem[{ports[modem.port]}]",
                )
            ports[modem.port] = index
        return self

    def modem_named(self, name: str) -> ModemSettings:
        """The `[[modem]]` with this name; KeyError when there is none."""
        for modem in self.modem:
            if modem.name == name:
                return modem
        raise KeyError(name)


class _KeyedValueError(ValueError):
    """A cross-field problem that still knows which key to blame."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


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


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the generated API key and the default SQLite file live (CONTRACT.md §5).

    `$STATE_DIRECTORY` when systemd sets it (first entry if it lists several), else
    `SMSGW_STATE_DIR`, else `/var/lib/smsgw` for root and `~/.local/state/smsgw` otherwise.
    """
    environ = os.environ if env is None else env
    systemd_dirs = environ.get("STATE_DIRECTORY", "")
    if systemd_dirs.strip():
        return Path(systemd_dirs.split(":")[0])
    explicit = environ.get("SMSGW_STATE_DIR", "")
    if explicit.strip():
        return Path(explicit).expanduser()
    if os.geteuid() == 0:
        return Path("/var/lib/smsgw")
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "state" / "smsgw"


def default_database_url(directory: Path) -> str:
    """The SQLite file used when `[database] url` is not set."""
    return f"sqlite:///{directory / DATABASE_FILENAME}"


def default_config_path() -> Path | None:
    """`/etc/smsgw/smsgw.toml` when it exists, else None (defaults + environment only)."""
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


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
        problems += [_problem(error, file_label, env_vars) for error in exc.errors()]
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
        model = _section_model(section)
        if model is None:
            hint = _did_you_mean(section, Settings.model_fields)
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
            hint = _did_you_mean(key, model.model_fields)
            problems.append(
                ConfigError(f"unknown key{hint}", file=f"env {name}", key=f"{section}.{key}")
            )
    return problems


def _section_model(section: str) -> type[BaseModel] | None:
    field = Settings.model_fields.get(section)
    if field is None:
        return None
    if section == "modem":
        return ModemSettings
    annotation = field.annotation
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _problem(
    error: Mapping[str, Any],
    file_label: str,
    env_vars: Mapping[str, str],
) -> ConfigError:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    cause = context.get("error")
    kind = error["type"]
    if isinstance(cause, _KeyedValueError):
        loc, message = cause.loc, str(cause)
    elif isinstance(cause, ValueError):
        message = str(cause)
    elif kind == "extra_forbidden":
        message = "unknown key" + _did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
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
    model = _section_model(str(loc[0]))
    return model.model_fields if model is not None else {}


def _did_you_mean(word: str, candidates: Mapping[str, Any]) -> str:
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


# --------------------------------------------------------------------------------------------
# API key and printing
# --------------------------------------------------------------------------------------------


def ensure_api_key(settings: Settings, directory: Path) -> tuple[str, Path | None]:
    """The API key to enforce, and the file it lives in when it was generated.

    A configured `api.key` wins (path None). Otherwise the key is read from
    `<state dir>/api-key`, or generated there at first start (`secrets.token_urlsafe(32)`,
    file mode 0600, directory 0700) so the API is never open by accident.
    """
    configured = settings.api.key.get_secret_value()
    if configured:
        return configured, None
    key_file = directory / API_KEY_FILENAME
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key_file(key_file), key_file
        key = secrets.token_urlsafe(32)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        return key, key_file
    except OSError as exc:
        raise ConfigError(
            f"cannot create the API key file: {exc.strerror or exc}",
            file=str(key_file),
            key="api.key",
        ) from None


def _read_key_file(key_file: Path) -> str:
    mode = key_file.stat().st_mode
    if mode & 0o077:
        os.chmod(key_file, 0o600)
    key = key_file.read_text(encoding="ascii", errors="replace").strip()
    if not key or any(ch.isspace() for ch in key):
        raise ConfigError(
            "the stored API key is empty or malformed; delete the file to generate a new one",
            file=str(key_file),
            key="api.key",
        )
    return key


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain JSON-able data with secrets masked.

    Secrets show `********` when set and `""` when empty (so one can see *whether* they are
    configured); passwords inside URLs are masked too. Durations print as `"48h"`.
    """
    data = settings.model_dump(mode="json")
    data["api"]["key"] = _mask(settings.api.key)
    data["webhook"]["secret"] = _mask(settings.webhook.secret)
    data["webhook"]["url"] = _mask_url(settings.webhook.url)
    data["database"]["url"] = _mask_url(settings.database.url)
    for dumped, modem in zip(data["modem"], settings.modem, strict=True):
        dumped["pin"] = _mask(modem.pin)
    return data


def _mask(secret: SecretStr) -> str:
    return MASK if secret.get_secret_value() else ""


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:{MASK}"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def to_json(settings: Settings) -> str:
    """`masked(settings)` as indented JSON (what `smsgw config check --json` prints)."""
    return json.dumps(masked(settings), indent=2, ensure_ascii=False)
