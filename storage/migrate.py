"""Alembic migrations run programmatically: on start and by `sangkien db upgrade`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for the database at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str) -> None:
    """Bring the schema to the newest revision (additive migrations only; nothing is dropped)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade(url: str) -> None:
    """Run migrations from async code, in a worker thread (Alembic's API is synchronous)."""
    await asyncio.to_thread(upgrade_sync, url)
