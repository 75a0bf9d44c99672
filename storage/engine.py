"""Database access: SQLite inline on the event loop (WAL), other databases through an async driver.

SQLite statements of this bot take tens of microseconds; a hop to aiosqlite's worker thread and
back costs more than the statement itself (see BENCHMARKS.md). So for SQLite the standard `sqlite3`
driver runs inline, one transaction at a time behind an asyncio lock, on one shared connection:
SQLite has a single writer anyway. Transactions are begun and committed by hand (`BEGIN IMMEDIATE`);
statements marked `prepared()` run on the cursor (`storage/prepared.py`), the others through
SQLAlchemy in autocommit mode inside that same transaction. Every statement passes through
`SqliteSession.execute`, which keeps the row cache of the hot lookups in step
(`storage/rowcache.py`). PostgreSQL
(`postgresql+asyncpg://…`) uses the async engine.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.checkpoint import Checkpointer
from storage.prepared import Plan, PlanResult, Unsupported, is_prepared
from storage.rowcache import Lookup, RowCache, fields_set_by_id, lookup_of

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
            self.sqlite.cache.clear()
            raise
        cursor.execute(f"RELEASE {name}")


class Hot:
    """A prepared statement's plan, with what the row cache needs to know about it."""

    __slots__ = ("insert", "lookup", "plan", "sets", "table")

    def __init__(self, plan: Plan, statement: Any) -> None:
        self.plan = plan
        self.lookup: Lookup | None = lookup_of(statement)
        self.table: str | None = statement.table.name if statement.is_dml else None
        self.sets = fields_set_by_id(statement)
        # a plain INSERT only adds a row; an upsert or INSERT OR REPLACE may change or delete one
        self.insert = plan.sql.startswith("INSERT INTO") and "ON CONFLICT" not in plan.sql


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
        self.plans: dict[tuple[int, tuple[str, ...]], Hot | None] = {}
        self.cache = RowCache()

    def begin(self) -> None:
        """Start a write transaction (the row cache checks whether another connection wrote)."""
        self.cursor.execute("BEGIN IMMEDIATE")
        self.cache.begin(self.cursor.execute("PRAGMA data_version").fetchone()[0])

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a prepared statement on the cursor, any other through SQLAlchemy."""
        if is_prepared(statement) and (parameters is None or isinstance(parameters, dict)):
            params = parameters or {}
            key = (id(statement), tuple(sorted(params)))
            hot = self.plans.get(key, _UNPLANNED)
            if hot is _UNPLANNED:
                plan = _plan(statement, self.dialect, key[1])
                hot = self.plans[key] = Hot(plan, statement) if plan is not None else None
            if hot is not None:
                if hot.lookup is not None:
                    return self._look_up(hot.plan, hot.lookup, params)
                result = hot.plan.run(self.cursor, params)
                if hot.table is not None:
                    self._wrote(hot, params, result.rowcount)
                return result
        result = self.connection.execute(statement, parameters)
        if not getattr(statement, "is_select", False):
            self.cache.changed(statement.table.name if getattr(statement, "is_dml", False) else None)
        return result

    def _look_up(self, plan: Plan, lookup: Lookup, params: dict[str, Any]) -> PlanResult:
        """A cached lookup: from the row cache, else from the database."""
        row = self.cache.get(lookup, params)
        if row is None:
            result = plan.run(self.cursor, params)
            self.cache.put(lookup, params, result.rows, plan.result_processors)
            return result
        if self.cache.check:
            self.cache.verify(lookup, params, row, plan.run(self.cursor, params).rows)
        return PlanResult([row], -1, None)

    def _wrote(self, hot: Hot, params: dict[str, Any], rowcount: int) -> None:
        """Tell the row cache what a prepared INSERT, UPDATE or DELETE changed."""
        assert hot.table is not None
        if hot.sets is not None:
            if rowcount:
                values = {name: params[name] for name in hot.sets if name in params}
                self.cache.saved(hot.table, params["_id"], values, hot.plan.bind_processors)
        elif hot.insert:
            self.cache.inserted(hot.table, params)
        else:
            self.cache.changed(hot.table)

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


class SqliteTransaction:
    """One SQLite write transaction, one at a time: BEGIN IMMEDIATE, then COMMIT or ROLLBACK.

    A class rather than a generator-based context manager: it is entered once per update, and
    this costs a fifth of the generator's machinery."""

    __slots__ = ("database", "session")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.session: SqliteSession | None = None

    async def __aenter__(self) -> InlineConnection:
        """Wait for the previous transaction to end, then begin this one."""
        await self.database._lock.acquire()
        try:
            session = self.database._session_for_transaction()
            session.begin()
        except BaseException:
            self.database._lock.release()
            raise
        self.session = session
        return InlineConnection(session)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        """Commit on success; on error (or a failed commit) roll back and forget cached rows."""
        session = self.session
        assert session is not None
        try:
            if kind is None:
                try:
                    session.cursor.execute("COMMIT")
                    return
                except BaseException:
                    self._roll_back(session)
                    raise
            self._roll_back(session)
        finally:
            self.database._lock.release()

    @staticmethod
    def _roll_back(session: SqliteSession) -> None:
        """Undo what the transaction wrote (if SQLite has not already) and drop the row cache."""
        session.cache.clear()
        if session.raw.in_transaction:
            session.cursor.execute("ROLLBACK")


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

    def begin(self) -> AbstractAsyncContextManager[Conn]:
        """A transaction that commits on success and rolls back on error."""
        if self.sqlite is not None:
            return SqliteTransaction(self)
        assert self.async_engine is not None
        return self.async_engine.begin()

    def _session_for_transaction(self) -> SqliteSession:
        """The connection, opened on first use, after a checkpoint restart if one is due."""
        assert self.sqlite is not None
        session = self._session or self._open_session(self.sqlite)
        if self._checkpointer is not None and self._checkpointer.restart_wanted:
            self._checkpointer.restart(session.raw)
        return session

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
