"""Idempotency keys that are remembered for a window only.

An `Idempotency-Key` normally identifies one message for as long as the message is kept. A
bulk sender keys rows by their content instead (`smsgw send --csv`): the same text to the
same number is a duplicate within a day, but a legitimate new message next week. The window
is enforced here, where the key is remembered: an outgoing message older than the window
gives its key up (it keeps a unique, retired form of it), so the next enqueue with that key
creates a new message, while one inside the window is still found and nothing is sent.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from smsgw.store.database import Database
from smsgw.store.schema import messages

#: Separates a retired key from the id of the message that held it (keys are at most 200
#: characters plus a short namespace; the message id is 26: the column holds 255).
RETIRED_SEPARATOR = "~retired~"


async def retire_idempotency_key(db: Database, key: str, *, window: datetime.timedelta) -> bool:
    """Free `key` when the message holding it was created more than `window` ago.

    One conditional UPDATE, so two clients racing with the same key cannot both free it
    for a message inside the window. True when a key was retired.
    """
    cutoff = db.clock() - window
    async with db.transaction("retire idempotency key") as connection:
        result = await connection.execute(
            sa.update(messages)
            .where(messages.c.idempotency_key == key, messages.c.created_at < cutoff)
            .values(idempotency_key=sa.literal(key + RETIRED_SEPARATOR, sa.String) + messages.c.id)
        )
    return bool(result.rowcount)
