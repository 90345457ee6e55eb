"""Every topic smsgw reads or writes, built in one place from `mqtt.prefix` (pure).

A modem or node name becomes one topic level; names are validated tokens (letters, digits,
`.`, `_`, `-`), and anything else is replaced so a name can never add a level or a wildcard.
"""

from __future__ import annotations

import dataclasses
import re

_NOT_A_LEVEL = re.compile(r"[/+#\s\x00]")


def level(name: str) -> str:
    """`name` as one safe topic level."""
    return _NOT_A_LEVEL.sub("_", name) or "_"


@dataclasses.dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    node: str

    @property
    def availability(self) -> str:
        return f"{self.prefix}/{level(self.node)}/availability"

    def state(self, modem: str) -> str:
        return f"{self.prefix}/{level(modem)}/state"

    def event(self, modem: str | None, kind: str) -> str:
        """Events not tied to one modem go under the node's name."""
        return f"{self.prefix}/{level(modem or self.node)}/event/{level(kind)}"

    def event_filter(self, modem: str) -> str:
        return f"{self.prefix}/{level(modem)}/event/+"

    @property
    def send(self) -> str:
        return f"{self.prefix}/send"

    def modem_send(self, modem: str) -> str:
        return f"{self.prefix}/{level(modem)}/send"

    @property
    def any_modem_send(self) -> str:
        return f"{self.prefix}/+/send"

    @property
    def send_result(self) -> str:
        return f"{self.prefix}/send/result"

    def notify(self, modem: str) -> str:
        """Home Assistant's notify entity publishes the message text here."""
        return f"{self.prefix}/{level(modem)}/notify"

    @property
    def any_modem_notify(self) -> str:
        return f"{self.prefix}/+/notify"

    def modem_of(self, topic: str) -> str | None:
        """The modem level of `<prefix>/<modem>/<...>`, or None for other topics."""
        head = self.prefix + "/"
        if not topic.startswith(head):
            return None
        rest = topic[len(head) :].split("/")
        return rest[0] if len(rest) >= 2 else None
