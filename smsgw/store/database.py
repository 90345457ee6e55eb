"""Engine set-up for SQLite and PostgreSQL, and the one way to run a transaction.

SQLite durability choice: WAL with `synchronous=FULL`. The gateway deletes an SMS from the SIM
right after the commit that stored it, so a commit must survive a power cut (Raspberry Pi on a
USB hub, SD card): with `NORMAL`, WAL commits are only synced at checkpoints and the last few
messages could vanish from both the SIM and the database. SMS rates are far below what FULL
costs (one fsync per commit). Writers use `BEGIN IMMEDIATE`, so two writers queue on the busy
timeout instead of failing with "database is locked" when a read transaction tries to upgrade.

Within one process, SQLite transactions also queue on an asyncio lock before `BEGIN IMMEDIATE`:
without it, two tasks (the modem storing a part, the webhook dispatcher claiming an event)
collide on the file lock and the loser sleeps in SQLite's busy handler (1, 2, 5, 10... ms,
holding the connection) even though the winner commits in well under a millisecond.
The busy timeout still covers other processes (another node, a CLI on the same file).

SQLite statements run inline, in the event loop's thread, through the standard sqlite3
module; only `COMMIT` (the fsync) goes to a worker thread, and `BEGIN IMMEDIATE` too when
another process holds the write lock (it may then wait; `_begin_if_free`). Measured on the
2-core test machine, one INSERT through SQLAlchemy's aiosqlite adapter cost 0.40 ms of CPU
(four hand-offs to aiosqlite's thread per statement: cursor, execute, fetch, close) against
0.12 ms inline; at the 6-10 statements an
incoming SMS needs, that was most of the gateway's CPU in a burst. The gateway's
statements use indexes and take microseconds; the heaviest read, the operator inbox's
conversation list, is measured by `python -m bench ui_inbox` on 50,000 messages. Group
commits yield to the loop between operations. The repository sees a `Connection`
(`smsgw.store.connection`) either way.
PostgreSQL keeps asyncpg, which is natively asynchronous, through SQLAlchemy's asyncio
extension; that extension (and the ORM it loads) is imported only for a PostgreSQL URL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import importlib.util
import os
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.pool import StaticPool

from smsgw.exceptions import StoreError
from smsgw.redact import mask_url
from smsgw.store.connection import Connection

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

Clock = Callable[[], datetime.datetime]
_T = TypeVar("_T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 1024
PG_CONNECT_TIMEOUT_S = 10.0


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def normalise_url(url: str) -> URL:
    """Map the URLs users write (`sqlite:///…`, `postgresql://…`) onto the async drivers."""
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError):
        # Neither the URL nor SQLAlchemy's message is repeated: both may hold the password.
        raise StoreError(
            "invalid database URL: use sqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        # asyncpg is an extra (a Pi on SQLite should not build it): say which one is missing
        # before SQLAlchemy's import error, which names neither smsgw nor the fix.
        if importlib.util.find_spec("asyncpg") is None:
            raise StoreError(
                "a postgresql:// database needs the asyncpg driver: pip install 'smsgw[postgresql]'"
            )
        return parsed.set(drivername="postgresql+asyncpg")
    raise StoreError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"
    )


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


class Database:
    """An engine plus the clock every repository function reads `now` from."""

    def __init__(self, engine: AsyncEngine | Engine, *, clock: Clock = utc_now) -> None:
        """`engine`: asyncpg's async engine, or a synchronous SQLite engine whose statements
        run inline (see the module docstring)."""
        self.engine = engine
        self.clock = clock
        self._inline = engine if isinstance(engine, Engine) else None
        self._blocking: concurrent.futures.ThreadPoolExecutor | None = None
        self._writer_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        #: Every new event is also owed to the MQTT broker (`mqtt_outbox`); set by the
        #: gateway while `[mqtt]` is configured, so without MQTT no event pays for it.
        self.mqtt_events = False

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: the few queries that differ (SKIP LOCKED) ask this."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL without its password, for log lines and error messages."""
        return mask_url(self.engine.url.render_as_string(hide_password=True))

    @contextlib.asynccontextmanager
    async def transaction(self, what: str) -> AsyncIterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Every driver or SQL error becomes `StoreError("<what>: <cause>")`, so callers above the
        store never see SQLAlchemy, asyncpg or sqlite3 exceptions.
        """
        try:
            async with self._writer_turn(), self._begin() as connection:
                yield connection
        except StoreError:
            raise
        except exc.SQLAlchemyError as error:
            cause = _describe(error) + self._read_only_hint()
            raise StoreError(f"{what} failed on {self.url}: {cause}") from error
        except (OSError, TimeoutError) as error:  # asyncpg connect errors are not wrapped
            raise StoreError(f"{what} failed: cannot reach {self.url}: {error}") from error

    def _begin(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        if self._inline is None:
            # AsyncConnection satisfies the Protocol; mypy cannot match its overloads.
            return cast(
                "contextlib.AbstractAsyncContextManager[Connection]",
                cast("AsyncEngine", self.engine).begin(),
            )
        return self._inline_transaction(self._inline)

    @contextlib.asynccontextmanager
    async def _inline_transaction(self, inline: Engine) -> AsyncIterator[Connection]:
        """A transaction on the synchronous engine, whose statements simply run."""
        connection = inline.connect()
        try:
            if not _begin_if_free(connection):
                await self._to_completion(connection, connection.begin)
            try:
                yield _InlineConnection(connection)
            except BaseException:
                connection.rollback()
                raise
            await self._to_completion(connection, connection.commit)
        finally:
            connection.close()

    async def _to_completion(self, connection: SyncConnection, step: Callable[[], _T]) -> _T:
        """Run a possibly slow step (lock wait, fsync) in the worker thread and wait for it
        even if the caller is cancelled meanwhile: the connection must not be rolled back or
        returned to the pool while the thread still uses it. The cancellation is re-raised
        afterwards (a commit that completed stays committed)."""
        if self._blocking is None:
            self._blocking = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-commit"
            )
        future = asyncio.get_running_loop().run_in_executor(self._blocking, step)
        cancelled = False
        while True:
            try:
                result = await asyncio.shield(future)
                break
            except asyncio.CancelledError:
                if future.done():
                    raise  # the step itself was cancelled (executor shut down)
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return result

    @contextlib.asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """SQLite: one transaction at a time per event loop (see the module docstring)."""
        if self.dialect != "sqlite":
            yield
            return
        loop = asyncio.get_running_loop()
        lock = self._writer_locks.get(loop)
        if lock is None:
            lock = self._writer_locks[loop] = asyncio.Lock()
        async with lock:
            yield

    def _read_only_hint(self) -> str:
        """Name the usual root cause SQLite hides behind "unable to open database file" or
        "attempt to write a readonly database": an SD card the kernel remounted read-only."""
        if self.dialect != "sqlite" or _is_memory(self.engine.url):
            return ""
        directory = Path(str(self.engine.url.database)).expanduser().resolve().parent
        try:
            read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
        except OSError:
            return ""
        return f" (the filesystem holding {directory} is mounted read-only)" if read_only else ""

    async def ping(self) -> None:
        """Raise StoreError unless the database answers (for `/health/ready`)."""
        async with self.transaction("database ping") as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.dispose()
        else:
            await cast("AsyncEngine", self.engine).dispose()
        if self._blocking is not None:
            self._blocking.shutdown(wait=True)
            self._blocking = None


def _begin_if_free(connection: SyncConnection) -> bool:
    """BEGIN IMMEDIATE in the event loop's thread when no other process holds the write lock;
    False (nothing begun) when one does, and the caller waits for it in the worker thread.

    The usual case by far: within the process the writer lock has already queued this
    transaction, so BEGIN cannot wait, and a thread hand-off is saved on every transaction
    (0.1 ms typically on a busy 2-core board, several ms at the tail, on the inbound path to
    the webhook POST). With the busy timeout at 0, a held lock answers SQLITE_BUSY at once.
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA busy_timeout=0")
    try:
        connection.begin()
    except exc.OperationalError:
        return False
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return True


class _InlineConnection:
    """A `Connection` over a synchronous SQLite connection whose statements simply run.

    sqlite3 never waits on the network and the gateway's statements take microseconds, so
    each call is made directly in the event loop's thread (see the module docstring).
    """

    __slots__ = ("_sync",)

    def __init__(self, sync: SyncConnection) -> None:
        self._sync = sync

    async def execute(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        return self._sync.execute(statement, parameters, execution_options=execution_options)

    async def scalar(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        return self._sync.scalar(statement, parameters, execution_options=execution_options)

    async def scalars(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        return self._sync.scalars(statement, parameters, execution_options=execution_options)

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> Any:
        return self._sync.exec_driver_sql(statement, parameters, execution_options)

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T:
        return fn(self._sync, *arg, **kw)


def _describe(error: exc.SQLAlchemyError) -> str:
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        return f"{type(error.orig).__name__}: {error.orig}".strip()
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def open_database(url: str, *, clock: Clock = utc_now, echo: bool = False) -> Database:
    """Create the engine for `url` (nothing connects until the first transaction)."""
    parsed = normalise_url(url)
    options: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if _is_memory(parsed):
            # Every connection would otherwise get its own empty database.
            options["poolclass"] = StaticPool
        else:
            _check_sqlite_directory(str(parsed.database))
            if not parsed.query.get("uri"):  # a `file:` URI is SQLite's to interpret
                _keep_private(Path(str(parsed.database)).expanduser())
        # The statements run in the loop's thread, COMMIT in the worker thread:
        # one connection, used by one thread at a time (the writer lock sees to that).
        inline = sa.create_engine(
            parsed.set(drivername="sqlite+pysqlite"),
            connect_args={"check_same_thread": False},
            **options,
        )
        _configure_sqlite(inline)
        return Database(inline, clock=clock)
    from sqlalchemy.ext.asyncio import create_async_engine  # PostgreSQL only: see above

    options["pool_pre_ping"] = True
    if "timeout" not in parsed.query:
        # asyncpg waits 60 s for an unreachable host; fail (and let the caller retry) sooner.
        options["connect_args"] = {"timeout": PG_CONNECT_TIMEOUT_S}
    engine = create_async_engine(parsed, **options)
    return Database(engine, clock=clock)


def _check_sqlite_directory(path: str) -> None:
    """Fail early and clearly: SQLite's own message is "unable to open database file"."""
    directory = Path(path).expanduser().resolve().parent
    if not directory.is_dir():
        raise StoreError(
            f"cannot open SQLite database {path}: directory {directory} does not exist "
            "(create the state directory first)"
        )


def _keep_private(path: Path) -> None:
    """Make the SQLite file (and its WAL and shared-memory files) readable by its owner only.

    The file holds every message's text and number. SQLite creates it with the process umask
    (0644 by hand, where systemd's `UMask=0077` does not apply) and its WAL files copy that
    mode, so the file is created here with 0600 first (an empty file is a new database to
    SQLite), and a file left looser by an earlier run is tightened. A file owned by another
    user that we may not chmod is left as it is: opening it then reports the real problem.
    SQLite gives the WAL files the database file's owner and mode.
    """
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # Root creating the service's database (`sudo smsgw db upgrade`) hands the new file
        # to the directory's owner, or the service could not open it afterwards.
        directory = path.parent.stat()
        if os.geteuid() == 0 and directory.st_uid != 0:
            os.chown(path, directory.st_uid, directory.st_gid)
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(OSError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of the sqlite3 module's
        # implicit deferred BEGIN before the first write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The busy timeout first: switching a new file to WAL takes a lock, and two
            # processes starting together on a fresh database would otherwise fail at once
            # with "database is locked" instead of waiting their turn.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # 1 MiB of page cache per connection instead of SQLite's 2 MiB: the gateway's
            # working set (recent messages, the outbox, their indexes) fits, and on a
            # Raspberry Pi the difference is resident memory that never comes back.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
