"""Turning store records and modem views into what the templates show.

Kept apart from the routes so the rules (which peers can be answered, what a status looks
like, what of the webhook URL may be shown) are plain functions with tests of their own.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import urllib.parse
from collections.abc import Sequence

from smsgw.models import Direction, ModemView
from smsgw.mqtt.status import MqttStatus
from smsgw.pdu import gsm7
from smsgw.store.repository.inbox import Conversation, WaitingEvent, WebhookHealth, message_time
from smsgw.store.repository.optouts import OptOut
from smsgw.store.types import DeadLetter, MessageRecord
from smsgw.ui.watch import ModemProblem, ModemWatch, sparkline_points

__all__ = [
    "GSM7_BASIC_JSON",
    "GSM7_EXTENSION_JSON",
    "Bubble",
    "ConversationRow",
    "ModemCard",
    "bubbles",
    "can_reply",
    "conversations",
    "modem_card",
    "peer_path",
    "public_url",
]

#: The alphabet tables the JavaScript counter uses, taken from the encoder itself so the
#: browser's count can never drift from what `smsgw.pdu.count_parts` says.
GSM7_BASIC_JSON = json.dumps(
    "".join(char for code, char in enumerate(gsm7.DEFAULT_ALPHABET) if code != gsm7.ESCAPE)
)
GSM7_EXTENSION_JSON = json.dumps("".join(gsm7.EXTENSION_TABLE.values()))

_NUMBER = re.compile(r"\+?[0-9]{3,20}")
PREVIEW_CHARS = 80


def can_reply(peer: str) -> bool:
    """Only numbers can be answered; alphanumeric senders ("BANK") cannot receive SMS."""
    return _NUMBER.fullmatch(peer) is not None


def peer_path(peer: str) -> str:
    return urllib.parse.quote(peer, safe="")


def when(moment: datetime.datetime | None) -> str:
    """UTC text for a `<time>` element; the page's script rewrites it in the browser's own
    time zone (from the element's `datetime`), so this is what shows without JavaScript."""
    if moment is None:
        return ""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(datetime.UTC).isoformat()


@dataclasses.dataclass(frozen=True, slots=True)
class ConversationRow:
    peer: str
    url_peer: str
    preview: str
    outgoing: bool
    status: str | None
    at: str
    at_iso: str
    unread: int


def conversations(items: Sequence[Conversation]) -> list[ConversationRow]:
    rows = []
    for item in items:
        text = " ".join(item.last.text.split())
        if len(text) > PREVIEW_CHARS:
            text = text[: PREVIEW_CHARS - 1] + "…"
        rows.append(
            ConversationRow(
                peer=item.peer,
                url_peer=peer_path(item.peer),
                preview=text,
                outgoing=item.last.direction is Direction.OUT,
                status=None if item.last.status is None else item.last.status.value,
                at=when(item.at),
                at_iso=iso(item.at),
                unread=item.unread,
            )
        )
    return rows


@dataclasses.dataclass(frozen=True, slots=True)
class Bubble:
    id: str
    outgoing: bool
    text: str
    at: str
    at_iso: str
    modem: str | None
    status: str | None
    error: str | None
    parts: int
    missing_parts: tuple[int, ...]


def bubbles(messages: Sequence[MessageRecord]) -> list[Bubble]:
    return [
        Bubble(
            id=message.id,
            outgoing=message.direction is Direction.OUT,
            text=message.text,
            at=when(message_time(message)),
            at_iso=iso(message_time(message)),
            modem=message.modem,
            status=None if message.status is None else message.status.value,
            error=message.error,
            parts=message.parts,
            missing_parts=message.missing_parts,
        )
        for message in messages
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class ModemCard:
    view: ModemView
    ready: bool
    last_seen: str
    last_seen_iso: str
    signal_points: str
    signal_min: int | None
    signal_max: int | None
    storage_percent: int | None
    problems: Sequence[ModemProblem]
    problem_times: Sequence[str]
    problem_isos: Sequence[str]


def modem_card(view: ModemView, watch: ModemWatch) -> ModemCard:
    samples = watch.signal(view.name)
    levels = [sample.dbm for sample in samples]
    storage = (
        round(100 * view.storage_used / view.storage_total)
        if view.storage_used is not None and view.storage_total
        else None
    )
    problems = watch.problems(view.name)
    return ModemCard(
        view=view,
        ready=view.state == "ready",
        last_seen=when(view.last_seen),
        last_seen_iso=iso(view.last_seen),
        signal_points=sparkline_points(samples),
        signal_min=min(levels) if levels else None,
        signal_max=max(levels) if levels else None,
        storage_percent=storage,
        problems=problems,
        problem_times=[when(problem.at) for problem in problems],
        problem_isos=[iso(problem.at) for problem in problems],
    )


@dataclasses.dataclass(frozen=True, slots=True)
class MqttView:
    """The MQTT link's card on the webhook page (the second event sink beside the webhook)."""

    broker: str
    connected: bool
    published: int
    failures: int
    pending: str
    last_error: str | None


def mqtt_link(status: MqttStatus | None) -> MqttView | None:
    """None when MQTT is off. The broker is shown like the webhook URL: no credentials."""
    if status is None:
        return None
    return MqttView(
        broker=public_url(status.broker),
        connected=status.connected,
        published=status.published,
        failures=status.failures,
        pending="…" if status.pending is None else str(status.pending),
        last_error=status.last_error,
    )


def public_url(url: str) -> str:
    """The webhook URL without credentials, query or fragment (they may carry secrets)."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclasses.dataclass(frozen=True, slots=True)
class HealthView:
    window_minutes: int
    delivered: int
    dead: int
    dropped: int
    per_hour: str
    success: str
    latency_mean: str
    latency_max: str


def _seconds(value: datetime.timedelta | None) -> str:
    return "–" if value is None else f"{value.total_seconds():.2f} s"


def health(value: WebhookHealth) -> HealthView:
    ratio = value.success_ratio
    return HealthView(
        window_minutes=int(value.window.total_seconds() // 60),
        delivered=value.delivered,
        dead=value.dead,
        dropped=value.dropped,
        per_hour=f"{value.per_hour:.1f}",
        success="–" if ratio is None else f"{100 * ratio:.0f} %",
        latency_mean=_seconds(value.latency_mean),
        latency_max=_seconds(value.latency_max),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetterRow:
    id: int
    event_id: str
    kind: str
    peer: str
    attempts: int
    created: str
    created_iso: str
    dead_at: str
    dead_at_iso: str
    last_error: str


def dead_letters(items: Sequence[DeadLetter]) -> list[DeadLetterRow]:
    return [
        DeadLetterRow(
            id=item.entry.id,
            event_id=item.entry.event_id,
            kind=item.entry.kind.value,
            peer=item.entry.peer,
            attempts=item.entry.attempts,
            created=when(item.entry.created_at),
            created_iso=iso(item.entry.created_at),
            dead_at=when(item.dead_at),
            dead_at_iso=iso(item.dead_at),
            last_error=item.last_error or "",
        )
        for item in items
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class WaitingRow:
    id: int
    event_id: str
    kind: str
    peer: str
    attempts: int
    next_attempt: str
    next_attempt_iso: str
    last_error: str


def waiting_events(items: Sequence[WaitingEvent]) -> list[WaitingRow]:
    return [
        WaitingRow(
            id=item.entry.id,
            event_id=item.entry.event_id,
            kind=item.entry.kind.value,
            peer=item.entry.peer,
            attempts=item.entry.attempts,
            next_attempt=when(item.next_attempt_at),
            next_attempt_iso=iso(item.next_attempt_at),
            last_error=item.last_error or "",
        )
        for item in items
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class OptOutRow:
    number: str
    how: str
    created: str
    created_iso: str


def optout(entry: OptOut) -> OptOutRow:
    how = {"sms": f"sent a stop word to {entry.modem or 'a modem'}", "api": "added through the API",
           "ui": "added in the inbox"}.get(entry.source, entry.source)  # fmt: skip
    return OptOutRow(
        number=entry.number,
        how=how,
        created=when(entry.created_at),
        created_iso=iso(entry.created_at),
    )
