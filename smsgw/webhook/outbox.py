"""The durable outbox as the dispatcher sees it.

The store persists events; the gateway adapts the store to this Protocol, so the webhook
package never imports the store (and can be tested against an in-memory outbox).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence, Set
from typing import Protocol

from smsgw.models import OutboxEntry


class Outbox(Protocol):
    """Pending webhook events, ordered per peer.

    `OutboxEntry.attempts` counts attempts already *finished* for the entry; each
    `complete` / `retry_later` / `dead_letter` / `drop` call records one more. Every method
    must be atomic (one transaction): the dispatcher may be cancelled around any of them, and
    an entry whose outcome was not recorded is simply posted again, with the same body and
    `Idempotency-Key`.
    """

    async def claim_due(
        self, now: datetime.datetime, *, exclude_peers: Set[str], limit: int
    ) -> Sequence[OutboxEntry]:
        """At most `limit` pending entries, at most ONE per peer, none for `exclude_peers`.

        For each peer only its oldest pending entry (by creation) is a candidate, and only
        when it is due (`next_attempt_at <= now`, new entries are due at once). A peer whose
        oldest entry waits for a retry yields nothing, even if newer entries exist: that is
        what keeps one peer's events in order. Peers are returned oldest first.
        """
        ...

    async def next_due_at(self, *, exclude_peers: Set[str]) -> datetime.datetime | None:
        """When the earliest head-of-peer entry (outside `exclude_peers`) becomes due, or None
        when nothing is pending. Lets the dispatcher sleep exactly until the next retry.

        May be approximate (e.g. the minimum over all pending entries): an early answer only
        costs a wasted check, and a time in the past makes the dispatcher re-check after
        `STALE_DUE_PAUSE`, not spin."""
        ...

    async def complete(self, entry: OutboxEntry, http_status: int, reply_text: str | None) -> None:
        """The webhook accepted the event (2xx). `reply_text` is the auto-reply to send to
        `entry.peer` (incoming_sms only), or None. One call so the gateway can mark the event
        delivered and enqueue the reply in the same transaction."""
        ...

    async def retry_later(
        self, entry: OutboxEntry, next_attempt_at: datetime.datetime, error: str
    ) -> None:
        """The attempt failed; keep the entry pending until `next_attempt_at`."""
        ...

    async def dead_letter(self, entry: OutboxEntry, error: str) -> None:
        """Failed past `max_age`: stop trying, keep it visible (API, CLI)."""
        ...

    async def drop(self, entry: OutboxEntry, reason: str) -> None:
        """The webhook answered 410 Gone: stop trying, on purpose."""
        ...
