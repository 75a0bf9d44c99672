"""Another process holding SQLite's write lock: the bot waits off the event loop and nobody sees an error."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import engine
from storage.engine import Database
from storage.store import SqlStore
from tests.conftest import Harness
from tests.fake_telegram import Person, TelegramDriver, texts

pytestmark = pytest.mark.sqlite_only  # SQLite's file lock; PostgreSQL locks rows


@pytest.fixture
def other_process(db_url: str) -> Iterator[sqlite3.Connection]:
    """A connection of its own on the same file, as `sangkien jobs run …` in another process has."""
    connection = sqlite3.connect(Path(db_url.removeprefix("sqlite+aiosqlite:///")), isolation_level=None)
    yield connection
    connection.close()


async def until_waiting(task: asyncio.Task[object]) -> None:
    """Let the task run until it waits for the lock (it cannot finish while the lock is held)."""
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not task.done()


async def test_an_answer_waits_for_another_process_and_the_bot_keeps_running(
    tg: TelegramDriver, other_process: sqlite3.Connection
) -> None:
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("UPDATE unit SET headcount = headcount")
    answer = asyncio.create_task(tg.text(Person(501), "/start"))
    await until_waiting(answer)  # this coroutine runs meanwhile: the wait is not on the event loop
    other_process.execute("COMMIT")
    [welcome] = texts(await answer)
    assert welcome.endswith("Chọn ngôn ngữ / Choose your language:")


async def test_a_lock_held_longer_than_the_busy_timeout_is_waited_for_again_and_logged(
    harness: Harness,
    db_url: str,
    other_process: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 20)
    monkeypatch.setattr(engine, "BEGIN_ATTEMPTS", 1000)
    store = SqlStore(Database(db_url))  # its connections open with the short timeout
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("UPDATE unit SET headcount = 7 WHERE code = 'MAY10'")

    async def write() -> None:
        async with store.transaction() as tx:
            await tx.conn.execute(text("UPDATE unit SET headcount = headcount + 1 WHERE code = 'MAY10'"))

    try:
        with caplog.at_level(logging.WARNING, logger="storage.engine"):
            writing = asyncio.create_task(write())
            await until_waiting(writing)
            other_process.execute("COMMIT")
            await writing
        assert "database locked by another process" in caplog.text
        assert await harness.query("select headcount from unit where code = 'MAY10'") == [(8,)]
    finally:
        await store.close()


async def test_a_read_transaction_does_not_wait_for_a_writer(
    harness: Harness, db_url: str, other_process: sqlite3.Connection
) -> None:
    store = SqlStore(Database(db_url))
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("UPDATE unit SET headcount = 7 WHERE code = 'MAY10'")
    try:
        async with store.read() as tx:  # the write lock is held: a read goes on, seeing what was committed
            unit = await tx.unit_by_code("MAY10")
        assert unit is not None and unit.headcount == 1200
    finally:
        other_process.execute("ROLLBACK")
        await store.close()
