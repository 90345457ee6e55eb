"""Group commit: operations submitted while a transaction is in progress share the next one.

Why: every store operation used to be its own transaction, and with SQLite in WAL mode and
`synchronous=FULL` each commit is an fsync plus a BEGIN/COMMIT round trip through aiosqlite's
thread. In a burst (1,000 SMS on the SIM and 1,000 `+CMTI` at once; 500 webhook answers
arriving together) the commits, not the work, set the pace. A `GroupCommit` keeps the same
promise to each caller ("when `submit` returns, your operation is committed") while paying for
one commit per *batch*: the first operation starts a transaction at once (no added latency when
the gateway is quiet) and everything submitted meanwhile goes into the following one.

Failure isolation: when a batch fails (one bad row, a deadlock between nodes on PostgreSQL, a
full disk), the whole transaction rolls back and each operation of that batch is then retried
in a transaction of its own, so one bad operation fails only its own caller, and nothing is half
applied. Operations therefore must not have side effects outside the transaction: callers act
on the returned value after `submit` returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from smsgw.store.connection import Connection
from smsgw.store.database import Database

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: An operation applied inside a transaction; it must only touch the database.
Apply = Callable[[Connection, Item], Awaitable[Result]]

DEFAULT_MAX_BATCH = 100


class GroupCommit(Generic[Item, Result]):
    """Applies submitted items in submission order, many per transaction.

    One flusher task runs while items are waiting; it is started by `submit` and ends when the
    queue is empty, so an idle `GroupCommit` holds no task and needs no closing.
    """

    def __init__(
        self,
        db: Database,
        what: str,
        apply: Apply[Item, Result],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._db = db
        self._what = what
        self._apply = apply
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: Transactions committed and items applied (tests and metrics read these).
        self.batches = 0
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Apply `item` in the next transaction; return once that transaction committed.

        Raises what the operation (or the commit) raised, as `StoreError` for database
        failures. Cancelling the caller does not withdraw an item already queued: it is
        committed anyway, exactly as if the caller had not been cancelled.
        """
        return await asyncio.shield(self.enqueue(item))

    def enqueue(self, item: Item) -> asyncio.Future[Result]:
        """Queue `item` for the next transaction; the future is settled once it committed
        (or failed). For callers that must act on the result even if they are cancelled
        meanwhile (a done-callback runs either way); `submit` is this, awaited."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"group-commit:{self._what}")
        return future

    async def _flush(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._flush_batch(batch)
        except asyncio.CancelledError:
            # The loop is shutting down: nobody may wait for ever on an item never applied
            # (one being applied is rolled back with its transaction).
            for _, future in [*batch, *self._waiting]:
                future.cancel()
            self._waiting.clear()
            raise

    async def _flush_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._run_batch([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle_error(batch[0][1], error)
                return
            log.warning(
                "%s: batch of %d failed (%s); applying them one by one",
                self._what,
                len(batch),
                error,
            )
            await self._one_by_one(batch)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _run_batch(self, items: list[Item]) -> list[Result]:
        results: list[Result] = []
        async with self._db.transaction(self._what) as connection:
            for item in items:
                if results:
                    # SQLite statements run inline (smsgw.store.database): let the modem's
                    # and the webhook's I/O in between items instead of after the batch.
                    await asyncio.sleep(0)
                results.append(await self._apply(connection, item))
        self.batches += 1
        self.items += len(items)
        return results

    async def _one_by_one(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        for item, future in batch:
            try:
                (result,) = await self._run_batch([item])
            except Exception as error:
                _settle_error(future, error)
            else:
                if not future.done():
                    future.set_result(result)


def _settle_error(future: asyncio.Future[Result], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
