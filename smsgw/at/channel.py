"""The AT channel: one command in flight, its reply collected, URCs dispatched.

One reader task feeds every byte from the :class:`~smsgw.at.link.Transport` to the
sans-I/O :class:`~smsgw.at.parser.AtParser` and routes the events:

* ``Urc`` -> every registered handler, whether or not a command is pending (handlers are
  plain callables that must not block; the modem layer schedules its own work);
* ``Line``/``Final``/``Prompt`` -> the pending command, if any (otherwise logged);
* connection loss -> the pending command fails with ``AtConnectionLost`` and
  :meth:`AtChannel.wait_lost` returns.

:meth:`AtChannel.execute` registers the pending command (and tells the parser which
prefix is solicited) *before* writing, so a fast reply can never be missed. It raises the
typed errors of :mod:`smsgw.exceptions`: ``CmeError``/``CmsError`` (with the numeric or
verbose cause), ``AtCommandError`` (``ERROR``, ``COMMAND NOT SUPPORT``), ``AtTimeout``,
``AtConnectionLost``. Cancelling a caller is safe: the command slot is released, and a
prompt left open by ``AT+CMGS`` is closed with ESC so the modem does not take the next
command for PDU text, and after a timeout the next command first waits for the line to go
quiet, so a late reply cannot be mistaken for its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from smsgw.at.commands import Command
from smsgw.at.link import Transport
from smsgw.at.parser import (
    AtParser,
    Discarded,
    Echo,
    Event,
    Final,
    FinalKind,
    Line,
    Prompt,
    Urc,
)
from smsgw.exceptions import (
    AtCommandError,
    AtConnectionLost,
    AtError,
    AtResponseError,
    AtTimeout,
    CmeError,
    CmsError,
)

__all__ = ["AtChannel", "CommandObserver", "Reply", "UrcHandler", "outcome_of"]

log = logging.getLogger(__name__)

UrcHandler = Callable[[Urc], None]
#: Told about every finished command: (``Command.name``, seconds from write to final result,
#: outcome). Outcomes: ``ok``, ``error``, ``cme``, ``cms``, ``timeout``, ``connection_lost``,
#: ``cancelled``. A plain callable so this layer needs no metrics library: the gateway
#: wires it to Prometheus. It must not block; whatever it raises is logged and ignored.
CommandObserver = Callable[[str, float, str], None]
ESC = b"\x1b"
SETTLE_QUIET = 0.3
SETTLE_LIMIT = 3.0


@dataclass(frozen=True)
class Reply:
    """The information lines of a successful command (URCs and echo already removed)."""

    command: str
    lines: tuple[str, ...]

    def with_prefix(self, prefix: str) -> list[str]:
        """Lines starting with ``prefix`` (``+CPMS``), case-insensitive."""
        wanted = prefix.upper()
        return [line for line in self.lines if line.upper().startswith(wanted)]

    def first(self, prefix: str) -> str:
        """The first line with ``prefix``; ``AtResponseError`` when there is none."""
        found = self.with_prefix(prefix)
        if not found:
            raise AtResponseError(prefix, " | ".join(self.lines) or "<no lines>")
        return found[0]


@dataclass
class _Pending:
    command: Command
    result: asyncio.Future[Final]
    prompt: asyncio.Future[None]  # resolved by the prompt, or by whatever ends the command
    lines: list[str] = field(default_factory=list)


class AtChannel:
    """Runs AT commands over a transport, one at a time; see the module docstring."""

    def __init__(
        self,
        transport: Transport,
        *,
        parser: AtParser | None = None,
        observer: CommandObserver | None = None,
    ) -> None:
        self._transport = transport
        self._observer = observer
        self._parser = parser or AtParser()
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._handlers: list[UrcHandler] = []
        self._reader: asyncio.Task[None] | None = None
        self._lost: AtConnectionLost | None = None
        self._lost_event = asyncio.Event()
        self._abort: asyncio.Future[None] | None = None
        self._unsettled = False
        self._last_received = 0.0
        self.sent: Counter[str] = Counter()
        """How many times each command (its ``shown`` text) was written (benchmarks, idle
        checks)."""
        self.echoes = 0
        """Echoed command lines seen; growing after ``ATE0`` means the modem was reset."""

    # -- lifecycle --------------------------------------------------------------------
    @property
    def description(self) -> str:
        return self._transport.description

    @property
    def lost(self) -> AtConnectionLost | None:
        """Why the link went away, or ``None`` while it is up."""
        return self._lost

    def start(self) -> None:
        """Start reading; call once, from inside the event loop."""
        if self._reader is None:
            self._reader = asyncio.create_task(
                self._read_loop(), name=f"at-reader {self.description}"
            )

    async def close(self) -> None:
        """Stop reading, close the transport and fail whatever is pending."""
        self._mark_lost(AtConnectionLost(f"{self.description}: closed"), deliberate=True)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._transport.close()

    async def wait_lost(self) -> AtConnectionLost:
        """Return (with the reason) once the connection is gone."""
        await self._lost_event.wait()
        assert self._lost is not None
        return self._lost

    def add_urc_handler(self, handler: UrcHandler) -> Callable[[], None]:
        """Call ``handler`` for every URC; returns a function that unregisters it."""
        self._handlers.append(handler)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return remove

    # -- commands ---------------------------------------------------------------------
    async def execute(self, command: Command) -> Reply:
        """Run one command and return its reply lines; see the module docstring for errors.

        The time limit is ``command.timeout`` (``dataclasses.replace`` it to change it).
        """
        limit = command.timeout
        async with self._lock:
            if self._abort is not None:
                await self._abort
                self._abort = None
            if self._lost is not None:
                raise AtConnectionLost(str(self._lost))
            if self._unsettled:
                await self._settle()
            loop = asyncio.get_running_loop()
            started = loop.time()
            outcome = "error"
            try:
                reply = await self._run(command, limit)
                outcome = "ok"
                return reply
            except AtError as error:
                outcome = outcome_of(error)
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                self._observe(command, loop.time() - started, outcome)

    def _observe(self, command: Command, seconds: float, outcome: str) -> None:
        if self._observer is None:
            return
        try:
            self._observer(command.name, seconds, outcome)
        except Exception:
            log.exception("%s: command observer failed", self.description)

    async def _run(self, command: Command, limit: float) -> Reply:
        """One command, with the channel lock held."""
        loop = asyncio.get_running_loop()
        pending = _Pending(command, loop.create_future(), loop.create_future())
        self._pending = pending
        self._parser.expect(command.text, payload=command.payload)
        payload_written = False
        try:
            async with asyncio.timeout(limit):
                self.sent[command.shown] += 1
                await self._transport.write(command.wire)
                if command.payload is not None:
                    await pending.prompt  # also resolved by a final result or loss
                    if not pending.result.done():
                        await self._transport.write(command.wire_payload)
                        payload_written = True
                final = await pending.result
        except TimeoutError:
            self._unsettled = True
            self._abort_prompt(pending, payload_written)
            raise AtTimeout(f"{command.shown!r}: no final result within {limit:g} s") from None
        except asyncio.CancelledError:
            self._unsettled = not pending.result.done()
            self._abort_prompt(pending, payload_written)
            raise
        finally:
            self._pending = None
            self._parser.expect(None)
            for future in (pending.result, pending.prompt):
                if future.done() and not future.cancelled():
                    future.exception()  # mark retrieved
                future.cancel()
        return _reply_or_raise(command, pending.lines, final)

    async def _settle(self) -> None:
        """After a timeout or cancellation, wait until the line has been quiet for
        ``SETTLE_QUIET`` seconds (at most ``SETTLE_LIMIT``), so a late reply to the abandoned
        command is dropped as unsolicited instead of being taken for the next one's."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while loop.time() - start < SETTLE_LIMIT:
            idle = loop.time() - max(self._last_received, start)
            if idle >= SETTLE_QUIET:
                break
            await asyncio.sleep(SETTLE_QUIET - idle)
        self._unsettled = False

    def _abort_prompt(self, pending: _Pending, payload_written: bool) -> None:
        """Close a (possibly unseen) ``> `` prompt with ESC so the modem leaves PDU input.

        Sent whenever a prompt command ends without its PDU written and without a final
        result: the prompt may have been lost on the line. In command mode the stray ESC
        is ignored (V.250: characters before ``AT`` are discarded).
        """
        unfinished = pending.command.payload is not None and not pending.result.done()
        if unfinished and not payload_written and self._lost is None:
            # May run while the caller is being cancelled, so it cannot be awaited here;
            # the next command waits for it before writing.
            self._abort = asyncio.ensure_future(self._write_quietly(ESC))

    async def escape(self) -> None:
        """Write a lone ESC between commands.

        A process killed between ``AT+CMGS`` and its PDU leaves the modem in the ``> `` PDU
        prompt, taking every later byte for PDU text until Ctrl-Z or ESC: the next process's
        ``AT`` then never gets an answer. ESC ends the prompt without sending; in command
        mode it is discarded (V.250: characters before ``AT`` are ignored).
        """
        await self._write_quietly(ESC)

    async def _write_quietly(self, data: bytes) -> None:
        with contextlib.suppress(AtConnectionLost):
            await self._transport.write(data)

    # -- reading ----------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._transport.read()
                self._last_received = asyncio.get_running_loop().time()
                for event in self._parser.feed(data):
                    self._dispatch(event)
        except AtConnectionLost as exc:
            self._mark_lost(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave waiters hanging forever
            log.exception("%s: reader failed", self.description)
            self._mark_lost(AtConnectionLost(f"{self.description}: reader failed: {exc}"))

    def _dispatch(self, event: Event) -> None:
        pending = self._pending
        if isinstance(event, Urc):
            for handler in list(self._handlers):
                try:
                    handler(event)
                except Exception:
                    log.exception("%s: URC handler failed on %r", self.description, event.line)
        elif isinstance(event, Line):
            if pending is not None:
                pending.lines.append(event.text)
            else:
                log.debug("%s: unsolicited line %r", self.description, event.text)
        elif isinstance(event, Final):
            if pending is not None and not pending.result.done():
                pending.result.set_result(event)
                if not pending.prompt.done():
                    pending.prompt.set_result(None)
            else:
                log.debug("%s: final result with nothing pending: %r", self.description, event)
        elif isinstance(event, Prompt):
            if pending is not None and not pending.prompt.done():
                pending.prompt.set_result(None)
        elif isinstance(event, Discarded):
            log.warning("%s: dropped %d bytes of line noise", self.description, event.size)
        elif isinstance(event, Echo):
            self.echoes += 1
            shown = pending.command.shown if pending is not None else event.text
            log.debug("%s: echo %r", self.description, shown)

    def _mark_lost(self, reason: AtConnectionLost, *, deliberate: bool = False) -> None:
        if self._lost is not None:
            return
        self._lost = reason
        self._lost_event.set()
        pending = self._pending
        if pending is not None and not pending.result.done():
            pending.result.set_exception(reason)
            if not pending.prompt.done():
                pending.prompt.set_result(None)
        if not deliberate:
            log.info("%s: connection lost: %s", self.description, reason)


def outcome_of(error: AtError) -> str:
    """The observer's outcome name for a command that failed with `error`."""
    if isinstance(error, AtTimeout):
        return "timeout"
    if isinstance(error, AtConnectionLost):
        return "connection_lost"
    if isinstance(error, CmeError):
        return "cme"
    if isinstance(error, CmsError):
        return "cms"
    return "error"


def _reply_or_raise(command: Command, lines: list[str], final: Final) -> Reply:
    if final.kind is FinalKind.OK:
        return Reply(command.shown, tuple(lines))
    # Errors carry `shown`, never `text`: a rejected PIN must not reach logs, APIs or the DB.
    if final.kind is FinalKind.CME:
        raise CmeError(final.code, final.text, command.shown)
    if final.kind is FinalKind.CMS:
        raise CmsError(final.code, final.text, command.shown)
    raise AtCommandError(command.shown, final.text)
