"""What the REST API needs from the running gateway, and nothing more.

The API layer never talks to modems or the webhook dispatcher itself: `smsgw run` hands
`create_app` an object satisfying `ApiServices`.  Keeping this seam a small Protocol lets
the API be tested against a fake over a real store, and lets the gateway change freely
behind it.
"""

from __future__ import annotations

from typing import Protocol

from smsgw.config import Settings
from smsgw.exceptions import SubmitRefused
from smsgw.models import ModemView
from smsgw.store import Database
from smsgw.store.types import Enqueued

__all__ = ["ApiServices", "ModemView", "SubmitRejected"]


#: The API's name for the gateway's refusal: the same class, so nothing has to translate it.
SubmitRejected = SubmitRefused


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
