"""The TOML sections, one pydantic model per `[table]` (`[[modem]]` is in `modem_section`).

Each model validates its own keys and nothing else: cross-section rules (unique modem names
and ports) live on the root `Settings`. The models are named `...Section` so they are never
mistaken for the runtime settings other layers build from them (the modem driver's
`ModemSettings`, the webhook dispatcher's `WebhookSettings`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from smsgw.config.base import StrictSection
from smsgw.config.durations import Duration, Seconds, format_duration
from smsgw.config.quiet import QuietHours, parse_quiet_hours, parse_zone
from smsgw.config.urls import check_database_url

__all__ = [
    "MIN_API_KEY_LENGTH",
    "ApiSection",
    "DatabaseSection",
    "LimitsSection",
    "LogSection",
    "NodeSection",
    "OptOutSection",
    "UiSection",
    "WebhookSection",
    "api_key_too_short",
]


class DatabaseSection(StrictSection):
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


class ApiSection(StrictSection):
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


class WebhookSection(StrictSection):
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


class LimitsSection(StrictSection):
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
    quiet_hours: str = Field(
        default="",
        description='Daily window ("21:00-08:00", local time in `timezone`) in which client '
        "sends wait until it ends; auto-replies are never held. Empty: none.",
    )
    timezone: str = Field(
        default="UTC", description="IANA time zone of quiet_hours, e.g. Europe/Bucharest."
    )
    defer_over_limit: bool = Field(
        default=False,
        description="A send over daily_per_modem waits for the next (UTC) day instead of "
        "being refused with 429.",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        if value.strip():
            parse_quiet_hours(value)
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        parse_zone(value.strip())
        return value.strip()

    def quiet(self) -> QuietHours | None:
        """The quiet-hours window, or None when none is configured."""
        if not self.quiet_hours:
            return None
        start, end = parse_quiet_hours(self.quiet_hours)
        return QuietHours(start=start, end=end, zone=parse_zone(self.timezone))


_MAX_KEYWORDS = 32
_MAX_KEYWORD_CHARS = 32


class OptOutSection(StrictSection):
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


class NodeSection(StrictSection):
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


class UiSection(StrictSection):
    """`[ui]`: the operator inbox under /ui (signed in with the API key)."""

    enabled: bool = Field(default=True, description="Serve the web inbox at /ui.")


class LogSection(StrictSection):
    """`[log]`: how chatty the daemon is (`--debug` on the command line forces debug)."""

    level: Literal["debug", "info", "warning", "error"] = Field(default="info")

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value
