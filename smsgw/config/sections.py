"""The TOML sections, one pydantic model per `[table]` (and `[[modem]]`).

Each model validates its own keys and nothing else: cross-section rules (unique modem names
and ports) live on the root `Settings`. The models are named `...Section` so they are never
mistaken for the runtime settings other layers build from them (the modem driver's
`ModemSection`, the webhook dispatcher's `WebhookSection`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from smsgw.config.durations import Duration, Seconds, format_duration
from smsgw.config.modem_options import ModemOptions
from smsgw.config.urls import check_database_url

__all__ = [
    "MIN_API_KEY_LENGTH",
    "ApiSection",
    "DatabaseSection",
    "LimitsSection",
    "LogSection",
    "ModemSection",
    "NodeSection",
    "OptOutSection",
    "UiSection",
    "WebhookSection",
    "api_key_too_short",
]


class _Section(BaseModel):
    """Every section rejects unknown keys and validates defaults like given values."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


class DatabaseSection(_Section):
    """`[database]`: where messages, status events and the webhook outbox live."""

    url: str = Field(
        default="",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB. "
        "Empty: an SQLite file in the state directory.",
    )

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)


#: Shorter keys are refused: the API and the web inbox are reachable from the LAN, and a key
#: like "1" or "admin" is guessed in seconds even with throttling.
MIN_API_KEY_LENGTH = 16


def api_key_too_short(length: int) -> str:
    """The one message for a short key, whether it came from the configuration or a file."""
    return (
        f"is {length} characters long; use at least {MIN_API_KEY_LENGTH} "
        "(e.g. `openssl rand -hex 16`), or leave api.key empty to have one generated"
    )


class ApiSection(_Section):
    """`[api]`: the REST API the daemon serves."""

    listen: str = Field(
        default="127.0.0.1:8080", description="HOST:PORT to listen on ([::1]:8080 for IPv6)."
    )
    key: SecretStr = Field(
        default=SecretStr(""),
        description=f"API key for X-API-Key / Bearer, at least {MIN_API_KEY_LENGTH} characters. "
        "Empty: generated at first start and stored (mode 0600) in the state directory.",
    )
    default_region: str = Field(
        default="",
        description="ISO 3166 region (e.g. 'RO', 'DE') for numbers written without +country "
        "code. Empty: such numbers are refused, since guessing a country sends to a stranger.",
    )
    public_metrics: bool = Field(
        default=True,
        description="Serve /metrics, /docs and /openapi.json without the API key. false: they "
        "need the key like /api/ (Prometheus: authorization credentials).",
    )

    @field_validator("key")
    @classmethod
    def _strong_header_safe_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if not all("!" <= char <= "~" for char in key):
            raise ValueError("must be printable ASCII without spaces (it is sent as a header)")
        if 0 < len(key) < MIN_API_KEY_LENGTH:
            raise ValueError(api_key_too_short(len(key)))
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
        if region and not re.fullmatch(r"[A-Z]{2}", region):
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


class WebhookSection(_Section):
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
    def _backoff_order(self) -> WebhookSection:
        if self.backoff_initial > self.backoff_max:
            raise ValueError("backoff_initial must not be longer than backoff_max")
        return self


class LimitsSection(_Section):
    """`[limits]`: protect the SIM (operator caps), the wallet and the peers."""

    daily_per_modem: int = Field(default=10000, ge=1, description="SMS parts per modem per day.")
    max_parts: int = Field(default=6, ge=1, le=255, description="Longest message, in parts.")
    replies_per_peer_per_hour: int = Field(
        default=30, ge=0, description="Auto-replies to one number per hour (0: none)."
    )
    send_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of a part refused with a transient +CMS ERROR (network timeout, "
        "no service, congestion, temporary failure) before the message counts as failed.",
    )


_MAX_KEYWORDS = 32
_MAX_KEYWORD_CHARS = 32


class OptOutSection(_Section):
    """`[optout]`: recipients who texted STOP get nothing more until they text START.

    The list itself is always honoured (numbers added through the API or the inbox are
    refused too); `enabled` turns on the keyword handling of incoming messages.
    """

    enabled: bool = Field(default=False, description="Act on STOP/START keywords received.")
    stop_words: list[str] = Field(
        default_factory=lambda: ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"],
        description="A message that is exactly one of these (case and accents ignored) "
        "puts its sender on the opt-out list.",
    )
    start_words: list[str] = Field(
        default_factory=lambda: ["START", "UNSTOP", "SUBSCRIBE"],
        description="A message that is exactly one of these takes its sender off the list.",
    )
    confirm_text: str = Field(
        default="You will receive no more messages from this number. Reply START to undo.",
        min_length=1,
        max_length=480,
        description="Sent to a sender who opted out (the webhook's own reply is not sent).",
    )
    start_confirm_text: str = Field(
        default="You will receive messages from this number again. Reply STOP to opt out.",
        min_length=1,
        max_length=480,
        description="Sent to a sender who opted back in.",
    )

    @field_validator("stop_words", "start_words")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if len(value) > _MAX_KEYWORDS:
            raise ValueError(f"at most {_MAX_KEYWORDS} keywords")
        cleaned = [word.strip() for word in value]
        if any(not word or len(word) > _MAX_KEYWORD_CHARS for word in cleaned):
            raise ValueError(f"keywords must be 1 to {_MAX_KEYWORD_CHARS} characters")
        return cleaned


def _hostname() -> str:
    return socket.gethostname() or "smsgw"


class NodeSection(_Section):
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
    def _lease_outlives_heartbeats(self) -> NodeSection:
        # A live node renews its leases every heartbeat; with less than two heartbeats of
        # margin, one slow database round would make other nodes take a live node for dead.
        if self.lease < 3 * self.heartbeat_interval:
            raise ValueError(
                f"node.lease ({format_duration(self.lease)}) must be at least three "
                f"node.heartbeat_interval ({format_duration(self.heartbeat_interval)})"
            )
        return self


class UiSection(_Section):
    """`[ui]`: the operator inbox under /ui (signed in with the API key)."""

    enabled: bool = Field(default=True, description="Serve the web inbox at /ui.")


class LogSection(_Section):
    """`[log]`: how chatty the daemon is (`--debug` on the command line forces debug)."""

    level: Literal["debug", "info", "warning", "error"] = Field(default="info")

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class ModemSection(_Section, ModemOptions):
    """One `[[modem]]` table: a serial port with a GSM modem behind it (and the balance,
    call and recovery keys of `ModemOptions`)."""

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
