"""Database access: SQLite inline on the event loop (WAL), other databases through an async driver.

SQLite statements of this bot take tens of microseconds; a hop to aiosqlite's worker thread and
back costs more than the statement itself (see BENCHMARKS.md). So for SQLite the standard `sqlite3`
driver runs inline, one transaction at a time behind an asyncio lock, on one shared connection:
SQLite has a single writer anyway. PostgreSQL (`postgresql+asyncpg://…`) uses the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool


class Conn(Protocol):
    """What queries need of a connection, whichever engine is behind it."""

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement."""

    def begin_nested(self) -> Any:
        """Open a savepoint (an async context manager)."""


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


def sync_sqlite_url(url: str) -> str:
    """Map `sqlite+aiosqlite://…` (or `sqlite://…`) to the standard-library driver."""
    return make_url(url).set(drivername="sqlite").render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL with synchronous=NORMAL: a committed answer survives a crash of the bot process."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_sqlite_engine(url: str) -> Engine:
    """A synchronous engine on one shared SQLite connection, with the pragmas set."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(sync_sqlite_url(url), poolclass=StaticPool, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class InlineConnection:
    """A synchronous connection behind the async interface; SQLite calls run inline."""

    def __init__(self, connection: Connection) -> None:
        self.sync = connection

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement inline."""
        return self.sync.execute(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        """Open a savepoint."""
        with self.sync.begin_nested():
            yield


class Database:
    """Hands out transactions: inline SQLite, or an async engine for other databases."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.sqlite: Engine | None = make_sqlite_engine(url) if is_sqlite(url) else None
        self.async_engine: AsyncEngine | None = None
        if self.sqlite is None:
            self.async_engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Conn]:
        """A transaction that commits on success and rolls back on error."""
        if self.sqlite is not None:
            async with self._lock:
                with self.sqlite.begin() as connection:
                    yield InlineConnection(connection)
            return
        assert self.async_engine is not None
        async with self.async_engine.begin() as async_connection:
            yield async_connection

    async def dispose(self) -> None:
        """Close every connection."""
        if self.sqlite is not None:
            self.sqlite.dispose()
        if self.async_engine is not None:
            await self.async_engine.dispose()
