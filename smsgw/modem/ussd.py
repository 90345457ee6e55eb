"""USSD through the AT channel: one request, its ``+CUSD:`` answer, menus, cancel.

The answer comes as a URC after ``OK``, or (some firmwares) as an information line of the
``AT+CUSD`` reply itself: both are taken. A waiting request is matched with the next
``+CUSD:`` seen; one request waits at a time (a lock), which with one open session per
modem (the gateway's rule) means an answer always belongs to the request waiting for it.
SMS keep flowing meanwhile: the request holds the channel only for the ``AT+CUSD`` command,
not while the network thinks.

A request that gets no answer in time is ended on the modem too (``AT+CUSD=2``), so the
next request does not find the network still waiting for an answer to the old menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from smsgw.at import commands as cmd
from smsgw.at.parser import Urc
from smsgw.at.ussd import DEFAULT_DCS, CusdLine, UssdStatus, decode_text, pack_request, parse_cusd
from smsgw.exceptions import (
    AtCommandError,
    AtResponseError,
    CmeError,
    CmsError,
    PduError,
    UssdFailed,
)

if TYPE_CHECKING:
    from smsgw.modem.base import Modem

__all__ = ["UssdAnswer", "UssdClient", "UssdOutcome"]

log = logging.getLogger(__name__)

UssdOutcome = Literal["done", "more", "cancelled", "timeout"]


@dataclasses.dataclass(frozen=True, slots=True)
class UssdAnswer:
    """What the network answered: ``more`` waits for the next request in the same session."""

    status: UssdOutcome
    text: str


class UssdClient:
    """The USSD side of one modem; created by the modem, started with its URC listeners."""

    def __init__(self, modem: Modem) -> None:
        self._modem = modem
        self._turn = asyncio.Lock()
        self._waiting: asyncio.Future[CusdLine] | None = None
        self._remove_handler: Callable[[], None] | None = None
        #: Packed GSM-7 hex requests (Huawei ^USSDMODE=1); turned off when refused.
        self.packed = modem.ussd_packed

    def start(self) -> None:
        if self._remove_handler is None:
            self._remove_handler = self._modem.channel.add_urc_handler(self.on_urc)

    def stop(self) -> None:
        if self._remove_handler is not None:
            self._remove_handler()
            self._remove_handler = None

    def on_urc(self, urc: Urc) -> None:
        """Runs in the channel's reader: hand a ``+CUSD:`` to the request waiting for it."""
        if urc.name != "+CUSD":
            return
        self._take(urc.args)

    def _take(self, args: str) -> None:
        try:
            line = parse_cusd(args)
        except AtResponseError as exc:
            log.warning("%s: ignoring %s", self._modem.modem_id, exc)
            return
        waiting = self._waiting
        if waiting is None or waiting.done():
            log.info("%s: +CUSD with no request waiting (m=%d)", self._modem.modem_id, line.status)
            return
        waiting.set_result(line)

    async def request(self, code: str, *, wait: float) -> UssdAnswer:
        """Send `code` (a service code, or the answer to a menu) and wait for the network.

        Raises UssdFailed when the modem or network refuses; a request the network does not
        answer within `wait` seconds ends the session (``AT+CUSD=2``) and says ``timeout``.
        """
        async with self._turn:
            loop = asyncio.get_running_loop()
            waiting: asyncio.Future[CusdLine] = loop.create_future()
            self._waiting = waiting
            try:
                await self._send(code)
                try:
                    async with asyncio.timeout(wait):
                        line = await waiting
                except TimeoutError:
                    log.warning("%s: no USSD answer within %g s", self._modem.modem_id, wait)
                    await self.cancel()
                    return UssdAnswer("timeout", "")
            finally:
                self._waiting = None
                if not waiting.done():
                    waiting.cancel()
        return self._answer(line)

    async def _send(self, code: str) -> None:
        for packed in (True, False) if self.packed else (False,):
            try:
                spelled = pack_request(code) if packed else code
            except PduError as exc:
                raise UssdFailed(f"the code cannot be sent: {exc}") from exc
            try:
                reply = await self._modem.run(cmd.ussd_request(spelled, DEFAULT_DCS))
            except AtCommandError as exc:
                if packed:
                    # Firmware in ^USSDMODE=0 (or one that never packs): text it is, from now.
                    log.info("%s: packed USSD refused (%s); sending text", self._modem.modem_id,
                             exc)  # fmt: skip
                    self.packed = False
                    continue
                raise UssdFailed(f"the modem refused the USSD request ({exc.result})") from exc
            except (CmeError, CmsError) as exc:
                raise UssdFailed(f"the modem refused the USSD request ({exc})") from exc
            except ValueError as exc:
                raise UssdFailed(str(exc)) from exc
            for line in reply.with_prefix("+CUSD"):
                self._take(line.split(":", 1)[1] if ":" in line else "")
            return

    def _answer(self, line: CusdLine) -> UssdAnswer:
        text = "" if line.text is None else decode_text(line.text, line.dcs, packed=self.packed)
        if line.status == UssdStatus.DONE:
            return UssdAnswer("done", text)
        if line.status == UssdStatus.MORE:
            return UssdAnswer("more", text)
        if line.status in (UssdStatus.TERMINATED, UssdStatus.OTHER_CLIENT):
            return UssdAnswer("cancelled", text)
        if line.status == UssdStatus.NETWORK_TIMEOUT:
            return UssdAnswer("timeout", text)
        raise UssdFailed(f"the network does not support this request (+CUSD: {line.status})")

    async def cancel(self) -> None:
        """``AT+CUSD=2``: end the session on the modem; a modem with none may say ERROR."""
        with contextlib.suppress(AtCommandError, CmeError, CmsError):
            await self._modem.run(cmd.ussd_cancel())
