"""Shared helpers for modem-layer tests: an event recorder and a polling wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from smsgw.modem.events import ModemEvent, StateChanged

E = TypeVar("E")


class Recorder:
    """An EventSink that keeps every event; `fail` makes it raise (a crashed consumer)."""

    def __init__(self) -> None:
        self.events: list[ModemEvent] = []
        self.fail = False

    async def __call__(self, event: ModemEvent) -> None:
        if self.fail and not isinstance(event, StateChanged):
            raise RuntimeError("consumer down")
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def states(self) -> list[str]:
        return [e.state.value for e in self.of(StateChanged)]

    def of_reason(self) -> str:
        """Every state-change reason so far, joined (for "why did it reconnect" checks)."""
        return " | ".join(e.reason for e in self.of(StateChanged))


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Poll `check` until true; fail the test with a clear message after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)
