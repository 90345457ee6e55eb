"""Cross-node wake-ups for the outgoing queue: PostgreSQL LISTEN/NOTIFY.

When several nodes share one PostgreSQL, a message queued through node A's API (or an
auto-reply queued by A's webhook dispatcher) should start on node B's idle modem at once, not
at B's next poll. The transaction that queues it also runs `pg_notify` (delivered only when it
commits, so a listener never wakes for a row it cannot see yet); every node keeps one
dedicated asyncpg connection that LISTENs and wakes its modem workers.

On SQLite there is one process, which wakes its own workers directly: nothing to do here.
The listener is a best-effort accelerator: the workers still poll (short interval on
PostgreSQL), so a lost connection or notification delays a send, never loses it.

asyncpg is imported only when a listener really runs (PostgreSQL): a SQLite daemon never
needs it, and it is ~2.5 MB of RSS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from smsgw.store.connection import Connection
from smsgw.store.database import PG_CONNECT_TIMEOUT_S, Database

log = logging.getLogger(__name__)

#: The channel every node LISTENs on; the payload is the bound modem's name, or "" for any.
OUTGOING_CHANNEL = "smsgw_outgoing"
#: Pause before reconnecting a lost listener connection.
RECONNECT_PAUSE = 2.0
#: How often an idle listener checks its connection (a silently dead TCP link is noticed).
KEEPALIVE_INTERVAL = 10.0


async def notify_queued(connection: Connection, db: Database, modem: str | None) -> None:
    """Inside the queuing transaction: tell every node's listener (sent at commit)."""
    if db.dialect == "postgresql":
        await connection.execute(
            sa.text("SELECT pg_notify(:channel, :payload)"),
            {"channel": OUTGOING_CHANNEL, "payload": modem or ""},
        )


class QueueListener:
    """Calls `on_queued(modem)` (None: any modem may send it) whenever any node queues an
    outgoing message; `on_queued(None)` also after each (re)connect, since notifications sent
    while nobody listened are gone. Run `run()` as a task; cancel it to stop."""

    def __init__(self, db: Database, on_queued: Callable[[str | None], None]) -> None:
        self._db = db
        self._on_queued = on_queued
        self.connected = asyncio.Event()

    @property
    def needed(self) -> bool:
        """False on SQLite (one process: the queuing code wakes its own workers)."""
        return self._db.dialect == "postgresql"

    async def run(self) -> None:
        if not self.needed:
            return
        import asyncpg  # type: ignore[import-untyped]  # no stubs; used for LISTEN only

        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning(
                    "queue notifications from %s unavailable (%s); polling until it is back",
                    self._db.url,
                    error,
                )
            self.connected.clear()
            await asyncio.sleep(RECONNECT_PAUSE)

    async def _listen_once(self) -> None:
        import asyncpg

        _args, options = self._db.engine.dialect.create_connect_args(self._db.engine.url)
        options.setdefault("timeout", PG_CONNECT_TIMEOUT_S)
        connection = await asyncpg.connect(**options)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(OUTGOING_CHANNEL, self._notified)
            self.connected.set()
            log.debug("listening for queued messages on %s", self._db.url)
            self._on_queued(None)
            while not lost.is_set():
                try:
                    async with asyncio.timeout(KEEPALIVE_INTERVAL):
                        await lost.wait()
                except TimeoutError:
                    async with asyncio.timeout(PG_CONNECT_TIMEOUT_S):
                        await connection.execute("SELECT 1")
            raise OSError("listener connection closed")
        finally:
            if not connection.is_closed():
                connection.terminate()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_queued(payload or None)
