"""The gateway daemon: builds modems, store and webhook from `Settings` and runs them together.

Start-up order matters for the no-loss guarantees: migrations first; then messages a crash
left in `sending` are reported `interrupted` (never silently resent); then the dispatcher
(so events committed before the crash go out at once); then the modems, whose first storage
sweep re-reads whatever was still on the SIM. Stopping reverses it: no new modem events, a
send under way is given time to finish, POSTs under way may finish, then the database closes.

Several nodes may share one PostgreSQL (docs/multi-node.md): each node registers
its modems at start (a name another live node uses stops the start with `ModemNameTaken`),
sends unbound messages from whichever READY modem claims them first (LISTEN/NOTIFY wakes the
workers of every node; a short poll backs it up), renews the leases of its own sends every
heartbeat and reports the sends of nodes silent for a whole `node.lease` as `interrupted`.

The jobs live in their own modules: `admission` decides whether and where a send is queued,
`fleet` knows the modems and runs the heartbeats; `Gateway` builds them and keeps them alive.
It is also what the REST API and the web inbox call (`submit`, `modems`, `ready`,
`wake_webhook`): it satisfies `smsgw.gateway.operations.GatewayOperations` as it is.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from smsgw import config, pdu
from smsgw.exceptions import StoreError
from smsgw.gateway import startup, telemetry
from smsgw.gateway.admission import Admission
from smsgw.gateway.alerts import ModemAlerts
from smsgw.gateway.fleet import Fleet, ModemRuntime, log_crash
from smsgw.gateway.inbound import REASSEMBLY_TIMEOUT, DirectPost, Inbound
from smsgw.gateway.modem_log import log_modem_event
from smsgw.gateway.mqtt_sends import mqtt_submitter
from smsgw.gateway.optout import OptOutKeywords
from smsgw.gateway.outbound import IDLE_POLL, ModemWorker
from smsgw.gateway.outbox_adapter import StoreOutbox
from smsgw.gateway.quarantine import Quarantine
from smsgw.gateway.render import incoming_renderer
from smsgw.gateway.reports import Reports
from smsgw.gateway.retention import Retention
from smsgw.gateway.scheduler import Scheduler
from smsgw.gateway.settings import modem_settings_of, supervisor_settings_of, webhook_settings
from smsgw.gateway.startup import ModemNameTaken
from smsgw.gateway.sticky import StickyChoice
from smsgw.gateway.unattended import Unattended
from smsgw.models import ModemView, SendOptions
from smsgw.modem import (
    MessageReceived,
    ModemEvent,
    ModemSupervisor,
    Opener,
    StateChanged,
    StatusReportReceived,
    SupervisorSettings,
    UndecodablePdu,
    serial_opener,
)
from smsgw.sdnotify import Notifier, keep_alive
from smsgw.store import Database, open_database, repository, upgrade_database
from smsgw.store.notify import QueueListener
from smsgw.store.types import Enqueued, MessageRecord
from smsgw.webhook import WebhookDispatcher, utc_now
from smsgw.webhook.transport import new_client

if TYPE_CHECKING:
    from smsgw.gateway.mqtt_bridge import MqttBridge

log = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]

#: Idle re-check of the queue on PostgreSQL, should a notification be lost (the listener's
#: connection dropped): other nodes queue work this node's modems can take.
SHARED_DB_POLL = 2.0
#: How long stopping waits for a send that already reached the modem.
SEND_GRACE = 15.0


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
        self._supervisor_settings = supervisor_settings or supervisor_settings_of
        self._notifier = notifier or Notifier()
        self._reassembly_timeout = reassembly_timeout
        self._resend_interrupted = resend_interrupted
        self.db: Database = open_database(settings.database.url, clock=clock)
        self._listener = QueueListener(self.db, self._queued_anywhere)
        self.scheduler = Scheduler(self.db, on_released=self._wake_workers)
        self.keywords = OptOutKeywords.of(self.db, settings, self._wake_workers)
        self.dispatcher: WebhookDispatcher | None = None
        self.mqtt: MqttBridge | None = None
        self._client = new_client(settings.webhook.url)
        self.fleet = Fleet(
            self.db,
            settings,
            clock=clock,
            notifier=self._notifier,
            shared_database=self._listener.needed,
            resend_interrupted=resend_interrupted,
            wake_dispatcher=self.wake_webhook,
        )
        self.admission = Admission(
            self.db,
            settings,
            known_modems=self.fleet.known_modems,
            on_queued=self._wake_workers,
            on_scheduled=self.scheduler.wake,
            sticky=StickyChoice(
                self.db,
                local_states=lambda: {m.settings.name: m.supervisor.state for m in self.fleet},
                shared_database=self._listener.needed,
            ).choose,
        )
        #: Raise/resolve `modem_alert` events; the quarantine opens its own in its commit.
        self.alerts = ModemAlerts(self.db, on_new_event=self.wake_webhook)
        self.quarantine = Quarantine(self.db, on_new_event=self.wake_webhook)
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self.unattended = Unattended(
            self.db, self.fleet, clock=clock, spawn=self._spawn, on_new_event=self.wake_webhook,
            alerts=self.alerts,
        )  # fmt: skip
        #: USSD sessions, for the API, the CLI and the inbox.
        self.ussd = self.unattended.sessions

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
        await startup.recover(self.db, node=self.node, resend_interrupted=self._resend_interrupted)
        try:
            await startup.register_modems(self.db, self.settings)
        except ModemNameTaken:
            self._started = False
            await self.db.close()
            raise
        await startup.release_event_claims(self.db, node=self.node)
        direct = await self._start_dispatcher()
        await self._start_mqtt()
        webhook = self.settings.webhook
        self.inbound = Inbound(
            self.db,
            render=incoming_renderer(webhook.history_size, recipient=self.own_number),
            history_size=webhook.history_size,
            on_new_event=self.wake_webhook,
            on_received=self.fleet.count_received,
            reassembly_timeout=self._reassembly_timeout,
            after_stored=self.keywords.handle,
            on_unusable=self.quarantine.keep,
            direct=direct,
            on_handed_over=self.mqtt.wake if self.mqtt is not None else lambda: None,
        )
        self.reports = Reports(
            self.db, on_new_event=self.wake_webhook, on_transition=self.fleet.count_transition
        )
        for modem in self.settings.modem:
            self._add_modem(modem)
        interval = min(30.0, self._reassembly_timeout.total_seconds() / 4)
        self._spawn(self.inbound.run_timeouts(max(0.05, interval)), "reassembly timeouts")
        self._spawn(self.fleet.run_heartbeats(), "heartbeats")
        self.unattended.start()
        retention = Retention(self.db, self.settings.retention)
        if retention.enabled:
            self._spawn(retention.run(), "retention")
        self._spawn(self._listener.run(), "queue notifications")
        self._spawn(self.scheduler.run(), "scheduled messages")
        self._spawn(self.keywords.run(), "missed opt-out keywords")
        self._spawn(keep_alive(self._notifier, lambda: self.fleet.db_healthy), "watchdog")
        self._notifier.ready(self.status_line())
        log.info("gateway node %s started with %d modem(s)", self.node, len(self.fleet))

    async def _start_dispatcher(self) -> DirectPost | None:
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
            worker_for=self.fleet.worker_or_none,
            is_keyword=lambda text: self.keywords.action(text) is not None,
        )
        if not webhook.url:
            log.warning("webhook.url is empty: events are kept in the outbox until one is set")
            return None
        self.dispatcher = WebhookDispatcher(
            outbox,
            self._client,
            webhook_settings(webhook),
            clock=self._clock,
            on_attempt=telemetry.webhook_attempt,
        )
        await self.dispatcher.start()
        return DirectPost(self.dispatcher, outbox.event_claim)

    async def _start_mqtt(self) -> None:
        """The MQTT sink (imported only when enabled); before the modems: it is owed every event."""
        if not self.settings.mqtt.enabled:
            return
        from smsgw.gateway.mqtt_bridge import MqttBridge

        self.mqtt = MqttBridge(
            self.settings.mqtt,
            db=self.db,
            node=self.node,
            modems=[modem.name for modem in self.settings.modem],
            views=self.modems,
            imei=self.modem_imei,
            clock=self._clock,
            submit=mqtt_submitter(self),
        )
        self.fleet.on_change = self.mqtt.modem_changed
        await self.mqtt.start()

    def _add_modem(self, modem: config.ModemSection) -> None:
        async def sink(event: ModemEvent) -> None:
            await self._on_event(self.fleet.get(modem.name), event)

        supervisor = ModemSupervisor(
            self._opener(modem),
            modem_id=modem.name,
            sink=sink,
            modem_settings=modem_settings_of(modem),
            settings=self._supervisor_settings(modem),
            at_observer=telemetry.at_command_observer(modem.name),
        )
        worker = ModemWorker(
            self.db,
            supervisor,
            node=self.node,
            daily_limit=self.settings.limits.daily_per_modem,
            on_new_event=self.wake_webhook,
            on_transition=self.fleet.count_transition,
            on_released=lambda _message: self._wake_workers(None),
            lease=self.settings.node.lease,
            idle_poll=SHARED_DB_POLL if self._listener.needed else IDLE_POLL,
            send_retries=self.settings.limits.send_retries,
        )
        runtime = ModemRuntime(modem, supervisor, worker)
        self.fleet.add(runtime)
        telemetry.modem_state(modem.name, supervisor.state.value)
        supervisor.start()
        self.unattended.watch(runtime)
        self._spawn(worker.run(), f"sender {modem.name}")

    async def stop(self) -> None:
        """Graceful stop (SIGTERM): no loss, nothing half-done left that recovery cannot see."""
        if not self._started:
            await self.db.close()
            return
        self._started = False
        self._notifier.stopping()
        await self.fleet.drain(SEND_GRACE)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.unattended.stop()
        await self.fleet.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.mqtt is not None:
            await self.mqtt.stop()
        await self._client.aclose()
        await self.db.close()
        log.info("gateway node %s stopped", self.node)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(log_crash)
        self._tasks.append(task)

    # ------------------------------------------------------------------ modem events
    async def _on_event(self, runtime: ModemRuntime, event: ModemEvent) -> None:
        if await self.unattended.on_event(runtime, event):
            return
        if isinstance(event, MessageReceived):
            await self.inbound.on_message(event)
        elif isinstance(event, StatusReportReceived):
            await self.reports.on_report(event)
        elif isinstance(event, StateChanged):
            self.fleet.state_changed(runtime, event)
        elif isinstance(event, UndecodablePdu):
            await self.quarantine.keep_undecodable(event)
        else:
            log_modem_event(runtime.settings.name, event)

    # ------------------------------------------------------------------ hooks
    def _reply_queued(self, message: MessageRecord) -> None:
        self._wake_workers(message.modem)

    def _wake_workers(self, modem: str | None) -> None:
        self.fleet.wake_workers(modem)

    def _queued_anywhere(self, modem: str | None) -> None:
        """Another node queued or scheduled a message (PostgreSQL notification): the modem
        workers may take it, and the scheduler re-reads its earliest due time."""
        self._wake_workers(modem)
        self.scheduler.wake()

    # ------------------------------------------------------------------ what API and UI call
    async def submit(
        self,
        *,
        to: str,
        text: str,
        modem: str | None,
        delivery_report: bool,
        idempotency_key: str | None,
        count: pdu.PartCount | None = None,
        options: SendOptions | None = None,
    ) -> Enqueued:
        """Queue a send (`Admission.submit`: limits, modem choice, then the queue)."""
        return await self.admission.submit(
            to=to,
            text=text,
            modem=modem,
            delivery_report=delivery_report,
            idempotency_key=idempotency_key,
            count=count,
            options=options,
        )

    async def modems(self) -> list[ModemView]:
        return await self.fleet.views()

    async def ready(self) -> tuple[bool, str]:
        """True when the database answers and at least one modem is READY; and why not."""
        try:
            await self.db.ping()
        except StoreError as error:
            # The error names the database user and host: log it, keep the public answer bare
            # (/health/ready needs no key).
            log.warning("readiness: %s", error)
            return False, "database unreachable"
        return self.fleet.ready()

    def wake_webhook(self) -> None:
        """Tell the dispatcher and the MQTT sink an event became due now (new, or retried by
        an operator); without a webhook URL the events wait in the outbox."""
        if self.dispatcher is not None:
            self.dispatcher.wake()
        if self.mqtt is not None:
            self.mqtt.wake()

    def status_line(self) -> str:
        return self.fleet.status_line()

    def own_number(self, modem: str) -> str | None:
        return self.fleet.own_number(modem)

    def modem_imei(self, name: str) -> str | None:
        """The IMEI the modem reported (MQTT discovery's device identifier), if read yet."""
        for runtime in self.fleet:
            if runtime.settings.name == name and runtime.info is not None:
                return runtime.info.identity.imei
        return None

    def worker(self, name: str) -> ModemWorker:
        return self.fleet.get(name).worker

    def supervisor(self, name: str) -> ModemSupervisor:
        return self.fleet.get(name).supervisor
