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
from collections.abc import Callable

import sqlalchemy as sa

from smsgw.models import Direction
from smsgw.store.database import Database
from smsgw.store.schema import messages

__all__ = ["CONFIRMATION_KEY_PREFIX", "KeywordCandidate", "keyword_candidates"]

#: The confirmation of keyword message X is queued with idempotency key `optout:X`.
CONFIRMATION_KEY_PREFIX = "optout:"
#: Rows read per transaction: a short read lock, and little memory however busy the SIM was.
PAGE = 500
#: At most this many short messages are looked at (the newest), bounding the work.
MAX_SCANNED = 50_000


@dataclasses.dataclass(frozen=True, slots=True)
class KeywordCandidate:
    message_id: str
    modem: str | None
    peer: str
    text: str
    #: A confirmation was queued for this very message: it was acted on.
    confirmed: bool


async def keyword_candidates(
    db: Database,
    *,
    since: datetime.datetime,
    max_length: int,
    is_keyword: Callable[[str], bool],
) -> list[KeywordCandidate]:
    """Incoming messages received since `since` with at most `max_length` characters that
    `is_keyword`, oldest first, each with whether its confirmation exists.

    Read newest first, `PAGE` rows per transaction, keeping only the keywords: an OTP
    receiver's week of short codes never sits in memory at once."""
    confirmation = messages.alias("confirmation")
    confirmed = sa.exists().where(
        confirmation.c.idempotency_key
        == sa.literal(CONFIRMATION_KEY_PREFIX, sa.String) + messages.c.id
    )
    query = (
        sa.select(
            messages.c.pk,
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
        .order_by(messages.c.pk.desc())
        .limit(PAGE)
    )
    found: list[KeywordCandidate] = []
    before: int | None = None
    for _ in range(MAX_SCANNED // PAGE):
        page = query if before is None else query.where(messages.c.pk < before)
        async with db.transaction("find keyword messages to replay") as connection:
            rows = (await connection.execute(page)).all()
        found += [
            KeywordCandidate(
                message_id=str(row.id),
                modem=row.modem,
                peer=str(row.peer),
                text=str(row.text),
                confirmed=bool(row.confirmed),
            )
            for row in rows
            if is_keyword(str(row.text))
        ]
        if len(rows) < PAGE:
            break
        before = int(rows[-1].pk)
    found.reverse()
    return found
