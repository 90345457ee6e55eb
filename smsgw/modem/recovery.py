"""Radio recovery: a modem off the network for too long gets its radio restarted.

Modules do get stuck deregistered (a cell reselection gone wrong, a SIM800 after a brown-out
of its RF part) and many stay so until their radio is restarted. `RadioRecovery.watch` runs
beside the health check while the modem is READY:

* every `check_interval` it looks at the registration the modem last reported (``+CREG``
  URCs, set at initialisation), asking ``AT+CREG?`` only while that says "not registered"
  or nothing, so a registered modem costs no extra command;
* once the modem has been unregistered for `recover_after`, ``AT+CFUN=0`` / ``AT+CFUN=1``
  (logged, and a :class:`RadioRestarted` event), then it waits `recover_after` again;
* at most `max_per_hour` restarts in any hour; when the budget is spent a single
  :class:`RecoveryExhausted` event says so and the modem is left alone (its alert stays
  open) until the oldest restart is an hour old. A modem that stays broken is therefore
  restarted a few times an hour at most, never in a loop.

The restart times live in the `RadioRecovery` object, which the supervisor keeps across
reconnects, so a modem that also drops its USB link cannot reset the budget.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgw.exceptions import AtConnectionLost, AtError, AtResponseError
from smsgw.modem.events import ModemEvent, RadioRestarted, RecoveryExhausted

if TYPE_CHECKING:
    from smsgw.modem.base import Modem

__all__ = ["RadioRecovery"]

log = logging.getLogger(__name__)

HOUR = 3600.0


class RadioRecovery:
    """Restarts a stuck radio, within an hourly budget; see the module docstring."""

    def __init__(
        self,
        modem_id: str,
        emit: Callable[[ModemEvent], Awaitable[None]],
        *,
        recover_after: float,
        max_per_hour: int,
        check_interval: float,
        radio_pause: float = 2.0,
    ) -> None:
        self.modem_id = modem_id
        self._emit = emit
        self.recover_after = recover_after
        self.max_per_hour = max_per_hour
        self.check_interval = check_interval
        self._radio_pause = radio_pause
        self.restarts: collections.deque[float] = collections.deque()
        self._exhausted_reported = False

    async def watch(self, modem: Modem) -> None:
        """Run while `modem` is READY (cancelled by the supervisor when it is not)."""
        loop = asyncio.get_running_loop()
        unregistered_since: float | None = None
        while True:
            await asyncio.sleep(self.check_interval)
            registered = await self._registered(modem)
            if registered is None:
                continue
            now = loop.time()
            if registered:
                unregistered_since = None
                continue
            if unregistered_since is None:
                unregistered_since = now
            if now - unregistered_since < self.recover_after:
                continue
            if await self._restart(modem, now, now - unregistered_since):
                unregistered_since = loop.time()  # give the restart a full period to work

    async def _registered(self, modem: Modem) -> bool | None:
        """Registered (home or roaming)? None when the modem would not say."""
        known = modem.last_registration
        if known is not None and known.registered:
            return True
        try:
            return (await modem.registration()).registered
        except AtConnectionLost:
            raise
        except (AtError, AtResponseError) as exc:
            log.debug("%s: registration unknown: %s", self.modem_id, exc)
            return None

    async def _restart(self, modem: Modem, now: float, for_seconds: float) -> bool:
        """Restart the radio if the hourly budget allows; True when it did."""
        while self.restarts and now - self.restarts[0] >= HOUR:
            self.restarts.popleft()
        if len(self.restarts) >= self.max_per_hour:
            if not self._exhausted_reported:
                self._exhausted_reported = True
                reason = (
                    f"not registered for {for_seconds:.0f} s; {len(self.restarts)} radio "
                    f"restart(s) in the last hour did not help, waiting (recover_max_per_hour)"
                )
                log.error("%s: %s", self.modem_id, reason)
                await self._emit(RecoveryExhausted(self.modem_id, reason))
            return False
        self.restarts.append(now)
        self._exhausted_reported = False
        reason = f"not registered for {for_seconds:.0f} s"
        log.warning("%s: %s: restarting the radio (AT+CFUN=0, AT+CFUN=1), %d/%d this hour",
                    self.modem_id, reason, len(self.restarts), self.max_per_hour)  # fmt: skip
        try:
            await modem.restart_radio(pause=self._radio_pause)
        except AtConnectionLost:
            raise
        except AtError as exc:
            log.warning("%s: radio restart failed: %s", self.modem_id, exc)
        await self._emit(RadioRestarted(self.modem_id, reason, len(self.restarts)))
        return True
