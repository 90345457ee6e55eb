"""USSD sessions as the API, the CLI, the web inbox and the balance checks see them.

One session per modem at a time: a menu (`status: "more"`) keeps its modem's session open
under an id the client posts back with the next answer; a new code while it is open is
refused (409) instead of silently answering someone else's menu. A session nobody
continues within its timeout is ended on the modem (`AT+CUSD=2`) and forgotten, so an
abandoned menu cannot hold the modem forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import secrets
from collections.abc import Callable

from smsgw.exceptions import AtError, ModemNotReady, SmsgwError, UssdFailed
from smsgw.modem import ModemSupervisor, UssdAnswer

__all__ = ["UssdRefused", "UssdResult", "UssdSessions", "check_code"]

log = logging.getLogger(__name__)

#: What starts a session: a service code as dialled (`*100#`, `*133*1#`, `#123#`).
_SERVICE_CODE = re.compile(r"^[*#][0-9*#]{1,62}#$")
#: What continues one: a menu choice or a short answer typed by a person.
_ANSWER = re.compile(r"^[0-9A-Za-z*#+ ]{1,160}$")
_SESSION_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_TIMEOUT = 180.0


class UssdRefused(SmsgwError):
    """A USSD request the gateway will not (or could not) run: `status_code` 404, 409, 422
    or 502 with `detail` for the API's ``{"detail": ...}``."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclasses.dataclass(frozen=True, slots=True)
class UssdResult:
    session: str
    status: str
    text: str


@dataclasses.dataclass
class _Session:
    id: str
    busy: bool = True
    expiry: asyncio.TimerHandle | None = None


def check_code(code: str, *, continuing: bool) -> str:
    """The code stripped, or UssdRefused(422) saying what a valid one looks like."""
    text = code.strip() if isinstance(code, str) else ""
    if continuing:
        if not _ANSWER.match(text):
            raise UssdRefused(422, "code: an answer is 1-160 letters, digits, *, #, + or spaces")
    elif not _SERVICE_CODE.match(text):
        raise UssdRefused(422, "code: a USSD code starts with * or #, ends with # (e.g. *100#)")
    return text


class UssdSessions:
    """The open USSD session of each modem (see the module docstring)."""

    def __init__(self, supervisor_of: Callable[[str], ModemSupervisor | None]) -> None:
        self._supervisor_of = supervisor_of
        self._open: dict[str, _Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def busy(self, modem: str) -> bool:
        return modem in self._open

    async def run(
        self, modem: str, code: str, *, session: str | None = None, wait: float = 30.0
    ) -> UssdResult:
        """Send `code` (new session) or the next answer of `session`; see UssdRefused."""
        supervisor = self._supervisor_of(modem)
        if supervisor is None:
            raise UssdRefused(404, f"no modem named {modem!r} on this node")
        text = check_code(code, continuing=session is not None)
        wait = min(max(float(wait), 1.0), MAX_TIMEOUT)
        current = self._take(modem, session)
        try:
            device = supervisor.ready_modem()
            answer: UssdAnswer = await device.ussd.request(text, wait=wait)
        except ModemNotReady as exc:
            self._close(modem, current)
            raise UssdRefused(409, str(exc)) from exc
        except UssdFailed as exc:
            self._close(modem, current)
            raise UssdRefused(502, str(exc)) from exc
        except AtError as exc:
            self._close(modem, current)
            raise UssdRefused(502, f"the modem did not complete the request: {exc}") from exc
        except BaseException:
            self._close(modem, current)
            raise
        if answer.status == "more":
            current.busy = False
            loop = asyncio.get_running_loop()
            current.expiry = loop.call_later(wait, self._expire, modem, current)
        else:
            self._close(modem, current)
        return UssdResult(current.id, answer.status, answer.text)

    def _take(self, modem: str, session: str | None) -> _Session:
        current = self._open.get(modem)
        if session is None:
            if current is not None:
                raise UssdRefused(409, f"{modem} is busy in another USSD session")
            current = _Session(secrets.token_hex(8))
            self._open[modem] = current
            return current
        if not _same(current, session):
            raise UssdRefused(404, f"no open USSD session {session!r} on {modem}")
        assert current is not None
        if current.busy:
            raise UssdRefused(409, f"session {session} is waiting for the network already")
        current.busy = True
        if current.expiry is not None:
            current.expiry.cancel()
            current.expiry = None
        return current

    def _close(self, modem: str, current: _Session) -> None:
        if current.expiry is not None:
            current.expiry.cancel()
        if self._open.get(modem) is current:
            del self._open[modem]

    def _expire(self, modem: str, current: _Session) -> None:
        """Nobody answered the menu in time: end it on the modem as well."""
        if self._open.get(modem) is not current or current.busy:
            return
        log.info("%s: USSD session %s abandoned; ending it", modem, current.id)
        self._close(modem, current)
        task = asyncio.create_task(self._cancel_on_modem(modem), name=f"ussd end {modem}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def end(self, modem: str, session: str) -> None:
        """`DELETE .../ussd/{session}`: end it (``AT+CUSD=2``); 404 for an unknown one."""
        if self._supervisor_of(modem) is None:
            raise UssdRefused(404, f"no modem named {modem!r} on this node")
        current = self._open.get(modem)
        if not _same(current, session):
            raise UssdRefused(404, f"no open USSD session {session!r} on {modem}")
        assert current is not None
        self._close(modem, current)
        await self._cancel_on_modem(modem)

    async def _cancel_on_modem(self, modem: str) -> None:
        supervisor = self._supervisor_of(modem)
        if supervisor is None:
            return
        with contextlib.suppress(ModemNotReady, AtError):
            await supervisor.ready_modem().ussd.cancel()

    async def stop(self) -> None:
        for current in self._open.values():
            if current.expiry is not None:
                current.expiry.cancel()
        self._open.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _same(current: _Session | None, session: str) -> bool:
    """`session` names the open session (compared in constant time: ids are capabilities)."""
    if current is None or not isinstance(session, str) or not _SESSION_ID.match(session):
        return False
    return secrets.compare_digest(current.id, session)
