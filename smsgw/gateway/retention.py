"""The daemon's pruning loop for `[retention]` (CONTRACT.md §11).

Once at start and then every `interval`, old messages and old webhook events are deleted in
batches of `batch` rows (`repository.prune_messages` / `prune_events`: one short transaction
each) with a `pause` between batches, so an SMS arriving meanwhile waits for one small batch
at most, never for the whole backlog. A year of history on a Pi is pruned over minutes
rather than in one long write lock. An age of 0 keeps that kind of row for ever.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Protocol

from smsgw.config import RetentionSection
from smsgw.exceptions import StoreError
from smsgw.store import Database, repository
from smsgw.store.repository.retention import DEFAULT_BATCH

__all__ = ["Retention"]

log = logging.getLogger(__name__)

#: How often old rows are looked for: retention is counted in days, an hour late is nothing.
INTERVAL = 3600.0
#: Between two batches: room for the gateway's own writes.
PAUSE = 0.5


class Retention:
    """Prunes what `[retention]` says is too old; `run` is the background loop."""

    def __init__(
        self,
        db: Database,
        settings: RetentionSection,
        *,
        batch: int = DEFAULT_BATCH,
        pause: float = PAUSE,
        interval: float = INTERVAL,
    ) -> None:
        self._db = db
        self._settings = settings
        self._batch = batch
        self._pause = pause
        self._interval = interval

    @property
    def enabled(self) -> bool:
        return bool(self._settings.messages or self._settings.events)

    async def prune_once(self) -> tuple[int, int]:
        """Delete everything too old, batch by batch; (messages, events) deleted."""
        messages = await self._drain(repository.prune_messages, self._settings.messages)
        events = await self._drain(repository.prune_events, self._settings.events)
        if messages or events:
            log.info(
                "retention: deleted %d message(s) older than %s and %d webhook event(s) "
                "older than %s",
                messages,
                self._settings.messages,
                events,
                self._settings.events,
            )
        return messages, events

    async def _drain(self, prune: _Prune, older_than: datetime.timedelta) -> int:
        if not older_than:
            return 0
        total = 0
        while True:
            deleted = await prune(self._db, older_than=older_than, batch=self._batch)
            total += deleted
            if deleted < self._batch:
                return total
            await asyncio.sleep(self._pause)

    async def run(self) -> None:
        """Prune now and then every `interval`; a database error waits for the next turn."""
        while True:
            try:
                await self.prune_once()
            except StoreError as error:
                log.error("retention: pruning failed, trying again later: %s", error)
            await asyncio.sleep(self._interval)


class _Prune(Protocol):
    """`repository.prune_messages` or `repository.prune_events`."""

    async def __call__(
        self, db: Database, *, older_than: datetime.timedelta, batch: int
    ) -> int: ...
