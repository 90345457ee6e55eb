"""`[mqtt]`: the MQTT broker link (events, per-modem state, send topics, Home Assistant).

Its own module rather than one more class in `sections`: the section carries its own URL
rules (`mqtt://` or `mqtts://`, credentials in the URL or in their own keys, so a password
can come from the environment instead of the file).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["MqttSection"]

#: A topic level smsgw writes into (prefix, discovery prefix): no wildcard, no empty level.
_TOPIC_ROOT = re.compile(r"[^\s#+\x00]+(/[^\s#+\x00]+)*")


class MqttSection(BaseModel):
    """`[mqtt]`: off while `url` is empty."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

    url: str = Field(
        default="",
        description="mqtt://[USER[:PASS]@]HOST[:PORT] (1883) or mqtts://... for TLS (8883). "
        "Empty: no MQTT.",
    )
    username: str = Field(default="", description="Broker user; overrides the URL's.")
    password: SecretStr = Field(
        default=SecretStr(""),
        description="Broker password; overrides the URL's (e.g. SMSGW_MQTT__PASSWORD).",
    )
    client_id: str = Field(default="", description='MQTT client id. Empty: "smsgw-<node.name>".')
    prefix: str = Field(default="smsgw", description="Root of every smsgw topic.")
    discovery: bool = Field(default=True, description="Publish Home Assistant discovery.")
    discovery_prefix: str = Field(
        default="homeassistant", description="Home Assistant's discovery prefix."
    )
    qos: Literal[0, 1, 2] = Field(
        default=1, description="QoS of events and send results (1: acknowledged by the broker)."
    )
    default_recipient: str = Field(
        default="", description="Where the Home Assistant notify entity sends (E.164)."
    )
    keepalive: int = Field(default=60, ge=5, le=3600, description="MQTT keepalive (s).")
    ca_file: str = Field(
        default="",
        description="PEM file of the CA that signed the broker's certificate (mqtts://). "
        "Empty: the system's CAs.",
    )

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as error:
            raise ValueError(f"not an mqtt:// URL ({error})") from None
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must be an mqtt:// or mqtts:// URL with a host")
        if port == 0:
            raise ValueError("port 0 is not a broker port")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("takes no path, query or fragment (topics are set by mqtt.prefix)")
        return value

    @field_validator("prefix", "discovery_prefix")
    @classmethod
    def _topic_root(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not _TOPIC_ROOT.fullmatch(value):
            raise ValueError(f"{value!r} is not a topic root (no '+', '#', spaces or empty levels)")
        return value

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        if len(value.encode()) > 128 or any(not " " < char <= "~" for char in value):
            raise ValueError("must be at most 128 printable ASCII characters without spaces")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    def credentials(self) -> tuple[str | None, str | None]:
        """(user, password): the keys when set, else the URL's userinfo, else None."""
        parts = urlsplit(self.url)
        user = self.username or (unquote(parts.username) if parts.username else None)
        secret = self.password.get_secret_value()
        password = secret or (unquote(parts.password) if parts.password else None)
        return user or None, password

    def client_id_for(self, node: str) -> str:
        return self.client_id or f"smsgw-{node}"
