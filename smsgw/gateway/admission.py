"""Admission: whether an outgoing message may be queued, and for which modem.

Every send the gateway did not decide itself (the REST API, the web inbox, the CLI through
the API) comes in here: the text is checked against `limits.max_parts`, the modem against
what any node has registered and against its daily limit, and only then is the message
queued. Auto-replies take another path (the webhook outbox queues them inside the same
transaction that records the webhook's answer) and are limited there.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Awaitable, Callable

from smsgw import config, pdu
from smsgw.exceptions import SubmitRefused
from smsgw.gateway import telemetry
from smsgw.models import MessageStatus, SendOptions
from smsgw.store import Database, repository
from smsgw.store.types import Enqueued

__all__ = ["Admission"]


class Admission:
    """Checks and queues one outgoing message at a time, then wakes the modem that will send.

    `known_modems` names every modem a message may be bound to (this node's and, on a shared
    database, the other nodes'); `on_queued` wakes the workers for the chosen modem (None:
    unbound, any READY modem may claim it); `on_scheduled` wakes the scheduler, which may
    have to wake earlier than it planned.
    """

    def __init__(
        self,
        db: Database,
        settings: config.Settings,
        *,
        known_modems: Callable[[], Awaitable[set[str]]],
        on_queued: Callable[[str | None], None],
        on_scheduled: Callable[[], None] = lambda: None,
        sticky: Callable[[str, set[str]], Awaitable[str | None]] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._known_modems = known_modems
        self._on_queued = on_queued
        self._on_scheduled = on_scheduled
        self._sticky = sticky

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
        """Queue a send for the named modem, or unbound: the first READY modem of any node
        claims it (so a modem that dies after the submit holds nothing back).

        `count` is the caller's split of `text` when it already made one (the shared input
        checks do), so a text is encoded once per send, not once per layer.
        """
        if count is None:
            if not text:
                raise SubmitRefused(422, "text is empty")
            count = pdu.count_parts(text, _alphabet(options))
        limit = self._settings.limits.max_parts
        if count.parts > limit:
            raise SubmitRefused(422, f"text needs {count.parts} parts; limits.max_parts is {limit}")
        try:
            target = await self._choose_modem(modem, to)
        except SubmitRefused as refused:
            if refused.status_code != 429 or not self._settings.limits.defer_over_limit:
                raise
            # The user asked for "tomorrow" instead of 429: the counters are per UTC day.
            target, options = modem, _next_day(options, self._db.clock())
        enqueued = await repository.enqueue_outgoing(
            self._db,
            peer=to,
            text=text,
            parts=count.parts,
            encoding=count.encoding,
            modem=target,
            delivery_report=delivery_report,
            idempotency_key=idempotency_key,
            options=options,
        )
        if enqueued.created:
            telemetry.message_queued(target)
        if enqueued.message.status is MessageStatus.SCHEDULED:
            self._on_scheduled()
        else:
            self._on_queued(target)
        return enqueued

    async def _choose_modem(self, requested: str | None, peer: str) -> str | None:
        """The modem the message is bound to (None: unbound), after the 422/429 checks over
        every modem any node has registered. Without `requested`, the recipient's last
        modem while it is READY and under its limit (`sticky`), else unbound."""
        limit = self._settings.limits.daily_per_modem
        known = await self._known_modems()
        if requested is not None:
            if requested not in known:
                raise SubmitRefused(422, f"unknown modem {requested!r}")
            if await repository.daily_count(self._db, requested) >= limit:
                raise SubmitRefused(429, f"modem {requested} reached its daily limit ({limit})")
            return requested
        if not known:
            raise SubmitRefused(422, "no modem is configured")
        if self._sticky is not None:
            last = await self._sticky(peer, known)
            if last is not None and await repository.daily_count(self._db, last) < limit:
                return last
        for name in sorted(known):
            if await repository.daily_count(self._db, name) < limit:
                return None
        raise SubmitRefused(429, f"every modem reached its daily limit ({limit})")


def _alphabet(options: SendOptions | None) -> pdu.Encoding | None:
    """The alphabet the client forced, if any (None: GSM-7 when the text fits)."""
    if options is None or options.encoding is None:
        return None
    return "ucs2" if options.encoding == "ucs2" else "gsm7"


def _next_day(options: SendOptions | None, now: datetime.datetime) -> SendOptions:
    """`options` scheduled no earlier than the start of the next UTC day (when the daily
    counters start again)."""
    options = options or SendOptions()
    midnight = datetime.datetime.combine(
        now.astimezone(datetime.UTC).date() + datetime.timedelta(days=1),
        datetime.time(0),
        tzinfo=datetime.UTC,
    )
    if options.send_at is not None and options.send_at >= midnight:
        return options
    return dataclasses.replace(options, send_at=midnight)
