"""The device's timers on a clock that moves only when told (`advance(now)`).

A reboot voids the timers of the previous power cycle (their generation is stale) except
the network's, which survive it (`survives_reboot`): the SMSC keeps its status reports
and retries whatever the module does.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class Clock:
    """A heap of (due time, order, generation, action)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.generation = 0
        self._timers: list[tuple[float, int, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def schedule(
        self, delay: float, action: Callable[[], None], *, survives_reboot: bool = False
    ) -> None:
        generation = -1 if survives_reboot else self.generation
        heapq.heappush(self._timers, (self.now + delay, next(self._order), generation, action))

    def new_generation(self) -> None:
        """Power was cut: every pending timer of this power cycle is void."""
        self.generation += 1

    def advance(self, now: float) -> None:
        """Move to `now` (never backwards) and run every timer that is due, in order."""
        self.now = max(self.now, now)
        while self._timers and self._timers[0][0] <= self.now:
            _, _, generation, action = heapq.heappop(self._timers)
            if generation in (self.generation, -1):
                action()

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None
