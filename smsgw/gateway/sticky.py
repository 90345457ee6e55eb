"""Sticky SIM: a recipient keeps hearing from the SIM they last talked to.

People reply to the number that wrote to them, and a conversation that hops between SIMs
looks like messages from strangers. So with several modems and no `modem` asked for, a send
goes through the modem of the latest message exchanged with the recipient (either
direction) while that modem is READY; otherwise it stays unbound and the first idle READY
modem takes it, which is the least-loaded one by construction (a busy worker is not idle).

A binding is firm: a bound message waits for its modem. So with several nodes on one
database nothing is stuck: a node can die with messages bound to its modems, and the other
nodes' takeover (which hands over what a dead node had claimed) would never see them, since
no node claimed them. Sticky SIM is a single-node feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from smsgw.modem import ModemState
from smsgw.store import Database, repository

__all__ = ["StickyChoice"]


class StickyChoice:
    """`choose(peer, known)`: the modem to bind a send to, or None (any modem).

    `local_states` gives this node's modems and their states; `shared_database` (several
    nodes) turns the choice off.
    """

    def __init__(
        self,
        db: Database,
        *,
        local_states: Callable[[], Mapping[str, ModemState]],
        shared_database: bool,
    ) -> None:
        self._db = db
        self._local_states = local_states
        self._shared = shared_database

    async def choose(self, peer: str, known: set[str]) -> str | None:
        if self._shared or len(known) < 2:
            return None
        last = await repository.last_modem_with(self._db, peer)
        if last is None or last not in known:
            return None
        return last if self._local_states().get(last) is ModemState.READY else None
