"""The gateway daemon: builds modems, store and webhook from `Settings` and runs them together.

Start-up order matters for the no-loss guarantees: migrations first; then messages a crash
left in `sending` are reported `interrupted` (never silently resent); then the dispatcher
(so events committed before the crash go out at once); then the modems, whose first storage
sweep re-reads whatever was still on the SIM. Stopping reverses it: no new modem events, a
send under way is given time to finish, POSTs under way may finish, then the database closes.

Several nodes may share one PostgreSQL (issue 8, docs/multi-node.md): each node registers
its modems at start (a name another live node uses stops the start with `ModemNameTaken`),
sends unbound messages from whichever READY modem claims them first (LISTEN/NOTIFY wakes the
workers of every node; a short poll backs it up), renews the leases of its own sends every
heartbeat and reports the sends of nodes silent for a whole `node.lease` as `interrupted`.

`Gateway` is also what the REST API calls (`submit`, `modems`, `ready`): `smsgw run` adapts
it to `smsgw.api.services.ApiServices` (the API layer sits above this one).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from smsgw import config, pdu
from smsgw.exceptions import SmsgwError, StoreError, SubmitRefused
from smsgw.gateway import telemetry
from smsgw.gateway.inbound import REASSEMBLY_TIMEOUT, Inbound
from smsgw.gateway.outbound import IDLE_POLL, ModemWorker
from smsgw.gateway.outbox_adapter import StoreOutbox
from smsgw.gateway.render import incoming_renderer, render_status
from smsgw.gateway.reports import Reports
from smsgw.gateway.settings import webhook_settings
from smsgw.models import MessageStatus, ModemView
from smsgw.modem import (
    MessageReceived,
    ModemEvent,
    ModemInfo,
    ModemSettings,
    ModemState,
    ModemSupervisor,
    Opener,
    RebootDetected,
    RegistrationChanged,
    StateChanged,
    StatusReportReceived,
    StorageAlmostFull,
    StoredSubmitFound,
    SupervisorSettings,
    UndecodablePdu,
    serial_opener,
)
from smsgw.sdnotify import Notifier, keep_alive
from smsgw.store import Database, open_database, repository, upgrade_database
from smsgw.store.notify import QueueListener
from smsgw.store.types import Enqueued, MessageRecord, ReceivedMessage, StatusTransition
from smsgw.webhook import WebhookDispatcher, utc_now
from smsgw.webhook.transport import new_client

log = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]

#: Idle re-check of the queue on PostgreSQL, should a notification be lost (the listener's
#: connection dropped): other nodes queue work this node's modems can take.
SHARED_DB_POLL = 2.0
#: How often the modem details shown by the API (operator, signal...) are re-read.
INFO_INTERVAL = 60.0
#: How long stopping waits for a send that already reached the modem.
SEND_GRACE = 15.0


class ModemNameTaken(SmsgwError):
    """A configured modem name is in use by another live node on the same database."""


@dataclasses.dataclass
class _Counters:
    received: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0


@dataclasses.dataclass
class _ModemRuntime:
    settings: config.ModemSection
    supervisor: ModemSupervisor
    worker: ModemWorker
    counters: _Counters = dataclasses.field(default_factory=_Counters)
    #: Last details read from the modem, kept between reads and while it is not READY.
    info: ModemInfo | None = None
    info_refresh: asyncio.Task[None] | None = None


def default_opener(modem: config.ModemSection) -> Opener:
    return serial_opener(modem.port, baudrate=modem.baud)


class Gateway:
    """Everything `smsgw run` keeps alive; `async with Gateway(settings): ...`."""

    def __init__(
        self,
        settings: config.Settings,
        *,
        clock: Clock = utc_now,
        opener: Callable[[config.ModemSection], Opener] = default_opener,
        supervisor_settings: Callable[[config.ModemSection], SupervisorSettings] | None = None,
        notifier: Notifier | None = None,
        reassembly_timeout: datetime.timedelta = REASSEMBLY_TIMEOUT,
        resend_interrupted: bool = False,
    ) -> None:
        self.settings = settings
        self.node = settings.node.name
        self._clock = clock
        self._opener = opener
        self._supervisor_settings = supervisor_settings or _supervisor_settings
        self._notifier = notifier or Notifier()
        self._reassembly_timeout = reassembly_timeout
        self._resend_interrupted = resend_interrupted
        self.db: Database = open_database(settings.database.url, clock=clock)
        self._listener = QueueListener(self.db, self._wake_workers)
        self.dispatcher: WebhookDispatcher | None = None
        self._client = new_client()
        self._modems: dict[str, _ModemRuntime] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._db_healthy = True
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Migrate, recover, and start dispatcher, modems and background loops."""
        if self._started:
            return
        self._started = True
        await upgrade_database(self.db)
        await repository.heartbeat_node(self.db, self.node)
        interrupted = await repository.interrupt_stale_sends(
            self.db,
            node=self.node,
            render_status=render_status,
            resend=self._resend_interrupted,
        )
        for change in interrupted:
            log.warning(
                "message %s to %s was being sent when the gateway stopped: %s",
                change.message_id,
                change.peer,
                change.error or change.status.value,
            )
        await self._register_modems()
        released = await repository.release_event_claims(self.db, node=self.node)
        if released:
            log.info("%d webhook event(s) claimed before a crash are pending again", released)
        limits = self.settings.limits
        webhook = self.settings.webhook
        outbox = StoreOutbox(
            self.db,
            node=self.node,
            max_parts=limits.max_parts,
            replies_per_peer_per_hour=limits.replies_per_peer_per_hour,
            webhook_timeout=webhook.timeout,
            lease=self.settings.node.lease,
            on_reply_queued=self._reply_queued,
            worker_for=self._worker_or_none,
        )
        if webhook.url:
            self.dispatcher = WebhookDispatcher(
                outbox,
                self._client,
                webhook_settings(webhook),
                clock=self._clock,
                on_attempt=telemetry.webhook_attempt,
            )
            await self.dispatcher.start()
        else:
            log.warning("webhook.url is empty: events are kept in the outbox until one is set")
        self.inbound = Inbound(
            self.db,
            render=incoming_renderer(webhook.history_size, recipient=self.own_number),
            history_size=webhook.history_size,
            on_new_event=self._wake_dispatcher,
            on_received=self._count_received,
            reassembly_timeout=self._reassembly_timeout,
        )
        self.reports = Reports(
            self.db, on_new_event=self._wake_dispatcher, on_transition=self._count_transition
        )
        for modem in self.settings.modem:
            self._add_modem(modem)
        interval = min(30.0, self._reassembly_timeout.total_seconds() / 4)
        self._spawn(self.inbound.run_timeouts(max(0.05, interval)), "reassembly timeouts")
        self._spawn(self._heartbeats(), "heartbeats")
        self._spawn(self._listener.run(), "queue notifications")
        self._spawn(keep_alive(self._notifier, lambda: self._db_healthy), "watchdog")
        self._notifier.ready(self.status_line())
        log.info("gateway node %s started with %d modem(s)", self.node, len(self._modems))

    def _add_modem(self, modem: config.ModemSection) -> None:
        pin = modem.pin.get_secret_value() or None

        async def sink(event: ModemEvent) -> None:
            await self._on_event(self._modems[modem.name], event)

        supervisor = ModemSupervisor(
            self._opener(modem),
            modem_id=modem.name,
            sink=sink,
            modem_settings=ModemSettings(pin=pin),
            settings=self._supervisor_settings(modem),
            at_observer=telemetry.at_command_observer(modem.name),
        )
        worker = ModemWorker(
            self.db,
            supervisor,
            node=self.node,
            daily_limit=self.settings.limits.daily_per_modem,
            on_new_event=self._wake_dispatcher,
            on_transition=self._count_transition,
            on_released=lambda _message: self._wake_workers(None),
            lease=self.settings.node.lease,
            idle_poll=SHARED_DB_POLL if self._listener.needed else IDLE_POLL,
        )
        runtime = _ModemRuntime(modem, supervisor, worker)
        self._modems[modem.name] = runtime
        telemetry.modem_state(modem.name, supervisor.state.value)
        supervisor.start()
        self._spawn(worker.run(), f"sender {modem.name}")

    async def _register_modems(self) -> None:
        """Claim this node's modem names before opening any port: with several nodes on one
        database, a name another live node reports is a configuration mistake that would mix
        up both modems' auto-replies and reports, so the start stops with a clear error."""
        for modem in self.settings.modem:
            try:
                await repository.heartbeat_modem(
                    self.db,
                    modem=modem.name,
                    node=self.node,
                    state=ModemState.DISCONNECTED.value,
                    info={"port": modem.port},
                    stale_after=self.settings.node.lease,
                )
            except StoreError as error:
                self._started = False
                await self.db.close()
                raise ModemNameTaken(
                    f"cannot start node {self.node}: {error}. Rename [[modem]] {modem.name!r} "
                    f"in this node's configuration, or stop the other node"
                ) from error

    async def stop(self) -> None:
        """Graceful stop (SIGTERM): no loss, nothing half-done left that recovery cannot see."""
        if not self._started:
            await self.db.close()
            return
        self._started = False
        self._notifier.stopping()
        for runtime in self._modems.values():
            if runtime.supervisor.state is not ModemState.READY:
                continue  # a claimed message waiting for the modem stays claimed (recovered)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SEND_GRACE):
                    await runtime.worker.idle.wait()
        refreshes = [r.info_refresh for r in self._modems.values() if r.info_refresh is not None]
        for task in [*self._tasks, *refreshes]:
            task.cancel()
        await asyncio.gather(*self._tasks, *refreshes, return_exceptions=True)
        self._tasks.clear()
        await asyncio.gather(
            *(runtime.supervisor.stop() for runtime in self._modems.values()),
            return_exceptions=True,
        )
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        await self._client.aclose()
        await self.db.close()
        log.info("gateway node %s stopped", self.node)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_log_crash)
        self._tasks.append(task)

    # ------------------------------------------------------------------ modem events
    async def _on_event(self, runtime: _ModemRuntime, event: ModemEvent) -> None:
        name = runtime.settings.name
        if isinstance(event, MessageReceived):
            await self.inbound.on_message(event)
        elif isinstance(event, StatusReportReceived):
            await self.reports.on_report(event)
        elif isinstance(event, StateChanged):
            log.info(
                "%s: %s%s", name, event.state.value, f" ({event.reason})" if event.reason else ""
            )
            telemetry.modem_state(name, event.state.value)
            if event.state is ModemState.READY:
                runtime.worker.wake()
                self._refresh_info_soon(runtime)
            self._notifier.status(self.status_line())
        elif isinstance(event, UndecodablePdu):
            log.error(
                "%s: undecodable PDU left in storage %s/%s: %s (%s)",
                name,
                event.storage,
                event.index,
                event.reason,
                event.pdu_hex,
            )
        elif isinstance(event, StoredSubmitFound):
            log.info("%s: outgoing message left in storage %s/%s", name, event.storage, event.index)
        elif isinstance(event, StorageAlmostFull):
            log.warning(
                "%s: storage %s almost full (%d/%d)", name, event.storage, event.used, event.total
            )
        elif isinstance(event, RebootDetected):
            log.warning("%s: modem rebooted (%s)", name, event.reason)
        elif isinstance(event, RegistrationChanged):
            log.info("%s: registration %s", name, event.registration)

    # ------------------------------------------------------------------ hooks
    def _wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def _worker_or_none(self, modem: str) -> ModemWorker | None:
        runtime = self._modems.get(modem)
        return runtime.worker if runtime is not None else None

    def _reply_queued(self, message: MessageRecord) -> None:
        self._wake_workers(message.modem)

    def _wake_workers(self, modem: str | None) -> None:
        for name, runtime in self._modems.items():
            if modem is None or name == modem:
                runtime.worker.wake()

    def _count_received(self, message: ReceivedMessage) -> None:
        runtime = self._modems.get(message.modem)
        telemetry.message_received(message.modem)
        if runtime is not None:
            runtime.counters.received += 1

    def _count_transition(self, change: StatusTransition) -> None:
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

    # ------------------------------------------------------------------ background
    async def _heartbeats(self) -> None:
        last_info = float("-inf")
        loop = asyncio.get_running_loop()
        while True:
            try:
                await repository.heartbeat_node(self.db, self.node)
                await repository.renew_send_claims(
                    self.db, node=self.node, lease=self.settings.node.lease
                )
                await self._interrupt_dead_nodes_sends()
                refresh = loop.time() - last_info >= INFO_INTERVAL
                for runtime in self._modems.values():
                    if refresh:
                        await self._refresh_info(runtime)
                    await self._heartbeat_modem(runtime)
                if refresh:
                    last_info = loop.time()
                await telemetry.refresh_queues(self.db)
                self._db_healthy = True
            except StoreError as error:
                self._db_healthy = False
                log.error("heartbeat failed: %s", error)
            self._notifier.status(self.status_line())
            await asyncio.sleep(self.settings.node.heartbeat_interval.total_seconds())

    async def _interrupt_dead_nodes_sends(self) -> None:
        """Messages another node was sending when it went silent for a whole lease: reported
        `interrupted` (the AT+CMGS may have gone out), never sent a second time."""
        changes = await repository.interrupt_expired_sends(
            self.db, render_status=render_status, resend=self._resend_interrupted
        )
        for change in changes:
            log.warning(
                "message %s to %s was being sent by a node that stopped answering: %s",
                change.message_id,
                change.peer,
                change.error or change.status.value,
            )
            self._count_transition(change)
        if changes:
            self._wake_dispatcher()

    def _refresh_info_soon(self, runtime: _ModemRuntime) -> None:
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
        task.add_done_callback(_log_crash)
        runtime.info_refresh = task

    async def _refresh_info(self, runtime: _ModemRuntime, *, full: bool = False) -> None:
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
        except Exception as error:  # a busy or flaky modem must not stop the heartbeats
            log.debug("%s: could not read modem info: %s", runtime.settings.name, error)

    async def _heartbeat_modem(self, runtime: _ModemRuntime) -> None:
        info: dict[str, object] = {
            "port": runtime.settings.port,
            "reason": runtime.supervisor.reason,
        }
        if runtime.info is not None:
            info.update(runtime.info.as_json())
        try:
            await repository.heartbeat_modem(
                self.db,
                modem=runtime.settings.name,
                node=self.node,
                state=runtime.supervisor.state.value,
                info=info,
                stale_after=self.settings.node.lease,
            )
        except StoreError as error:
            log.error("%s: %s", runtime.settings.name, error)

    def status_line(self) -> str:
        """The systemd STATUS= line: modem readiness at a glance."""
        ready = sum(1 for r in self._modems.values() if r.supervisor.state is ModemState.READY)
        states = ", ".join(f"{n} {r.supervisor.state.value}" for n, r in self._modems.items())
        return f"{ready}/{len(self._modems)} modems ready" + (f": {states}" if states else "")

    # ------------------------------------------------------------------ API services
    async def submit(
        self,
        *,
        to: str,
        text: str,
        modem: str | None,
        delivery_report: bool,
        idempotency_key: str | None,
    ) -> Enqueued:
        """Queue an API send for the named modem, or unbound: the first READY modem of any
        node claims it (so a modem that dies after the submit holds nothing back)."""
        if not text:
            raise SubmitRefused(422, "text is empty")
        count = pdu.count_parts(text)
        limits = self.settings.limits
        if count.parts > limits.max_parts:
            raise SubmitRefused(
                422, f"text needs {count.parts} parts; limits.max_parts is {limits.max_parts}"
            )
        target = await self._choose_modem(modem)
        enqueued = await repository.enqueue_outgoing(
            self.db,
            peer=to,
            text=text,
            parts=count.parts,
            encoding=count.encoding,
            modem=target,
            delivery_report=delivery_report,
            idempotency_key=idempotency_key,
        )
        if enqueued.created:
            telemetry.message_queued(target)
        self._wake_workers(target)
        return enqueued

    async def _choose_modem(self, requested: str | None) -> str | None:
        """The modem the message is bound to (None: unbound), after the 422/429 checks over
        every modem any node has registered."""
        limit = self.settings.limits.daily_per_modem
        known = await self._known_modems()
        if requested is not None:
            if requested not in known:
                raise SubmitRefused(422, f"unknown modem {requested!r}")
            if await repository.daily_count(self.db, requested) >= limit:
                raise SubmitRefused(429, f"modem {requested} reached its daily limit ({limit})")
            return requested
        if not known:
            raise SubmitRefused(422, "no modem is configured")
        for name in sorted(known):
            if await repository.daily_count(self.db, name) < limit:
                return None
        raise SubmitRefused(429, f"every modem reached its daily limit ({limit})")

    async def _known_modems(self) -> set[str]:
        """This node's modems plus those other nodes registered (PostgreSQL shared)."""
        names = set(self._modems)
        if self._listener.needed:
            names.update(beat.name for beat in await repository.list_modem_heartbeats(self.db))
        return names

    async def modems(self) -> list[ModemView]:
        views: list[ModemView] = []
        for name, runtime in self._modems.items():
            info = runtime.info
            storage = info.storage[0] if info is not None and info.storage else None
            counters = dataclasses.asdict(runtime.counters)
            with contextlib.suppress(StoreError):
                counters["today"] = await repository.daily_count(self.db, name)
            views.append(
                ModemView(
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
                )
            )
        with contextlib.suppress(StoreError):
            for beat in await repository.list_modem_heartbeats(self.db):
                if beat.name in self._modems:
                    continue
                views.append(
                    _remote_snapshot(beat.name, beat.node, beat.state, beat.info, beat.last_seen)
                )
        return views

    async def ready(self) -> tuple[bool, str]:
        try:
            await self.db.ping()
        except StoreError as error:
            # The error names the database user and host: log it, keep the public answer bare
            # (/health/ready needs no key).
            log.warning("readiness: %s", error)
            return False, "database unreachable"
        ready = [n for n, r in self._modems.items() if r.supervisor.state is ModemState.READY]
        if not ready:
            return False, "no modem is ready: " + self.status_line()
        return True, self.status_line()

    def own_number(self, modem: str) -> str | None:
        """The SIM's own number: `[[modem]] number` if configured, else what AT+CNUM said."""
        runtime = self._modems.get(modem)
        if runtime is None:
            return None
        return runtime.settings.number or runtime.supervisor.own_number

    def worker(self, name: str) -> ModemWorker:
        return self._modems[name].worker

    def supervisor(self, name: str) -> ModemSupervisor:
        return self._modems[name].supervisor


def _remote_snapshot(
    name: str, node: str, state: str, info: object, last_seen: datetime.datetime
) -> ModemView:
    details = info if isinstance(info, dict) else {}

    def text(key: str) -> str | None:
        value = details.get(key)
        return value if isinstance(value, str) else None

    signal = details.get("signal_dbm")
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
    )


def _supervisor_settings(modem: config.ModemSection) -> SupervisorSettings:
    return SupervisorSettings(
        dialect=None if modem.dialect == "auto" else modem.dialect,
        health_interval=modem.health_interval.total_seconds(),
        sweep_interval=modem.sweep_interval.total_seconds(),
    )


def _log_crash(task: asyncio.Task[None]) -> None:
    """A crashed background loop is logged loudly instead of vanishing with its task.

    A done-callback rather than a wrapper coroutine: a task cancelled before its first step
    (a gateway stopped right after starting) then closes its coroutine cleanly, where a wrapper
    would leave the inner coroutine "never awaited"."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %r crashed", task.get_name(), exc_info=error)
