"""The scheduler: turns `scheduled` messages into `queued` ones when their `send_at` comes.

It sleeps until the earliest due time the store knows (one indexed `min()`), so an idle
gateway does no work for it: no polling loop, no timer ticking. It is woken early when a
message is scheduled (on this node by admission, on any node through the queue
notifications on PostgreSQL), re-reads the earliest due time and sleeps again. Whichever node
wakes first releases a due message; the release is an UPDATE that re-checks each row, so a
message is queued once however many nodes are up, and the ordinary claim then hands it to
one modem. The state is only in the database: after a restart (or `kill -9`) the first read
finds what is due, overdue messages go at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from smsgw.store import Database, repository

log = logging.getLogger(__name__)

__all__ = ["MAX_SLEEP", "Scheduler"]

#: Longest sleep without a known due time: a safety net should a wake-up be lost (e.g. a
#: notification while another node's listener reconnected). One cheap query per period.
MAX_SLEEP = 300.0
#: Pause after a database failure before trying again.
ERROR_PAUSE = 2.0


class Scheduler:
    """Run `run()` as a task; call `wake()` when a message was scheduled."""

    def __init__(
        self,
        db: Database,
        *,
        on_released: Callable[[str | None], None],
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self._db = db
        self._on_released = on_released
        self._max_sleep = max_sleep
        self._wakeup = asyncio.Event()
        #: How many times the loop looked at the store (for the idle-cost test and bench).
        self.rounds = 0

    def wake(self) -> None:
        """Re-read the earliest due time now (a message was scheduled, maybe earlier)."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                delay = await self.release_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled messages unavailable; trying again")
                delay = ERROR_PAUSE
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wakeup.wait()

    async def release_due(self) -> float:
        """Queue what is due now; seconds until the next due message (capped)."""
        self.rounds += 1
        for modem in await repository.release_due_scheduled(self._db):
            self._on_released(modem)
        next_due = await repository.next_scheduled_at(self._db)
        if next_due is None:
            return self._max_sleep
        wait = (next_due - self._db.clock()).total_seconds()
        return min(max(wait, 0.0), self._max_sleep)
