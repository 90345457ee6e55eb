"""What a store transaction hands to the repository: the part of SQLAlchemy's
`AsyncConnection` it uses, as a Protocol.

Why not `AsyncConnection` itself: on SQLite the statements run inline on a synchronous
connection (`smsgw.store.database`), and naming `AsyncConnection` imports
`sqlalchemy.ext.asyncio`, which loads SQLAlchemy's ORM and the aiosqlite driver: about 8 MB
of resident memory that a SQLite gateway on a Raspberry Pi never uses. PostgreSQL's
`AsyncConnection` (asyncpg) satisfies the Protocol as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    ParamSpec,
    Protocol,
    TypeVar,
    TypeVarTuple,
    overload,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection as SyncConnection
    from sqlalchemy.engine import CursorResult, ScalarResult
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.selectable import TypedReturnsRows

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Ts = TypeVarTuple("_Ts")


class Connection(Protocol):
    """Statements of one transaction (`Database.transaction`); awaited like asyncpg's."""

    @overload
    async def execute(
        self,
        statement: TypedReturnsRows[*_Ts],
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[*_Ts]: ...

    @overload
    async def execute(
        self,
        statement: Executable,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[*tuple[Any, ...]]: ...

    @overload
    async def scalar(
        self,
        statement: TypedReturnsRows[_T],
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> _T | None: ...

    @overload
    async def scalar(
        self, statement: Executable, parameters: Any = None, *, execution_options: Any = None
    ) -> Any: ...

    @overload
    async def scalars(
        self,
        statement: TypedReturnsRows[_T],
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> ScalarResult[_T]: ...

    @overload
    async def scalars(
        self, statement: Executable, parameters: Any = None, *, execution_options: Any = None
    ) -> ScalarResult[Any]: ...

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> CursorResult[*tuple[Any, ...]]: ...

    async def run_sync(
        self,
        fn: Callable[Concatenate[SyncConnection, _P], _T],
        *arg: _P.args,
        **kw: _P.kwargs,
    ) -> _T: ...
