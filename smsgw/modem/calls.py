"""Incoming voice calls as an SMS gateway sees them: ``RING`` / ``+CLIP:`` URCs, counted,
turned into one :class:`~smsgw.modem.events.IncomingCall` per call when it ends.

Nobody answers a call here. A call starts with its first ``RING`` (or ``+CRING``/``+CLIP``),
each ``RING`` counts one ring, the ``+CLIP:`` after it names the caller (27.007 §7.6: an
empty number, or ``<CLI validity>`` 1/2, means withheld / not available: ``caller`` None).
It ends when the modem says so (``NO CARRIER``, Huawei ``^CEND``), when we hang up
(``calls = "hangup"`` after ``call_rings`` rings: ``ATH`` or ``AT+CHUP`` per dialect), or
when no ``RING`` came for `ring_gap` seconds (the caller gave up: most modems say nothing).

URC handlers must not block, so the hang-up command and the sink run in a task; the
channel queues the hang-up behind a send in progress (an ``AT+CMGS`` is never broken).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgw.at import commands as cmd
from smsgw.at.fields import split_fields
from smsgw.at.parser import Urc
from smsgw.exceptions import AtCommandError, AtError, CmeError, CmsError
from smsgw.modem.events import IncomingCall

if TYPE_CHECKING:
    from smsgw.modem.base import Modem

__all__ = ["CallWatcher"]

log = logging.getLogger(__name__)

#: Modems repeat RING about every 5 s while a call is offered; 3 missed RINGs end it.
RING_GAP = 12.0
_CALLER = re.compile(r"^\+?[0-9*#]{1,32}$")
_RING_URCS = frozenset({"RING", "+CRING"})
_END_URCS = frozenset({"NO CARRIER", "^CEND", "BUSY", "NO ANSWER"})


def caller_of(args: str) -> str | None:
    """The number of a ``+CLIP: "<number>",<type>[,<subaddr>,<satype>,<alpha>,<validity>]``
    line; None when withheld, unavailable or not a plausible number (hostile input)."""
    fields = split_fields(args)
    if not fields:
        return None
    if len(fields) >= 6 and fields[5].strip() in ("1", "2"):
        return None
    number = fields[0].strip().strip('"').strip()
    return number if _CALLER.match(number) else None


@dataclasses.dataclass
class _Call:
    started_at: datetime.datetime
    caller: str | None = None
    rings: int = 0
    hung_up: bool = False
    hanging_up: bool = False


class CallWatcher:
    """Follows the calls offered to one modem; see the module docstring."""

    def __init__(self, modem: Modem, *, ring_gap: float = RING_GAP) -> None:
        self._modem = modem
        self._ring_gap = ring_gap
        self._call: _Call | None = None
        self._quiet_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._remove_handler: Callable[[], None] | None = None

    def start(self) -> None:
        if self._remove_handler is None:
            self._remove_handler = self._modem.channel.add_urc_handler(self.on_urc)

    async def stop(self) -> None:
        if self._remove_handler is not None:
            self._remove_handler()
            self._remove_handler = None
        if self._quiet_timer is not None:
            self._quiet_timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def on_urc(self, urc: Urc) -> None:
        """Runs in the channel's reader: count, name, maybe hang up, end; never blocks."""
        if urc.name in _RING_URCS:
            call = self._current()
            call.rings += 1
            self._arm_quiet_timer()
            self._maybe_hang_up(call)
        elif urc.name == "+CLIP":
            call = self._current()
            call.caller = caller_of(urc.args) or call.caller
            self._arm_quiet_timer()
        elif urc.name in _END_URCS and self._call is not None:
            self._end()

    def _current(self) -> _Call:
        if self._call is None:
            self._call = _Call(started_at=datetime.datetime.now(datetime.UTC))
        return self._call

    def _arm_quiet_timer(self) -> None:
        if self._quiet_timer is not None:
            self._quiet_timer.cancel()
        loop = asyncio.get_running_loop()
        self._quiet_timer = loop.call_later(self._ring_gap, self._end)

    def _maybe_hang_up(self, call: _Call) -> None:
        settings = self._modem.settings
        if settings.calls != "hangup" or call.hanging_up or call.rings < settings.call_rings:
            return
        call.hanging_up = True
        self._spawn(self._hang_up(call))

    async def _hang_up(self, call: _Call) -> None:
        # The caller line follows the RING: give it a moment so the event names the caller.
        await asyncio.sleep(0.2)
        try:
            await self._modem.hang_up()
        except AtError as exc:
            log.warning("%s: could not hang up: %s", self._modem.modem_id, exc)
            return
        call.hung_up = True
        if self._call is call:
            self._end()

    def _end(self) -> None:
        call, self._call = self._call, None
        if self._quiet_timer is not None:
            self._quiet_timer.cancel()
            self._quiet_timer = None
        if call is None:
            return
        event = IncomingCall(
            modem_id=self._modem.modem_id,
            caller=call.caller,
            rings=call.rings,
            started_at=call.started_at,
            ended_at=datetime.datetime.now(datetime.UTC),
            hung_up=call.hung_up,
        )
        log.info("%s: call from %s, %d ring(s)%s", self._modem.modem_id,
                 call.caller or "a withheld number", call.rings,
                 ", hung up" if call.hung_up else "")  # fmt: skip
        self._spawn(self._modem.sink(event))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coroutine
            except Exception:
                log.exception("%s: call handling failed", self._modem.modem_id)

        task = asyncio.create_task(run(), name=f"{self._modem.modem_id} call")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def hang_up_with(modem: Modem, *, chup: bool) -> None:
    """``AT+CHUP`` (falling back to ``ATH`` when the firmware does not know it) or ``ATH``."""
    if chup:
        try:
            await modem.run(cmd.hang_up(True))
            return
        except (AtCommandError, CmeError, CmsError):
            pass
    await modem.run(cmd.hang_up(False))
