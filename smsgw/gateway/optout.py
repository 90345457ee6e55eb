"""Opt-out keywords: an incoming message that is exactly STOP (or START) puts its sender on
(or takes them off) the opt-out list and answers with the confirmation alone.

Matching is on the whole message, ignoring case, accents, surrounding blanks and closing
punctuation: "stop", "Stop!", " STOP " and "ştop" are STOP; "stop it" and "please stop" are
ordinary messages. The incoming message is still stored and posted to the webhook like any
other (the application may keep its own list); the webhook's answer to a keyword is not
sent, so the sender gets the confirmation only.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from typing import Literal

from smsgw import pdu
from smsgw.config import OptOutSection
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
    ) -> None:
        self._db = db
        self._section = section
        self._on_queued = on_queued
        self.matcher = KeywordMatcher(section)

    def action(self, text: str) -> Action | None:
        return self.matcher.action(text)

    async def handle(self, message: ReceivedMessage) -> None:
        """Update the list for a keyword and queue the confirmation from the same modem."""
        action = self.action(message.text)
        if action is None or not _is_number(message.peer):
            return
        if action == "stop":
            await repository.add_optout(self._db, message.peer, source="sms", modem=message.modem)
            text = self._section.confirm_text
        else:
            await repository.remove_optout(self._db, message.peer)
            text = self._section.start_confirm_text
        telemetry.optout_keyword(action)
        count = pdu.count_parts(text)
        await repository.enqueue_outgoing(
            self._db,
            peer=message.peer,
            text=text,
            parts=count.parts,
            encoding=count.encoding,
            modem=message.modem,
            delivery_report=False,
            # One confirmation per keyword message, however often it is handled.
            idempotency_key=f"optout:{message.id}",
        )
        log.info(
            "%s: %s sent %s: %s the opt-out list, confirmation queued",
            message.modem,
            message.peer,
            action.upper(),
            "on" if action == "stop" else "off",
        )
        self._on_queued(message.modem)


def _is_number(peer: str) -> bool:
    """A phone number can be answered; an alphanumeric sender ("BANK") cannot."""
    digits = peer.removeprefix("+")
    return digits.isdigit()
