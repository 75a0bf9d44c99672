"""Alembic environment: runs migrations over the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import is_sqlite, make_sqlite_engine
from storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    """Run the migrations on one connection."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main_async(url: str) -> None:
    """Connect through the async engine and migrate."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _main() -> None:
    """Migrate SQLite with the standard driver, other databases through their async driver."""
    url = config.get_main_option("sqlalchemy.url") or ""
    if not is_sqlite(url):
        asyncio.run(_main_async(url))
        return
    engine = make_sqlite_engine(url)
    with engine.connect() as connection:
        # Batch migrations rebuild tables; SQLite only allows that with foreign keys off
        # (a no-op inside a transaction, hence on the raw connection first), checked after.
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        _run(connection)
        connection.commit()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        raw.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    engine.dispose()


_main()
