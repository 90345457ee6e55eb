"""Opt-out keywords: an incoming message that is exactly STOP (or START) puts its sender on
(or takes them off) the opt-out list and answers with the confirmation alone.

Matching is on the whole message, ignoring case, accents, surrounding blanks and closing
punctuation: "stop", "Stop!", " STOP " and "ştop" are STOP; "stop it" and "please stop" are
ordinary messages. The incoming message is still stored and posted to the webhook like any
other (the application may keep its own list); the webhook's answer to a keyword is not
sent, so the sender gets the confirmation only.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import unicodedata
from collections.abc import Callable
from typing import Literal

from smsgw import pdu
from smsgw.config import OptOutSection, Settings
from smsgw.exceptions import StoreError
from smsgw.gateway import telemetry
from smsgw.store import Database, repository
from smsgw.store.types import ReceivedMessage

log = logging.getLogger(__name__)

__all__ = ["Action", "KeywordMatcher", "OptOutKeywords", "keyword_form"]

Action = Literal["stop", "start"]
#: Characters allowed around a keyword without making it an ordinary message.
_AROUND = " \t\r\n.!?,;:\"'()[]"
#: Longer messages are never keywords; bounds the normalisation work on hostile input.
_MAX_KEYWORD_MESSAGE = 64
#: How far back a keyword that was stored but not acted on is still acted on.
REPLAY_WINDOW = datetime.timedelta(days=7)
#: How often the history is checked for such keywords (and once at start).
REPLAY_INTERVAL = 3600.0


def keyword_form(text: str) -> str:
    """`text` as keywords are compared: no accents (NFKD without combining marks), case
    folded, blanks and punctuation around it removed, inner blanks collapsed."""
    decomposed = unicodedata.normalize("NFKD", text[: _MAX_KEYWORD_MESSAGE * 2])
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().strip(_AROUND).split())


class KeywordMatcher:
    """Which keyword, if any, a message is (pure: no database)."""

    def __init__(self, section: OptOutSection) -> None:
        self._section = section
        self._stop = frozenset(keyword_form(word) for word in section.stop_words)
        self._start = frozenset(keyword_form(word) for word in section.start_words)

    def action(self, text: str) -> Action | None:
        """What `text` asks for, or None for an ordinary message (or with opt-out off)."""
        if not self._section.enabled or len(text) > _MAX_KEYWORD_MESSAGE:
            return None
        form = keyword_form(text)
        if form in self._stop:
            return "stop"
        if form in self._start:
            return "start"
        return None


class OptOutKeywords:
    """Acts on keywords in received messages (when `[optout] enabled`)."""

    def __init__(
        self,
        db: Database,
        section: OptOutSection,
        *,
        on_queued: Callable[[str | None], None],
        replay_window: datetime.timedelta = REPLAY_WINDOW,
    ) -> None:
        self._db = db
        self._section = section
        self._on_queued = on_queued
        self._replay_window = replay_window
        self.matcher = KeywordMatcher(section)

    @classmethod
    def of(
        cls, db: Database, settings: Settings, on_queued: Callable[[str | None], None]
    ) -> OptOutKeywords:
        """With `[retention] messages` shorter than `REPLAY_WINDOW`, replay only that far back:
        an older confirmation may have been pruned while its keyword message was kept (one
        whose webhook event is still pending), and would look as if it was never sent."""
        keep = settings.retention.messages
        window = min(REPLAY_WINDOW, keep) if keep else REPLAY_WINDOW
        return cls(db, settings.optout, on_queued=on_queued, replay_window=window)

    def action(self, text: str) -> Action | None:
        return self.matcher.action(text)

    async def handle(self, message: ReceivedMessage) -> None:
        """Update the list for a keyword and queue the confirmation from the same modem."""
        await self.act_on(message.id, message.peer, message.modem, message.text)

    async def run(self) -> None:
        """Replay lost keywords now (start-up) and then every `REPLAY_INTERVAL` (with
        opt-out on); a database error waits for the next turn."""
        while self._section.enabled:
            try:
                await self.replay_missed()
            except StoreError as error:
                log.error("opt-out: could not look for missed keywords: %s", error)
            except Exception:  # a bug must not end the loop: the next turn may succeed
                log.exception("opt-out: looking for missed keywords failed")
            await asyncio.sleep(REPLAY_INTERVAL)

    async def replay_missed(self) -> int:
        """Act on keyword messages of the last `REPLAY_WINDOW` that were stored but never
        acted on (the process stopped in between, or the database refused the update).

        Per sender only the latest keyword counts: a STOP whose handling was lost is not
        replayed over the START that followed it. Acting is idempotent (the list keeps its
        first entry; the confirmation's key is the message's id), so a keyword handled
        meanwhile by the normal path is not confirmed twice. How many were replayed."""
        if not self._section.enabled:
            return 0
        since = self._db.clock() - self._replay_window
        candidates = await repository.keyword_candidates(
            self._db,
            since=since,
            max_length=_MAX_KEYWORD_MESSAGE,
            is_keyword=lambda text: self.action(text) is not None,
        )
        latest = {c.peer: c for c in candidates if _is_number(c.peer)}  # oldest first
        missed = [candidate for candidate in latest.values() if not candidate.confirmed]
        for candidate in missed:
            log.warning(
                "opt-out: message %s from %s was not acted on; acting on it now",
                candidate.message_id,
                candidate.peer,
            )
            await self.act_on(candidate.message_id, candidate.peer, candidate.modem, candidate.text)
        return len(missed)

    async def act_on(self, message_id: str, peer: str, modem: str | None, text: str) -> None:
        """`handle` from a stored message's fields: list or unlist `peer` for a keyword and
        queue the confirmation, keyed by `message_id` (nothing for an ordinary text)."""
        action = self.action(text)
        if action is None or not _is_number(peer):
            return
        if action == "stop":
            await repository.add_optout(self._db, peer, source="sms", modem=modem)
            reply = self._section.confirm_text
        else:
            await repository.remove_optout(self._db, peer)
            reply = self._section.start_confirm_text
        telemetry.optout_keyword(action)
        count = pdu.count_parts(reply)
        await repository.enqueue_outgoing(
            self._db,
            peer=peer,
            text=reply,
            parts=count.parts,
            encoding=count.encoding,
            modem=modem,
            delivery_report=False,
            # One confirmation per keyword message, however often it is handled; it is also
            # how `replay_missed` knows the message was acted on.
            idempotency_key=repository.CONFIRMATION_KEY_PREFIX + message_id,
        )
        log.info(
            "%s: %s sent %s: %s the opt-out list, confirmation queued",
            modem,
            peer,
            action.upper(),
            "on" if action == "stop" else "off",
        )
        self._on_queued(modem)


def _is_number(peer: str) -> bool:
    """A phone number can be answered; an alphanumeric sender ("BANK") cannot."""
    digits = peer.removeprefix("+")
    return digits.isascii() and digits.isdigit()  # "²" and "٣" are isdigit() too
