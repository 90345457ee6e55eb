"""Keyword messages whose follow-up may have been lost, for the gateway to act on again.

An incoming STOP is committed first and acted on right after (the opt-out list, the
confirmation). A process killed in between, or a database that refused the second step,
leaves a STOP in the history with no confirmation queued for it. The confirmation carries
the keyword message's id in its idempotency key (`optout:<id>`), so whether a keyword was
acted on is one indexed lookup.

Only short incoming texts can be keywords; the gateway decides which are (its matcher
ignores case, accents and punctuation, which SQL cannot do the same way on every database).
"""

from __future__ import annotations

import dataclasses
import datetime

import sqlalchemy as sa

from smsgw.models import Direction
from smsgw.store.database import Database
from smsgw.store.schema import messages

__all__ = ["CONFIRMATION_KEY_PREFIX", "KeywordCandidate", "keyword_candidates"]

#: The confirmation of keyword message X is queued with idempotency key `optout:X`.
CONFIRMATION_KEY_PREFIX = "optout:"
#: At most this many short messages are looked at (the newest), bounding the work.
MAX_CANDIDATES = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class KeywordCandidate:
    message_id: str
    modem: str | None
    peer: str
    text: str
    #: A confirmation was queued for this very message: it was acted on.
    confirmed: bool


async def keyword_candidates(
    db: Database, *, since: datetime.datetime, max_length: int
) -> list[KeywordCandidate]:
    """Incoming messages received since `since` with at most `max_length` characters,
    oldest first, each with whether its confirmation exists."""
    confirmation = messages.alias("confirmation")
    confirmed = sa.exists().where(
        confirmation.c.idempotency_key
        == sa.literal(CONFIRMATION_KEY_PREFIX, sa.String) + messages.c.id
    )
    statement = (
        sa.select(
            messages.c.id,
            messages.c.modem,
            messages.c.peer,
            messages.c.text,
            confirmed.label("confirmed"),
        )
        .where(
            messages.c.direction == Direction.IN.value,
            messages.c.created_at >= since,
            sa.func.length(messages.c.text) <= max_length,
        )
        # The newest when there are more: a later keyword overrides an earlier one.
        .order_by(messages.c.created_at.desc(), messages.c.pk.desc())
        .limit(MAX_CANDIDATES)
    )
    async with db.transaction("find keyword messages to replay") as connection:
        newest_first = (await connection.execute(statement)).all()
    return [
        KeywordCandidate(
            message_id=str(row.id),
            modem=row.modem,
            peer=str(row.peer),
            text=str(row.text),
            confirmed=bool(row.confirmed),
        )
        for row in reversed(newest_first)
    ]
