"""A modem as MQTT shows it: the retained `<prefix>/<modem>/state` JSON (pure)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class ModemSnapshot:
    name: str
    state: str
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    operator: str | None = None
    signal_dbm: int | None = None
    registration: str | None = None
    storage_used: int | None = None
    storage_total: int | None = None
    sent_today: int | None = None
    received_today: int | None = None
    #: {"amount", "text", "checked_at"} once the balance has been read; None until then.
    balance: dict[str, Any] | None = None

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def state_fields(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "model": self.model,
            "operator": self.operator,
            "signal_dbm": self.signal_dbm,
            "registration": self.registration,
            "storage_used": self.storage_used,
            "storage_total": self.storage_total,
            "sent_today": self.sent_today,
            "received_today": self.received_today,
            "balance": self.balance,
        }

    def state_payload(self) -> bytes:
        return json.dumps(self.state_fields(), ensure_ascii=False, default=str).encode()
