"""Public message ids: ULIDs (26 Crockford base32 characters, time first).

Why ULIDs: they are generated without asking the database (so an API send can answer with the
id before anything else happens, on any node), sort roughly by creation time (handy in logs and
URLs), and carry no guessable counter that would reveal traffic volume.
"""

from __future__ import annotations

import datetime
import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80


def new_id(now: datetime.datetime | None = None) -> str:
    """A fresh ULID for the moment `now` (the current time when omitted)."""
    moment = now if now is not None else datetime.datetime.now(datetime.UTC)
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
