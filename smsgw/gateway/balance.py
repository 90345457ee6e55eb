"""Prepaid balance checks: `balance_ussd` every `balance_interval`, the amount parsed.

The answer is matched with `balance_pattern` (its `amount` group; a decimal comma is
read as a point). When the pattern does not match, the raw answer is still kept (shown in
the API and UI) with `amount: null`, and a warning says so: the operator then fixes the
pattern from what the network actually said. A check finding the modem busy in a USSD
session (someone is in a menu) or not ready tries again a minute later, not a day later.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from collections.abc import Awaitable, Callable

from smsgw import config
from smsgw.gateway.ussd import UssdRefused, UssdSessions
from smsgw.models import ModemBalance as Balance

__all__ = ["Balance", "BalanceMonitor", "parse_amount"]

log = logging.getLogger(__name__)

#: Pause before trying again when the modem was busy or not ready.
RETRY_AFTER = 60.0
#: Longest wait for the network's answer to a balance request.
ANSWER_TIMEOUT = 30.0


def parse_amount(pattern: str, text: str) -> float | None:
    """The `amount` group of `pattern` in `text` as a number, or None."""
    match = re.search(pattern, text)
    if match is None:
        return None
    raw = (match.group("amount") or "").strip().replace(" ", "")
    if "," in raw and "." in raw:
        raw = raw.replace(",", "")  # 1,234.50
    raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


Clock = Callable[[], datetime.datetime]
#: Told about every new balance: (modem name, balance); the fleet keeps it, metrics, alerts.
BalanceListener = Callable[[str, Balance], Awaitable[None]]


class BalanceMonitor:
    """Checks one modem's balance on its interval (see the module docstring)."""

    def __init__(
        self,
        modem: config.ModemSection,
        sessions: UssdSessions,
        *,
        clock: Clock,
        on_balance: BalanceListener,
        wait_ready: Callable[[], Awaitable[object]],
    ) -> None:
        self._modem = modem
        self._sessions = sessions
        self._clock = clock
        self._on_balance = on_balance
        self._wait_ready = wait_ready

    async def check(self) -> Balance | None:
        """One check now; None when the modem could not be asked (busy, not ready, error)."""
        name = self._modem.name
        try:
            result = await self._sessions.run(name, self._modem.balance_ussd, wait=ANSWER_TIMEOUT)
        except UssdRefused as exc:
            log.warning("%s: balance check (%s) not done: %s", name, self._modem.balance_ussd,
                        exc.detail)  # fmt: skip
            return None
        if result.status == "more":
            # A menu instead of an answer: nobody will choose, end it now.
            await self._sessions.end(name, result.session)
        if result.status == "timeout":
            log.warning("%s: no answer to the balance check %s", name, self._modem.balance_ussd)
            return None
        amount = parse_amount(self._modem.balance_pattern, result.text)
        if amount is None:
            log.warning(
                "%s: balance_pattern found no amount in the answer to %s; keeping the text: %r",
                name,
                self._modem.balance_ussd,
                result.text,
            )
        balance = Balance(amount, result.text, self._clock())
        await self._on_balance(name, balance)
        return balance

    async def run(self) -> None:
        """Check at start (once the modem is ready), then every `balance_interval`."""
        interval = self._modem.balance_interval.total_seconds()
        while True:
            await self._wait_ready()
            balance = await self.check()
            await asyncio.sleep(interval if balance is not None else min(RETRY_AFTER, interval))
