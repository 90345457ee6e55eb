"""Per-client throttling of wrong API keys and wrong web inbox sign-ins.

Below both front ends because both count into one record per client: the REST API's key
check and the inbox's sign-in form must not each grant a guesser its own free tries.

A wrong key costs the client nothing today but a round trip, so a key can be guessed at
wire speed. After `free_failures` wrong tries a client (by IP address) is refused with 429
and ``Retry-After`` for a delay that doubles with every further failure, up to `max_delay`.
A correct key clears the client's record; so does `quiet` seconds without a failure.

Logged once per burst: the first failure of a burst is logged (with what follows); the rest
are only counted, so a guessing client cannot fill the journal either.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["AuthThrottle", "client_address"]

log = logging.getLogger(__name__)


def client_address(scope: Mapping[str, Any]) -> str:
    """The peer's IP address from an ASGI scope (behind a reverse proxy: the proxy's, see
    the README)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


@dataclasses.dataclass(slots=True)
class _Burst:
    failures: int
    last_failure: float
    blocked_until: float


class AuthThrottle:
    """Failure bookkeeping per client address; one instance shared by the API and the UI."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        quiet: float = 600.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.quiet = quiet
        self.max_clients = max_clients
        self._clock = clock
        self._bursts: OrderedDict[str, _Burst] = OrderedDict()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds `client` must wait before its next try counts, or None."""
        burst = self._current(client)
        if burst is None:
            return None
        wait = burst.blocked_until - self._clock()
        return math.ceil(wait) if wait > 0 else None

    def failed(self, client: str, what: str) -> None:
        """Record a wrong key or password from `client` (`what` names it for the log)."""
        now = self._clock()
        burst = self._current(client)
        if burst is None:
            log.warning(
                "%s from %s (further failures from this client are throttled after %d, "
                "and not logged until it signs in or stays quiet for %.0f s)",
                what,
                client,
                self.free_failures,
                self.quiet,
            )
            burst = _Burst(failures=0, last_failure=now, blocked_until=now)
            self._bursts[client] = burst
            while len(self._bursts) > self.max_clients:
                self._bursts.popitem(last=False)  # the longest-quiet client goes first
        self._bursts.move_to_end(client)
        burst.failures += 1
        burst.last_failure = now
        over = burst.failures - self.free_failures
        if over >= 0:
            burst.blocked_until = now + min(self.base_delay * 2**over, self.max_delay)

    def succeeded(self, client: str) -> None:
        """The right key: the client starts afresh."""
        self._bursts.pop(client, None)

    def _current(self, client: str) -> _Burst | None:
        burst = self._bursts.get(client)
        if burst is not None and self._clock() - burst.last_failure > self.quiet:
            del self._bursts[client]
            return None
        return burst
