"""Keeps one modem usable: open, probe, identify, initialise, watch, and start over.

States (:class:`~smsgw.modem.events.ModemState`)::

    DISCONNECTED -> OPENING -> PROBING -> INITIALISING -> READY
         ^            |          |            |            |
         +------------+----------+------------+------------+   (port lost, no answer,
                                                                 init error: backoff)
    READY --(boot banner / settings lost)--> INITIALISING        (same port, no reopen)
    any   --(SIM needs a human: wrong PIN, PUK)--> FAILED        (stays; never retried)

* Port gone (USB unplug, pty closed): the channel reports the loss, the supervisor goes
  to DISCONNECTED and keeps trying to reopen the same path with capped exponential
  backoff, so a replugged stick comes back by itself. While the path cannot be opened at all
  it is also tried quietly every ``port_poll`` seconds inside the backoff window (a failed
  open is one syscall), so a stick that returns is READY within about a second instead of
  after the next, possibly 30 s, backoff step.
* Unresponsive (health check or probe times out twice): close and reopen.
* Idle, exactly one health command per ``health_interval`` (``AT+CNMI?``, which also
  catches a silent reset) and one ``AT+CMGL=4`` sweep per ``sweep_interval``.
* A rejected PIN is entered once; the supervisor then stays FAILED until stopped.
* Not registered for ``recover_after``: the radio is restarted, a few times an hour at most
  (:mod:`smsgw.modem.recovery`).

Every state change is emitted to the sink as :class:`~smsgw.modem.events.StateChanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgw import pdu
from smsgw.at.channel import AtChannel, CommandObserver
from smsgw.at.link import Transport
from smsgw.exceptions import (
    AtConnectionLost,
    AtError,
    AtResponseError,
    AtTimeout,
    ModemError,
    ModemNotReady,
    SimError,
)
from smsgw.modem.base import EventSink, Modem, ModemSettings, discard_events
from smsgw.modem.events import ModemEvent, ModemState, RebootDetected, StateChanged
from smsgw.modem.recovery import RadioRecovery
from smsgw.modem.registry import dialect_for

__all__ = ["ModemSupervisor", "Opener", "SupervisorSettings"]

log = logging.getLogger(__name__)

Opener = Callable[[], Awaitable[Transport]]


@dataclass(frozen=True)
class SupervisorSettings:
    dialect: str | None = None
    """Force ``sim800``/``huawei``/``generic``; None or ``auto`` identifies the modem."""
    health_interval: float = 30.0
    sweep_interval: float = 300.0
    probe_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    health_timeout: float = 5.0
    unresponsive_after: int = 2
    """Consecutive health-check timeouts before the port is reopened."""
    port_poll: float = 0.2
    """While the port cannot be opened (unplugged), how often it is quietly tried again."""
    recover_after: float = 600.0
    """Not registered this long: restart the radio (:mod:`smsgw.modem.recovery`)."""
    recover_max_per_hour: int = 2
    radio_check_interval: float | None = None
    """How often registration is looked at for recovery; None: `health_interval`."""
    radio_pause: float = 2.0
    """Seconds between ``AT+CFUN=0`` and ``AT+CFUN=1`` in a radio restart."""


class ModemSupervisor:
    """Runs one modem for the lifetime of the daemon; see the module docstring."""

    def __init__(
        self,
        opener: Opener,
        *,
        modem_id: str = "modem",
        sink: EventSink | None = None,
        modem_settings: ModemSettings | None = None,
        settings: SupervisorSettings | None = None,
        at_observer: CommandObserver | None = None,
    ) -> None:
        self._opener = opener
        self._at_observer = at_observer
        self.modem_id = modem_id
        self._sink: EventSink = sink or discard_events
        self.modem_settings = modem_settings or ModemSettings()
        self.settings = settings or SupervisorSettings()
        self.state = ModemState.DISCONNECTED
        self.reason = ""
        self.modem: Modem | None = None
        #: The SIM's own number as last read (``AT+CNUM``), kept while the modem is away: the
        #: SIM is the same when it comes back, and stored messages are offered before READY.
        self.own_number: str | None = None
        self.recovery = RadioRecovery(
            modem_id,
            self._emit,
            recover_after=self.settings.recover_after,
            max_per_hour=self.settings.recover_max_per_hour,
            check_interval=self.settings.radio_check_interval or self.settings.health_interval,
            radio_pause=self.settings.radio_pause,
        )
        self._stopping = asyncio.Event()
        self._state_changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ public API
    def start(self) -> None:
        """Run in the background until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"supervisor {self.modem_id}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_ready(self) -> Modem:
        """Until the modem is READY (wrap in a timeout); raises ModemError once FAILED."""
        while True:
            if self.state is ModemState.READY and self.modem is not None:
                return self.modem
            if self.state is ModemState.FAILED:
                raise ModemError(f"{self.modem_id}: {self.reason}")
            async with self._state_changed:
                await self._state_changed.wait()

    async def wait_state(self, state: ModemState) -> None:
        while self.state is not state:
            async with self._state_changed:
                await self._state_changed.wait()

    def ready_modem(self) -> Modem:
        """The modem if READY, else ModemNotReady with the current state and reason."""
        if self.state is not ModemState.READY or self.modem is None:
            detail = f" ({self.reason})" if self.reason else ""
            raise ModemNotReady(f"{self.modem_id} is {self.state.value}{detail}")
        return self.modem

    async def send_sms(
        self,
        number: str,
        text: str,
        *,
        srr: bool | None = None,
        validity: timedelta | datetime | None = None,
        flash: bool = False,
        encoding: pdu.Encoding | None = None,
    ) -> list[int]:
        """Send through the READY modem (ModemNotReady otherwise); see Modem.send_sms."""
        modem = self.ready_modem()
        return await modem.send_sms(
            number, text, srr=srr, validity=validity, flash=flash, encoding=encoding
        )

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        attempt = 0
        transport: Transport | None = None
        while not self._stopping.is_set():
            reached_ready, fatal, port_missing = await self._session(transport)
            if fatal:
                await self._stopping.wait()  # FAILED for good: a human must act
                return
            attempt = 0 if reached_ready else attempt + 1
            delay = min(
                self.settings.backoff_max, self.settings.backoff_initial * (2 ** min(attempt, 16))
            )
            transport = None
            if port_missing:
                transport = await self._reopen_within(delay)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _reopen_within(self, window: float) -> Transport | None:
        """The port is gone: try to open it every `port_poll` s, without state changes or log
        lines, for up to `window` s. The transport once it opens, else None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        while (remaining := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                pause = min(self.settings.port_poll, remaining)
                await asyncio.wait_for(self._stopping.wait(), timeout=pause)
            if self._stopping.is_set():
                return None
            with contextlib.suppress(AtConnectionLost):
                return await self._opener()
        return None

    async def _session(self, transport: Transport | None = None) -> tuple[bool, bool, bool]:
        """One open port's life (opening it unless `transport` is already open).

        Returns (reached READY, fatal, the port is gone: could not be opened or was lost).
        """
        await self._set_state(ModemState.OPENING)
        if transport is None:
            try:
                transport = await self._opener()
            except AtConnectionLost as exc:
                await self._set_state(ModemState.DISCONNECTED, str(exc))
                return False, False, True
        channel = AtChannel(transport, observer=self._at_observer)
        channel.start()
        modem: Modem | None = None
        reached_ready = False
        try:
            while True:
                await self._set_state(ModemState.PROBING)
                probe = Modem(channel, modem_id=self.modem_id, settings=self.modem_settings)
                await probe.probe(within=self.settings.probe_timeout)
                identity = await probe.identify()
                dialect = dialect_for(identity, self.settings.dialect)
                modem = dialect(
                    channel, modem_id=self.modem_id, sink=self._sink, settings=self.modem_settings
                )
                modem.identity = identity
                await self._set_state(
                    ModemState.INITIALISING, f"{dialect.dialect} {identity.model}"
                )
                await modem.initialise()
                self.own_number = modem.own_number  # before the sweep offers stored messages
                await modem.sweep()
                self.modem = modem
                reached_ready = True
                await self._set_state(ModemState.READY, f"{dialect.dialect} {identity.model}")
                outcome = await self._serve(modem, channel)
                self.modem = None
                await modem.close()
                if outcome != "reboot":
                    await self._set_state(ModemState.DISCONNECTED, outcome)
                    # A lost line usually means an unplugged stick: poll for its return.
                    return reached_ready, False, channel.lost is not None
                # rebooted: same port, probe and initialise again
                await self._emit(RebootDetected(self.modem_id, modem.reboot_reason))
        except SimError as exc:
            await self._set_state(ModemState.FAILED, str(exc))
            if not exc.retryable:
                return reached_ready, True, False
            return reached_ready, False, False
        except (AtError, ModemError, AtResponseError) as exc:
            await self._set_state(ModemState.DISCONNECTED, f"{type(exc).__name__}: {exc}")
            return reached_ready, False, False
        finally:
            self.modem = None
            if modem is not None:
                await modem.close()
            await channel.close()

    async def _serve(self, modem: Modem, channel: AtChannel) -> str:
        """Watch a READY modem; return why it stopped being usable."""
        tasks = {
            asyncio.create_task(channel.wait_lost(), name="lost"),
            asyncio.create_task(modem.reboot_detected.wait(), name="reboot"),
            asyncio.create_task(self._health(modem), name="health"),
            asyncio.create_task(self._sweeps(modem), name="sweep"),
        }
        if self.settings.recover_max_per_hour > 0:
            tasks.add(asyncio.create_task(self.recovery.watch(modem), name="radio"))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        finished = next(iter(done))
        name = finished.get_name()
        if name == "lost":
            return f"connection lost: {channel.lost}"
        if name == "reboot":
            return "reboot"
        if finished.cancelled():
            return name
        error = finished.exception()
        if error is not None:
            return f"{name} failed: {error}"
        result = finished.result()
        return result if isinstance(result, str) else name

    async def _health(self, modem: Modem) -> str:
        failures = 0
        while True:
            await asyncio.sleep(self.settings.health_interval)
            try:
                await modem.health_check(within=self.settings.health_timeout)
                failures = 0
            except AtTimeout as exc:
                failures += 1
                log.warning("%s: health check timed out (%d): %s", self.modem_id, failures, exc)
                if failures >= self.settings.unresponsive_after:
                    return "unresponsive"
            except (AtError, AtResponseError) as exc:
                if isinstance(exc, AtConnectionLost):
                    raise
                log.warning("%s: health check failed: %s", self.modem_id, exc)

    async def _sweeps(self, modem: Modem) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await modem.sweep()
            except AtTimeout as exc:
                log.warning("%s: storage sweep timed out: %s", self.modem_id, exc)
            except (AtError, AtResponseError) as exc:
                if isinstance(exc, AtConnectionLost):
                    raise
                log.warning("%s: storage sweep failed: %s", self.modem_id, exc)

    async def _set_state(self, state: ModemState, reason: str = "") -> None:
        if state is self.state and reason == self.reason:
            return
        self.state = state
        self.reason = reason
        log.info("%s: %s%s", self.modem_id, state.value, f" ({reason})" if reason else "")
        async with self._state_changed:
            self._state_changed.notify_all()
        await self._emit(StateChanged(self.modem_id, state, reason))

    async def _emit(self, event: ModemEvent) -> None:
        try:
            await self._sink(event)
        except Exception:
            log.exception("%s: event sink failed on %r", self.modem_id, event)
