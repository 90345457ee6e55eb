"""The fleet: this node's modems, what they last said about themselves, and the heartbeats.

One place answers "which modems are there and how are they?": the API's modem list, the
readiness probe, systemd's STATUS= line and the rows other nodes read from the shared
database all come from here. The heartbeat loop also renews this node's send leases and
reports the sends of nodes that went silent as `interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Callable, Iterator

from smsgw import config
from smsgw.exceptions import StoreError
from smsgw.gateway import telemetry
from smsgw.gateway.balance import BalanceMonitor
from smsgw.gateway.outbound import ModemWorker
from smsgw.gateway.render import render_status
from smsgw.models import MessageStatus, ModemBalance, ModemView
from smsgw.modem import ModemInfo, ModemState, ModemSupervisor, StateChanged
from smsgw.sdnotify import Notifier
from smsgw.store import Database, repository
from smsgw.store.types import ReceivedMessage, StatusTransition

__all__ = ["INFO_INTERVAL", "Fleet", "ModemRuntime", "log_crash"]

log = logging.getLogger(__name__)

#: How often the modem details shown by the API (operator, signal...) are re-read.
INFO_INTERVAL = 60.0

Clock = Callable[[], datetime.datetime]


@dataclasses.dataclass
class Counters:
    received: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0


@dataclasses.dataclass
class ModemRuntime:
    """One configured modem of this node: its supervisor, its sender and what it reported."""

    settings: config.ModemSection
    supervisor: ModemSupervisor
    worker: ModemWorker
    counters: Counters = dataclasses.field(default_factory=Counters)
    #: Last details read from the modem, kept between reads and while it is not READY.
    info: ModemInfo | None = None
    info_refresh: asyncio.Task[None] | None = None
    #: Last prepaid balance read by USSD (`balance_ussd`), None before the first check.
    balance: ModemBalance | None = None
    balance_monitor: BalanceMonitor | None = None
    #: The alerts open now (`smsgw.gateway.alert_watch`), for the API and the UI.
    alerts: tuple[str, ...] = ()


class Fleet:
    """This node's modems by name, with their counters, details and heartbeats."""

    def __init__(
        self,
        db: Database,
        settings: config.Settings,
        *,
        clock: Clock,
        notifier: Notifier,
        shared_database: bool,
        resend_interrupted: bool,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self._db = db
        self._settings = settings
        self.node = settings.node.name
        self._clock = clock
        self._notifier = notifier
        self._shared_database = shared_database
        self._resend_interrupted = resend_interrupted
        self._wake_dispatcher = wake_dispatcher
        self._modems: dict[str, ModemRuntime] = {}
        #: False while the database fails the heartbeat (the systemd watchdog stops pinging).
        self.db_healthy = True
        #: Called when a modem's state, details or day's counters changed (the MQTT state is
        #: republished; the callee coalesces bursts).
        self.on_change: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ membership
    def add(self, runtime: ModemRuntime) -> None:
        self._modems[runtime.settings.name] = runtime

    def __len__(self) -> int:
        return len(self._modems)

    def __iter__(self) -> Iterator[ModemRuntime]:
        return iter(list(self._modems.values()))

    def get(self, name: str) -> ModemRuntime:
        return self._modems[name]

    def worker_or_none(self, modem: str) -> ModemWorker | None:
        runtime = self._modems.get(modem)
        return runtime.worker if runtime is not None else None

    def wake_workers(self, modem: str | None) -> None:
        """Wake the named modem's sender, or every sender (None: unbound work was queued)."""
        for name, runtime in self._modems.items():
            if modem is None or name == modem:
                runtime.worker.wake()

    def own_number(self, modem: str) -> str | None:
        """The SIM's own number: `[[modem]] number` if configured, else what AT+CNUM said."""
        runtime = self._modems.get(modem)
        if runtime is None:
            return None
        return runtime.settings.number or runtime.supervisor.own_number

    async def known_modems(self) -> set[str]:
        """This node's modems plus those other nodes registered (PostgreSQL shared)."""
        names = set(self._modems)
        if self._shared_database:
            names.update(beat.name for beat in await repository.list_modem_heartbeats(self._db))
        return names

    # ------------------------------------------------------------------ counters and state
    def count_received(self, message: ReceivedMessage) -> None:
        runtime = self._modems.get(message.modem)
        telemetry.message_received(message.modem)
        if runtime is not None:
            runtime.counters.received += 1
            self.on_change()

    def count_transition(self, change: StatusTransition) -> None:
        telemetry.message_transition(change)
        runtime = self._modems.get(change.modem or "")
        if runtime is None:
            return
        counters = runtime.counters
        if change.status is MessageStatus.SENT:
            counters.sent += 1
        elif change.status is MessageStatus.DELIVERED:
            counters.delivered += 1
        elif change.status in (MessageStatus.FAILED, MessageStatus.EXPIRED):
            counters.failed += 1
        self.on_change()

    def state_changed(self, runtime: ModemRuntime, event: StateChanged) -> None:
        name = runtime.settings.name
        # The supervisor already logged this transition at INFO: one line per change.
        telemetry.modem_state(name, event.state.value)
        if event.state is ModemState.READY:
            runtime.worker.wake()
            self._refresh_info_soon(runtime)
        self._notifier.status(self.status_line())
        self.on_change()

    def status_line(self) -> str:
        """The systemd STATUS= line: modem readiness at a glance."""
        ready = sum(1 for r in self._modems.values() if r.supervisor.state is ModemState.READY)
        states = ", ".join(f"{n} {r.supervisor.state.value}" for n, r in self._modems.items())
        return f"{ready}/{len(self._modems)} modems ready" + (f": {states}" if states else "")

    def ready(self) -> tuple[bool, str]:
        """True when at least one modem is READY; and the status line either way."""
        if any(r.supervisor.state is ModemState.READY for r in self._modems.values()):
            return True, self.status_line()
        return False, "no modem is ready: " + self.status_line()

    async def views(self) -> list[ModemView]:
        """Every known modem: this node's live view, then the other nodes' heartbeats."""
        views = [await self._local_view(name, runtime) for name, runtime in self._modems.items()]
        with contextlib.suppress(StoreError):
            for beat in await repository.list_modem_heartbeats(self._db):
                if beat.name in self._modems:
                    continue
                views.append(
                    _remote_view(beat.name, beat.node, beat.state, beat.info, beat.last_seen)
                )
        return views

    async def _local_view(self, name: str, runtime: ModemRuntime) -> ModemView:
        info = runtime.info
        storage = info.storage[0] if info is not None and info.storage else None
        counters = dataclasses.asdict(runtime.counters)
        with contextlib.suppress(StoreError):
            counters["today"] = await repository.daily_count(self._db, name)
        return ModemView(
            name=name,
            node=self.node,
            port=runtime.settings.port,
            state=runtime.supervisor.state.value,
            reason=runtime.supervisor.reason or None,
            manufacturer=info.identity.manufacturer if info else None,
            model=info.identity.model if info else None,
            revision=info.identity.revision if info else None,
            operator=info.operator if info else None,
            signal_dbm=info.signal_dbm if info else None,
            registration=info.registration if info else None,
            storage_used=getattr(storage, "used", None),
            storage_total=getattr(storage, "total", None),
            counters=counters,
            last_seen=self._clock(),
            balance=runtime.balance,
            alerts=runtime.alerts,
        )

    # ------------------------------------------------------------------ heartbeats
    async def run_heartbeats(self) -> None:
        """Every `node.heartbeat_interval`: this node alive, its leases renewed, dead nodes'
        sends interrupted, modem details (re-read every INFO_INTERVAL) published."""
        last_info = float("-inf")
        loop = asyncio.get_running_loop()
        while True:
            try:
                await repository.heartbeat_node(self._db, self.node)
                await repository.renew_send_claims(
                    self._db, node=self.node, lease=self._settings.node.lease
                )
                await self._interrupt_dead_nodes_sends()
                refresh = loop.time() - last_info >= INFO_INTERVAL
                for runtime in self._modems.values():
                    if refresh:
                        await self._refresh_info(runtime)
                    await self._heartbeat_modem(runtime)
                if refresh:
                    last_info = loop.time()
                await telemetry.refresh_queues(self._db)
                self.db_healthy = True
            except StoreError as error:
                self.db_healthy = False
                log.error("heartbeat failed: %s", error)
            self._notifier.status(self.status_line())
            await asyncio.sleep(self._settings.node.heartbeat_interval.total_seconds())

    async def _interrupt_dead_nodes_sends(self) -> None:
        """Messages another node was sending when it went silent for a whole lease: reported
        `interrupted` (the AT+CMGS may have gone out), never sent a second time."""
        changes = await repository.interrupt_expired_sends(
            self._db, render_status=render_status, resend=self._resend_interrupted
        )
        for change in changes:
            log.warning(
                "message %s to %s was being sent by a node that stopped answering: %s",
                change.message_id,
                change.peer,
                change.error or change.status.value,
            )
            self.count_transition(change)
        if changes:
            self._wake_dispatcher()

    def _refresh_info_soon(self, runtime: ModemRuntime) -> None:
        """Read operator, signal and storage as soon as a modem becomes READY.

        The heartbeat re-reads them only every INFO_INTERVAL and skips modems that are not
        READY (as all are at start), so without this the API and UI would show nothing for
        up to a minute after a start or reconnect.  A task, because the event sink must
        return to the supervisor before the modem can answer more commands."""
        if runtime.info_refresh is not None and not runtime.info_refresh.done():
            return

        async def refresh() -> None:
            await self._refresh_info(runtime, full=True)
            await self._heartbeat_modem(runtime)  # other nodes see it at once, too

        task = asyncio.create_task(refresh(), name=f"info {runtime.settings.name}")
        task.add_done_callback(log_crash)
        runtime.info_refresh = task

    async def _refresh_info(self, runtime: ModemRuntime, *, full: bool = False) -> None:
        """Read the modem's info: all of it after (re)connecting, then only what changes."""
        modem = runtime.supervisor.modem
        if runtime.supervisor.state is not ModemState.READY or modem is None:
            return
        try:
            if full or runtime.info is None:
                runtime.info = await modem.info()
            else:
                runtime.info = await modem.refresh_info(runtime.info)
            telemetry.modem_info(runtime.settings.name, runtime.info)
            self.on_change()
        except Exception as error:  # a busy or flaky modem must not stop the heartbeats
            log.debug("%s: could not read modem info: %s", runtime.settings.name, error)

    async def _heartbeat_modem(self, runtime: ModemRuntime) -> None:
        info: dict[str, object] = {
            "port": runtime.settings.port,
            "reason": runtime.supervisor.reason,
        }
        if runtime.info is not None:
            info.update(runtime.info.as_json())
        if runtime.balance is not None:
            info["balance"] = runtime.balance.as_json()
        try:
            await repository.heartbeat_modem(
                self._db,
                modem=runtime.settings.name,
                node=self.node,
                state=runtime.supervisor.state.value,
                info=info,
                stale_after=self._settings.node.lease,
            )
        except StoreError as error:
            log.error("%s: %s", runtime.settings.name, error)

    # ------------------------------------------------------------------ stopping
    async def drain(self, grace: float) -> None:
        """Give each READY modem up to `grace` seconds to finish the send under way.

        A claimed message waiting for a modem that is not READY stays claimed: start-up
        recovery reports it, so nothing is waited for that cannot finish."""
        for runtime in self._modems.values():
            if runtime.supervisor.state is not ModemState.READY:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await runtime.worker.idle.wait()

    async def stop(self) -> None:
        """Cancel pending detail reads, then stop every supervisor (closing the ports)."""
        refreshes = [r.info_refresh for r in self._modems.values() if r.info_refresh is not None]
        for task in refreshes:
            task.cancel()
        await asyncio.gather(*refreshes, return_exceptions=True)
        await asyncio.gather(
            *(runtime.supervisor.stop() for runtime in self._modems.values()),
            return_exceptions=True,
        )


def _remote_view(
    name: str, node: str, state: str, info: object, last_seen: datetime.datetime
) -> ModemView:
    """Another node's modem, from the heartbeat row it wrote."""
    details = info if isinstance(info, dict) else {}

    def text(key: str) -> str | None:
        value = details.get(key)
        return value if isinstance(value, str) else None

    signal = details.get("signal_dbm")
    balance = details.get("balance")
    return ModemView(
        name=name,
        node=node,
        port=text("port") or "",
        state=state,
        reason=text("reason"),
        manufacturer=None,
        model=None,
        revision=None,
        operator=text("operator"),
        signal_dbm=signal if isinstance(signal, int) else None,
        registration=text("registration"),
        storage_used=None,
        storage_total=None,
        counters={},
        last_seen=last_seen,
        balance=_balance_of(balance),
    )


def _balance_of(value: object) -> ModemBalance | None:
    """A balance another node wrote into its heartbeat row (None when absent or odd)."""
    if not isinstance(value, dict):
        return None
    amount, text, checked = value.get("amount"), value.get("text"), value.get("checked_at")
    if not isinstance(text, str) or not isinstance(checked, str):
        return None
    try:
        checked_at = datetime.datetime.fromisoformat(checked)
    except ValueError:
        return None
    number = float(amount) if isinstance(amount, int | float) else None
    return ModemBalance(number, text, checked_at)


def log_crash(task: asyncio.Task[None]) -> None:
    """A crashed background loop is logged loudly instead of vanishing with its task.

    A done-callback rather than a wrapper coroutine: a task cancelled before its first step
    (a gateway stopped right after starting) then closes its coroutine cleanly, where a wrapper
    would leave the inner coroutine "never awaited"."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %r crashed", task.get_name(), exc_info=error)
