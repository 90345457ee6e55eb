"""What the REST API needs from the running gateway, and nothing more.

The API layer never talks to modems or the webhook dispatcher itself: `smsgw run` hands
`create_app` an object satisfying `ApiServices`.  Keeping this seam a small Protocol lets
the API be tested against a fake over a real store, and lets the gateway change freely
behind it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Protocol

from smsgw.config import Settings
from smsgw.store import Database
from smsgw.store.types import Enqueued

__all__ = ["ApiServices", "ModemView", "SubmitRejected"]


class SubmitRejected(Exception):
    """The gateway refuses a send.

    `status_code` is 422 (unknown modem, too many parts, empty text) or 429 (daily limit
    reached); `detail` is the human message the API returns as ``{"detail": ...}``.
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclasses.dataclass(frozen=True, slots=True)
class ModemView:
    """One row of ``GET /api/v1/modems``: what an operator needs to see at a glance."""

    name: str
    node: str
    port: str
    state: str
    reason: str | None
    manufacturer: str | None
    model: str | None
    revision: str | None
    operator: str | None
    signal_dbm: int | None
    registration: str | None
    storage_used: int | None
    storage_total: int | None
    counters: dict[str, int]  # e.g. received, sent, failed, today
    last_seen: datetime | None  # heartbeat (for other nodes' modems)


class ApiServices(Protocol):
    """Implemented by the gateway daemon; the API's only dependency on it."""

    settings: Settings
    db: Database
    api_key: str

    async def submit(
        self,
        *,
        to: str,
        text: str,
        modem: str | None,
        delivery_report: bool,
        idempotency_key: str | None,
    ) -> Enqueued:
        """Queue an outgoing message and wake the modem worker.

        `to` is already validated and normalised to E.164 by the API (phonenumbers,
        ``api.default_region``) and `text` is non-empty.  Raises `SubmitRejected`.
        """
        ...

    async def modems(self) -> list[ModemView]:
        """Current state of every known modem (this node's live view plus heartbeats)."""
        ...

    async def ready(self) -> tuple[bool, str]:
        """True when the DB is reachable and at least one modem is READY; and why not."""
        ...

    def wake_webhook(self) -> None:
        """Tell the webhook dispatcher an event became due now (a dead letter was retried).

        Without it the dispatcher sleeps until its next known due event or its idle poll
        (30 s), so "Retry now" would not be now.  A no-op when no webhook is configured.
        """
        ...
