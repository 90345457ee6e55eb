"""What the webhook layer needs from configuration, as a plain value the gateway fills in.

The TOML `[webhook]` section is parsed by `smsgw.config` and translated by
`smsgw.gateway.settings`; this dataclass keeps the dispatcher independent of how settings are
stored, and checks the few things that would otherwise only
fail at the first POST (a URL without a scheme, a secret that cannot be sent as a header).
"""

from __future__ import annotations

import dataclasses
import datetime
import urllib.parse

from smsgw.exceptions import ConfigError
from smsgw.webhook.retry import BackoffPolicy

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_AGE = datetime.timedelta(hours=48)


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Where and how to POST events.

    `timeout` bounds a whole attempt (connect, send, wait, read), in seconds. `max_age` is how
    long an event is retried before it is dead-lettered. `max_in_flight` caps concurrent POSTs
    (each to a different peer). `idle_poll` is the safety-net re-check of the outbox when
    nothing is known to be due (new events normally arrive through `wake()`).
    `max_response_bytes` bounds what is read of an answer: a reply is at most a few SMS parts.
    """

    url: str
    secret: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_age: datetime.timedelta = DEFAULT_MAX_AGE
    backoff: BackoffPolicy = dataclasses.field(default_factory=BackoffPolicy)
    max_in_flight: int = 16
    idle_poll: float = 30.0
    max_response_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"must be an http:// or https:// URL with a host, got {self.url!r}",
                key="webhook.url",
            )
        if not all(" " <= char <= "~" for char in self.secret):
            raise ConfigError(
                "must be printable ASCII (it is sent as the X-API-Key header)",
                key="webhook.secret",
            )
        if self.timeout <= 0:
            raise ConfigError(f"must be > 0 seconds, got {self.timeout}", key="webhook.timeout")
        if self.max_age <= datetime.timedelta(0):
            raise ConfigError(f"must be positive, got {self.max_age}", key="webhook.max_age")
        if self.max_in_flight < 1:
            raise ConfigError(f"must be >= 1, got {self.max_in_flight}", key="max_in_flight")
        if self.idle_poll <= 0:
            raise ConfigError(f"must be > 0 seconds, got {self.idle_poll}", key="idle_poll")
        if self.max_response_bytes < 1024:
            raise ConfigError(
                f"must be >= 1024, got {self.max_response_bytes}", key="max_response_bytes"
            )
