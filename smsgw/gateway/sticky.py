"""Sticky SIM: a recipient keeps hearing from the SIM they last talked to.

People reply to the number that wrote to them, and a conversation that hops between SIMs
looks like messages from strangers. So with several modems and no `modem` asked for, a send
goes through the modem of the latest message exchanged with the recipient (either
direction) while that modem is READY; otherwise it stays unbound and the first idle READY
modem takes it, which is the least-loaded one by construction (a busy worker is not idle).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

from smsgw.modem import ModemState
from smsgw.store import Database, repository

__all__ = ["StickyChoice"]


class StickyChoice:
    """`choose(peer, known)`: the modem to bind a send to, or None (any modem).

    `local_states` gives this node's modems and their states; on a shared database the
    other nodes' modems count as READY when their last heartbeat said so within `lease`.
    """

    def __init__(
        self,
        db: Database,
        *,
        local_states: Callable[[], Mapping[str, ModemState]],
        shared_database: bool,
        lease: datetime.timedelta,
    ) -> None:
        self._db = db
        self._local_states = local_states
        self._shared = shared_database
        self._lease = lease

    async def choose(self, peer: str, known: set[str]) -> str | None:
        if len(known) < 2:
            return None
        last = await repository.last_modem_with(self._db, peer)
        if last is None or last not in known:
            return None
        return last if await self.ready(last) else None

    async def ready(self, name: str) -> bool:
        local = self._local_states()
        if name in local:
            return local[name] is ModemState.READY
        if not self._shared:
            return False
        fresh_since = self._db.clock() - self._lease
        return any(
            beat.name == name
            and beat.state == ModemState.READY.value
            and beat.last_seen >= fresh_since
            for beat in await repository.list_modem_heartbeats(self._db)
        )
