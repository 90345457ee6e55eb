"""The MQTT link as health, metrics and the web inbox show it (pure; no secret in it)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class MqttStatus:
    #: The broker URL with its password masked.
    broker: str
    connected: bool
    #: Events the broker acknowledged since start.
    published: int
    #: Publishes not acknowledged plus failed connection attempts, since start.
    failures: int
    #: Events still owed to the broker (the durable backlog); None until first counted.
    pending: int | None
    last_error: str | None
