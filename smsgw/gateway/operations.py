"""What the REST API and the web inbox do to the running gateway, written once for both.

Both front ends sit above the gateway and beside each other: neither may import the other,
so whatever they share lives here. `GatewayOperations` is the small surface they need from
the daemon (`Gateway` satisfies it as it is; tests hand them a double over a real store),
and the functions below are the operations themselves: an operator's reply typed in the
inbox passes exactly the checks an API client's send does, and a retry from either side
wakes the dispatcher the same way.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Awaitable, Callable
from typing import Protocol

from smsgw.config import Settings
from smsgw.exceptions import SubmitRefused
from smsgw.gateway import telemetry
from smsgw.gateway.inputs import check_text, normalise_number, plain_string
from smsgw.gateway.quarantine import Quarantine
from smsgw.models import ModemView, SendOptions
from smsgw.mqtt.status import MqttStatus
from smsgw.pdu import Encoding, PartCount
from smsgw.store import Database, repository
from smsgw.store.repository import inbox
from smsgw.store.types import Enqueued, QuarantineRecord

__all__ = [
    "GatewayOperations",
    "Outgoing",
    "RetryOperation",
    "check_outgoing",
    "mqtt_status",
    "release_quarantined",
    "retry_dead_letter",
    "retry_waiting_event",
    "send",
]


class GatewayOperations(Protocol):
    """The running gateway as the API and the web inbox see it."""

    settings: Settings
    db: Database

    async def submit(
        self,
        *,
        to: str,
        text: str,
        modem: str | None,
        delivery_report: bool,
        idempotency_key: str | None,
        count: PartCount | None = None,
        options: SendOptions | None = None,
    ) -> Enqueued:
        """Queue an outgoing message and wake the modem worker; raises `SubmitRefused`.

        `to` is E.164 and `count` is `text`'s split when the caller checked it already;
        `options` carries send_at, validity, flash and a forced alphabet."""
        ...

    async def modems(self) -> list[ModemView]:
        """Current state of every known modem (this node's live view plus heartbeats)."""
        ...

    async def ready(self) -> tuple[bool, str]:
        """True when the DB is reachable and at least one modem is READY; and why not."""
        ...

    def wake_webhook(self) -> None:
        """Tell the webhook dispatcher an event became due now (an operator retried one).

        Without it the dispatcher sleeps until its next known due event or its idle poll
        (30 s), so "Retry now" would not be now.  A no-op when no webhook is configured.
        """
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class Outgoing:
    """A send that passed the input checks: number in E.164, text split once."""

    to: str
    text: str
    modem: str | None
    count: PartCount
    options: SendOptions = dataclasses.field(default_factory=SendOptions)


def check_outgoing(
    settings: Settings,
    *,
    to: str,
    text: str,
    modem: str | None,
    options: SendOptions | None = None,
) -> Outgoing:
    """The checks every client-supplied send passes (raises `InvalidInput`, a 422).

    The number is normalised to E.164 (national numbers read as `api.default_region`), the
    text must be non-blank, free of NUL and lone surrogates, encodable as SMS (in the
    alphabet `options.encoding` forces, if any) and within `limits.max_parts`; a modem name
    must be a plain string. `options` come from `send_options.check_send_options`."""
    options = options or SendOptions()
    number = normalise_number(to, settings.api.default_region)
    count = check_text(text, settings.limits.max_parts, alphabet_of(options.encoding))
    chosen = None if modem is None else plain_string("modem", modem)
    return Outgoing(to=number, text=text, modem=chosen, count=count, options=options)


def alphabet_of(encoding: str | None) -> Encoding | None:
    """The pdu alphabet a checked `SendOptions.encoding` names (None: chosen by the text)."""
    if encoding == "gsm7":
        return "gsm7"
    if encoding == "ucs2":
        return "ucs2"
    return None


async def send(
    gateway: GatewayOperations,
    outgoing: Outgoing,
    *,
    delivery_report: bool,
    idempotency_key: str | None,
    quiet_hours: bool = True,
) -> Enqueued:
    """Queue a checked send; the gateway reuses the part count made by the checks.

    A recipient on the opt-out list is refused (409) whoever sends: API, inbox or MQTT.
    With `quiet_hours` (client sends; not an operator answering in the inbox) a send that
    would go out inside `limits.quiet_hours` is scheduled for the end of the window."""
    listed = await repository.get_optout(gateway.db, outgoing.to)
    if listed is not None:
        telemetry.optout_refused("api")
        how = "replied STOP" if listed.source == "sms" else f"added by {listed.source}"
        raise SubmitRefused(
            409,
            f"{outgoing.to} is on the opt-out list ({how} on "
            f"{listed.created_at:%Y-%m-%d %H:%M} UTC); remove it with "
            f"DELETE /api/v1/optouts/{outgoing.to} to send again",
        )
    options = outgoing.options
    if quiet_hours:
        options = hold_for_quiet_hours(gateway.settings, options, gateway.db.clock())
    return await gateway.submit(
        to=outgoing.to,
        text=outgoing.text,
        modem=outgoing.modem,
        delivery_report=delivery_report,
        idempotency_key=idempotency_key,
        count=outgoing.count,
        options=options,
    )


def hold_for_quiet_hours(
    settings: Settings, options: SendOptions, now: datetime.datetime
) -> SendOptions:
    """`options` with `send_at` moved to the end of quiet hours when the send (now, or at
    its own `send_at`) would fall inside them; unchanged otherwise."""
    quiet = settings.limits.quiet()
    if quiet is None:
        return options
    wanted = options.send_at if options.send_at is not None and options.send_at > now else now
    release = quiet.release_time(wanted)
    if release == wanted:
        return options
    return dataclasses.replace(options, send_at=release)


def mqtt_status(gateway: object) -> MqttStatus | None:
    """The MQTT link's status, or None when `[mqtt]` is off (or for a gateway double).

    Read from the gateway's `mqtt` attribute rather than a method of `GatewayOperations`, so
    the doubles the front-end tests use need not know MQTT exists."""
    status = getattr(getattr(gateway, "mqtt", None), "status", lambda: None)()
    return status if isinstance(status, MqttStatus) else None


#: `retry_dead_letter` or `retry_waiting_event`: True when the event is due now.
RetryOperation = Callable[["GatewayOperations", int], Awaitable[bool]]


async def retry_dead_letter(gateway: GatewayOperations, entry_id: int) -> bool:
    """Put a dead-lettered event back in the outbox and post it now (False: not dead)."""
    if not await repository.retry_dead_letter(gateway.db, entry_id):
        return False
    gateway.wake_webhook()
    return True


async def retry_waiting_event(gateway: GatewayOperations, entry_id: int) -> bool:
    """Post an event that is waiting for its next attempt now instead of after its back-off
    (False: it is not waiting, e.g. delivered or being posted meanwhile)."""
    if not await inbox.retry_waiting_now(gateway.db, entry_id):
        return False
    gateway.wake_webhook()
    return True


async def release_quarantined(gateway: GatewayOperations, entry_id: int) -> QuarantineRecord | None:
    """Clear one quarantined SMS (None: no such entry). Clearing a modem's last one resolves
    its `quarantined` alert; the dispatcher is woken for that event."""
    return await Quarantine(gateway.db, on_new_event=gateway.wake_webhook).release(entry_id)
