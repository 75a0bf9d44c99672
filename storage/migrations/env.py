"""Alembic environment: runs migrations over the async engine."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.engine import make_engine
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
    """Connect through the async engine and migrate in one transaction.

    On SQLite the connection opens with foreign keys off (batch migrations rebuild tables, which
    SQLite only allows so) and they are checked once the migration is done."""
    engine = make_engine(url, foreign_keys=False, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
            if connection.dialect.name == "sqlite":
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                await connection.commit()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        await engine.dispose()


def _main() -> None:
    """Migrate on a fresh event loop: in this thread, or in another when the caller's loop runs here."""
    url = config.get_main_option("sqlalchemy.url") or ""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_main_async(url))
        return
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _main_async(url)).result()


_main()
