"""Database access: one SQLAlchemy `AsyncEngine`, aiosqlite for SQLite and asyncpg for PostgreSQL.

Two kinds of transaction, the same queries on both databases:

    async with database.begin() as conn:   # a write transaction: commits on success, rolls back on error
        await conn.execute(...)
    async with database.read() as conn:    # a read transaction: sees one snapshot; a write is refused
        await conn.execute(...)

Hold neither longer than needed: a long job reads in several short `read()` transactions and
writes in chunks of short `begin()` transactions.

SQLite (`sqlite+aiosqlite:///data/sangkien.db`) runs each connection in aiosqlite's own thread, so
statements and any wait for a lock happen off the event loop. Every connection uses WAL,
`synchronous=FULL` (a commit reaches the disk before the answer is sent, so a receipt code sent
survives a power cut), foreign keys, in-memory temporary tables and a busy timeout. Following
SQLAlchemy's documented recipe for pysqlite/aiosqlite, the driver's own transaction handling is
switched off and the engine's "begin" event emits the BEGIN: `BEGIN IMMEDIATE` for a write
transaction, which takes the write lock at once (so a transaction never fails half-way over a lock,
and savepoints and DDL are transactional). Read transactions come from connections of their own,
opened with `PRAGMA query_only`, and begin with a plain deferred `BEGIN`: in WAL mode they never
wait for a writer and see the database as it was at their first read. Write
transactions of this process take turns behind an asyncio lock (SQLite has one writer; waiting
on the lock costs nothing, while SQLite's busy handler polls), and those queued at the same moment
share one SQLite transaction and one commit (group commit: one fsync instead of one each, at most
`GROUP_COMMIT_MAX`): each but the first starts at a savepoint of its own and, if it fails, rolls
back to it, so a failure loses nobody else's work; `begin()` returns only once the commit holding
its work is done, so an answer is still sent only after what it confirms is on disk. When another
process (`sangkien jobs run …`) holds the write lock longer than the busy timeout, BEGIN is retried
a few times and logged; nothing has run yet at that point, so a retry is always safe.

PostgreSQL (`postgresql+asyncpg://…`): `begin()` is the engine's `begin()`; `read()` is a
`REPEATABLE READ, READ ONLY` transaction (one snapshot) of an engine of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000  # how long SQLite waits for another process's lock, in aiosqlite's thread
BEGIN_ATTEMPTS = 3  # a write transaction waits up to three busy timeouts before the error is raised
GROUP_COMMIT_MAX = 32  # write transactions of this process sharing one SQLite commit, at most
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class Conn(Protocol):
    """What queries need of a connection (SQLAlchemy's `AsyncConnection`)."""

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement."""

    def stream(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement whose rows are fetched as they are read (awaited: `partitions(n)`)."""

    def begin_nested(self) -> Any:
        """Open a savepoint (an async context manager)."""


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


def async_url(url: str) -> str:
    """The URL with the async driver: `sqlite://…` becomes `sqlite+aiosqlite://…`, `postgresql://…`
    becomes `postgresql+asyncpg://…`; a URL naming its driver is kept."""
    parsed = make_url(url)
    if parsed.drivername in ASYNC_DRIVERS:
        parsed = parsed.set(drivername=ASYNC_DRIVERS[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, foreign_keys: bool = True, read_only: bool = False, **options: Any) -> AsyncEngine:
    """An async engine on `url`; on SQLite with the pragmas and the BEGIN of the recipe above.

    `read_only`: every transaction of the engine is a read transaction. Migrations pass
    `foreign_keys=False`: SQLite rebuilds a table only with foreign keys off, and the pragma cannot
    change inside a transaction, so it is set as each connection opens."""
    url = async_url(url)
    if not is_sqlite(url):
        pool = {} if "poolclass" in options else {"pool_size": 10, "max_overflow": 10}
        if read_only:
            options["execution_options"] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        return create_async_engine(url, pool_pre_ping=True, **pool, **options)
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # every transaction ends in a commit or a rollback before its connection goes back to the
    # pool (Connection.close rolls back one left open): no reset, a round trip to aiosqlite's thread less
    engine = create_async_engine(url, pool_reset_on_return=None, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver begins nothing; "begin" below does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def is_locked(error: OperationalError) -> bool:
    """True for SQLite's "database is locked" (another connection holds the lock)."""
    return "database is locked" in str(error.orig)


async def begun(conn: AsyncConnection) -> Any:
    """Begin a transaction on `conn`, retrying while another process holds SQLite's write lock
    (nothing has run yet, so a retry is always safe)."""
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            return await conn.begin()
        except OperationalError as error:
            if not is_locked(error) or attempt == BEGIN_ATTEMPTS:
                raise
            log.warning("database locked by another process for %d ms; waiting again", BUSY_TIMEOUT_MS)
    raise AssertionError("unreachable")


class Batch:
    """One SQLite write transaction shared by the write transactions of this process that queued
    for the lock meanwhile (group commit: one fsync for all of them)."""

    def __init__(self, conn: AsyncConnection, transaction: Any) -> None:
        self.conn = conn
        self.transaction = transaction
        self.members = 1
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closer: asyncio.Task[None] | None = None  # the task that commits it


class Database:
    """Hands out write and read transactions on one database (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.engine = make_engine(self.url)
        self.reader = make_engine(self.url, read_only=True)
        self._writers = asyncio.Lock()
        self._batch: Batch | None = None

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction that commits on success and rolls back on error."""
        if self.dialect == "sqlite":
            return self._grouped()
        return self._transaction(self.engine)

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A read transaction: one consistent snapshot, never waits for writers; a write is refused."""
        return self._transaction(self.reader)

    @asynccontextmanager
    async def _transaction(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """Begin (retrying while another process holds SQLite's lock), yield, commit or roll back."""
        async with engine.connect() as conn:
            transaction = await begun(conn)
            try:
                yield conn
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()

    @asynccontextmanager
    async def _grouped(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on SQLite: taking turns behind the lock, each inside the batch that
        the first of them opened, committed once by whoever queued for the lock right after that
        first one (so everyone queued meanwhile joins it). Each later member starts at a savepoint
        of its own, rolled back to if it fails; none is released (a release is another round trip
        to SQLite's thread): the commit ends them all, and a member rolling back to its own
        savepoint undoes nobody else's work, since the members after it have not run yet."""
        async with self._writers:
            batch = self._batch
            if batch is not None and batch.members >= GROUP_COMMIT_MAX:
                await self._commit(batch)
                batch = None
            if batch is None:
                conn = await self.engine.connect()
                try:
                    batch = self._batch = Batch(conn, await begun(conn))
                except BaseException:
                    await conn.close()
                    raise
                batch.closer = asyncio.get_running_loop().create_task(self._commit_later(batch))
                try:
                    yield batch.conn
                except BaseException:
                    await self._abort(batch)  # alone in it so far: nothing of another is lost
                    raise
            else:
                batch.members += 1
                savepoint = f"member_{batch.members}"
                try:
                    await batch.conn.exec_driver_sql(f"SAVEPOINT {savepoint}")
                except BaseException as error:
                    await self._abort(batch, error)
                    raise
                try:
                    yield batch.conn
                except BaseException:
                    try:
                        await batch.conn.exec_driver_sql(f"ROLLBACK TO {savepoint}")
                    except BaseException as error:
                        await self._abort(batch, error)
                    raise
        await asyncio.shield(batch.committed)  # the answer waits for the commit

    async def _commit_later(self, batch: Batch) -> None:
        """Commit the batch once everyone queued for the lock when it opened has had their turn."""
        async with self._writers:
            if self._batch is batch:
                await self._commit(batch)

    async def _commit(self, batch: Batch) -> None:
        """Commit the batch (holding the lock); its members learn the result."""
        self._batch = None
        try:
            await batch.transaction.commit()
        except BaseException as error:
            await self._abort(batch, error)
            return
        await batch.conn.close()
        batch.committed.set_result(None)

    async def _abort(self, batch: Batch, error: BaseException | None = None) -> None:
        """Roll the batch back (holding the lock); its members get the error (none when its only
        member failed), and a connection that failed is not used again."""
        if self._batch is batch:
            self._batch = None
        try:
            await batch.transaction.rollback()
            await batch.conn.close()
        except Exception:
            log.exception("rolling back a write transaction failed")
            await batch.conn.invalidate()
        if not batch.committed.done():
            if error is None:
                batch.committed.set_result(None)
            else:
                batch.committed.set_exception(error)
                batch.committed.exception()  # retrieved: no member may be left to await it

    async def dispose(self) -> None:
        """Close every connection."""
        await self.engine.dispose()
        await self.reader.dispose()
