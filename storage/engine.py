"""Database access: SQLite inline on the event loop (WAL), other databases through an async driver.

SQLite statements of this bot take tens of microseconds; a hop to aiosqlite's worker thread and
back costs more than the statement itself (see BENCHMARKS.md). So for SQLite the standard `sqlite3`
driver runs inline, one transaction at a time behind an asyncio lock, on one shared connection:
SQLite has a single writer anyway. Transactions are begun and committed by hand (`BEGIN IMMEDIATE`);
statements marked `prepared()` run on the cursor (`storage/prepared.py`), the others through
SQLAlchemy in autocommit mode inside that same transaction. PostgreSQL
(`postgresql+asyncpg://…`) uses the async engine.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.checkpoint import Checkpointer
from storage.prepared import Plan, Unsupported, is_prepared

log = logging.getLogger(__name__)


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
    """WAL with synchronous=NORMAL: a committed answer survives a crash of the bot process.

    Checkpoints are left to a background thread (`storage/checkpoint.py`). Sorts happen in
    memory: with the default, even the one-row ORDER BY finding a worker's draft opened a temporary
    file, 70 µs of the 95 µs that lookup took.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_sqlite_engine(url: str) -> Engine:
    """An engine on one shared SQLite connection, with the pragmas set; transactions are begun by hand."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        sync_sqlite_url(url),
        poolclass=StaticPool,
        connect_args={"check_same_thread": False},
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class InlineConnection:
    """One SQLite transaction: prepared statements on the cursor, any other through SQLAlchemy."""

    def __init__(self, sqlite: SqliteSession) -> None:
        self.sqlite = sqlite
        self._savepoints = 0

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement inline."""
        return self.sqlite.execute(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        """Open a savepoint: released on success, rolled back to on error."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        cursor = self.sqlite.cursor
        cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            cursor.execute(f"ROLLBACK TO {name}")
            cursor.execute(f"RELEASE {name}")
            raise
        cursor.execute(f"RELEASE {name}")


class SqliteSession:
    """The one SQLite connection: raw cursor for prepared plans, a SQLAlchemy connection beside it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection = engine.connect()
        raw = self.connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        self.raw = raw
        self.cursor = raw.cursor()
        self.dialect = engine.dialect
        self.plans: dict[tuple[int, tuple[str, ...]], Plan | None] = {}

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a prepared statement on the cursor, any other through SQLAlchemy."""
        if is_prepared(statement) and (parameters is None or isinstance(parameters, dict)):
            params = parameters or {}
            key = (id(statement), tuple(sorted(params)))
            plan = self.plans.get(key, _UNPLANNED)
            if plan is _UNPLANNED:
                plan = self.plans[key] = _plan(statement, self.dialect, key[1])
            if plan is not None:
                return plan.run(self.cursor, params)
        return self.connection.execute(statement, parameters)

    def close(self) -> None:
        """Close the connection."""
        self.cursor.close()
        self.connection.close()


_UNPLANNED: Any = object()


def _plan(statement: Any, dialect: Any, keys: tuple[str, ...]) -> Plan | None:
    """A plan for the statement, or None when SQLAlchemy must run it."""
    try:
        return Plan(statement, dialect, keys)
    except (Unsupported, AttributeError):
        log.warning("statement runs through SQLAlchemy: %s", str(statement).split("\n", 1)[0])
        return None


class Database:
    """Hands out transactions: inline SQLite, or an async engine for other databases."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.sqlite: Engine | None = make_sqlite_engine(url) if is_sqlite(url) else None
        self._session: SqliteSession | None = None
        self._checkpointer: Checkpointer | None = None
        self.checkpoint_options: dict[str, Any] = {}  # for `Checkpointer`, set before the first transaction
        self.async_engine: AsyncEngine | None = None
        if self.sqlite is None:
            self.async_engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Conn]:
        """A transaction that commits on success and rolls back on error."""
        if self.sqlite is not None:
            async with self._lock:
                session = self._session or self._open_session(self.sqlite)
                if self._checkpointer is not None and self._checkpointer.restart_wanted:
                    self._checkpointer.restart(session.raw)
                session.cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield InlineConnection(session)
                    session.cursor.execute("COMMIT")
                except BaseException:
                    if session.raw.in_transaction:
                        session.cursor.execute("ROLLBACK")
                    raise
            return
        assert self.async_engine is not None
        async with self.async_engine.begin() as async_connection:
            yield async_connection

    def _open_session(self, engine: Engine) -> SqliteSession:
        """Connect; a file database gets its checkpoint thread."""
        self._session = SqliteSession(engine)
        path = make_url(self.url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            self._checkpointer = Checkpointer(path, **self.checkpoint_options)
        return self._session

    async def dispose(self) -> None:
        """Close every connection."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._session is not None:
            self._session.close()
            self._session = None
        if self.sqlite is not None:
            self.sqlite.dispose()
        if self.async_engine is not None:
            await self.async_engine.dispose()
