"""The bot keeps its heartbeat while the weekly leaderboard runs on a large board, another process holds
the write lock for 3 s and the charts are drawn: the event loop never stalls long, nobody sees an error.

A behaviour test with a generous bound (the issue asks for it): the loop's thread never works 50 ms
at a stretch, and no wake-up comes 50 ms later than the latest wake-up of an idle loop in another
process over the same seconds (the machine's scheduling noise: a few ms on an idle machine, tens
when the cores are shared); running the job inside one write transaction stalled it for seconds.
On a very slow machine set SANGKIEN_SKIP_HEARTBEAT=1 to skip it; it runs by default (and in CI)."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.leaderboard import Points
from storage.rows import initiatives, units, users
from tests.conftest import NOW, Harness, person_row, register
from tests.fake_telegram import Person, TelegramDriver
from tests.leaderboard_support import initiative_row, unit_row, user_row

pytestmark = [
    pytest.mark.postgresql,  # also run on PostgreSQL (tests/conftest.py)
    pytest.mark.skipif(os.environ.get("SANGKIEN_SKIP_HEARTBEAT") == "1", reason="SANGKIEN_SKIP_HEARTBEAT=1"),
]

UNITS, PEOPLE, INITIATIVES = 200, 5_000, 20_000
LOCK_SECONDS = 3.0
TICK = 0.005
STALL_BOUND = 0.050


async def seed_board(harness: Harness) -> None:
    """A campaign with tens of thousands of initiatives, written in bulk (the tally triggers fire)."""
    rng = random.Random(11)
    first_unit, first_user = 1_000, 100_000
    unit_ids = list(range(first_unit, first_unit + UNITS))
    people = [(first_user + n, rng.choice(unit_ids)) for n in range(PEOPLE)]
    assert harness.runtime is not None
    async with harness.runtime.store.transaction() as tx:
        await tx.conn.execute(insert(units), [unit_row(u, f"Công đoàn cơ sở {u}") for u in unit_ids])
        await tx.conn.execute(insert(users), [user_row(u, f"Người lao động {u}", unit) for u, unit in people])
    rows = []
    for n in range(INITIATIVES):
        author, unit = rng.choice(people)
        submitted = NOW - timedelta(days=rng.randrange(60), minutes=rng.randrange(1440))
        values: dict[str, Any] = {"submitted_at": submitted, "title": f"Sáng kiến {n}"}
        if rng.random() < 0.5:
            values.update(recognised_level="grassroots", decided_at=submitted + timedelta(days=2))
        rows.append(initiative_row(author, unit, "approved" if "decided_at" in values else "submitted", **values))
    async with harness.runtime.store.transaction() as tx:
        if tx.dialect == "postgresql":  # row triggers one by one take a minute there: fill the tallies after
            await tx.conn.execute(text("SET LOCAL session_replication_role = replica"))
        await tx.conn.execute(insert(initiatives), rows)
        if tx.dialect == "postgresql":
            await tx.rebuild_leaderboard(Points())


async def beat(stalls: list[float], busy: list[float], stop: asyncio.Event) -> None:
    """Wake every 5 ms; record how late each wake-up was and how long the loop's thread worked meanwhile
    (on a loaded machine the first also holds the time the system gave other processes)."""
    while not stop.is_set():
        wall, cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(TICK)
        stalls.append(time.perf_counter() - wall - TICK)
        busy.append(time.thread_time() - cpu)


# The same heartbeat in a process of its own, doing nothing else: the machine's scheduling noise over
# the same seconds (its longest stall is printed when its stdin closes).
NOISE = """
import asyncio, sys, time
async def main():
    stalls, done = [0.0], asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    while not done.done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        stalls.append(time.perf_counter() - before - 0.005)
    print(max(stalls))
asyncio.run(main())
"""


@asynccontextmanager
async def machine_noise() -> AsyncIterator[list[float]]:
    """The longest stall an idle loop in another process sees meanwhile (filled in on exit)."""
    found: list[float] = []
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", NOISE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield found
    finally:
        out, _ = await other.communicate(b"")
        found.append(float(out))


@asynccontextmanager
async def lock_held_elsewhere(db_url: str, held: asyncio.Event) -> AsyncIterator[None]:
    """Another connection takes the write lock and keeps it LOCK_SECONDS: SQLite's BEGIN IMMEDIATE on
    the file (in a thread, as another process would), or on PostgreSQL explicit locks on the tables
    the job and the answers write."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite+aiosqlite:///"))
        loop = asyncio.get_running_loop()

        def hold() -> None:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            loop.call_soon_threadsafe(held.set)
            time.sleep(LOCK_SECONDS)
            other.execute("COMMIT")
            other.close()

        holding = asyncio.create_task(asyncio.to_thread(hold))
        yield
        await holding
        return
    engine = create_async_engine(db_url)

    async def hold_tables() -> None:
        async with engine.begin() as other:
            await other.execute(text("LOCK TABLE outbox, processed_update, app_user IN EXCLUSIVE MODE"))
            held.set()
            await asyncio.sleep(LOCK_SECONDS)

    holding = asyncio.create_task(hold_tables())
    try:
        yield
        await holding
    finally:
        await engine.dispose()


async def test_the_loop_keeps_beating_while_the_leaderboard_runs_and_another_process_holds_the_lock(
    tg: TelegramDriver, harness: Harness, db_url: str
) -> None:
    await seed_board(harness)
    gc.collect()  # the set-up's garbage is not the job's
    assert harness.runtime is not None

    stalls: list[float] = []
    busy: list[float] = []
    stop, held = asyncio.Event(), asyncio.Event()
    async with machine_noise() as noise:
        heart = asyncio.create_task(beat(stalls, busy, stop))
        async with lock_held_elsewhere(db_url, held):
            await held.wait()
            began = time.perf_counter()
            job = asyncio.create_task(harness.runtime.jobs.run("leaderboard"))
            person = Person(4242, first_name="Hà")
            answers = await register(tg, person)  # every answer of registration while the lock is held
            waited = time.perf_counter() - began
        report = await job
        stop.set()
        await heart
    assert waited > 1.0  # the person's first answer really waited for the other process's lock
    assert report is not None and report["queued"] >= PEOPLE  # every participant (the newcomer if in time)
    sent = [call.text for call in tg.api.calls]
    assert not [t for t in sent if "locked" in t or "bot gặp lỗi" in t]
    assert answers and (await person_row(harness, person, "u.reg_step"))[0] == "done"
    charts = await harness.query("select count(*) from outbox where status = 'blob'")
    assert charts == [(2,)]  # the week's chart (everyone reads Vietnamese), drawn while the lock was held, and its text
    assert max(busy) < STALL_BOUND, sorted(busy)[-5:]  # nothing ran on the loop for 50 ms at a stretch
    assert max(stalls) < STALL_BOUND + noise[0], (sorted(stalls)[-5:], noise)  # nor did it wait that long
