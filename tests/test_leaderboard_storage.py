"""The leaderboard computed in SQL equals the pure-Python reference, on random and chosen data."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, text, update

from bot.leaderboard import Person, Points, ReaderRank, Window, reference
from storage.engine import Database
from storage.migrate import alembic_config, upgrade_sync
from storage.rows import initiatives, users
from storage.store import SqlStore
from tests.leaderboard_support import NOW, Data, initiative_row, random_data, unit_row, user_row, write

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

WEEK = Window.week_before(NOW)
WINDOWS = [Window(), WEEK, Window(NOW - timedelta(days=20), NOW - timedelta(days=3))]
ODD_POINTS = Points(submitted=0, grassroots=2, upper=0, city=7, applied=1)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """A store on a fresh migrated database."""
    s = SqlStore(Database(db_url))
    yield s
    await s.close()


async def check(store: SqlStore, data: Data, points: Points, campaign_key: str = "c2026") -> None:
    """Board, ranking and every reader's rank equal the reference in every window."""
    for window in WINDOWS:
        board, ranking = reference(
            data.entries(campaign_key),
            data.people,
            data.unit_names,
            points=points,
            window=window,
            top_n=10,
        )
        async with store.transaction() as tx:
            assert await tx.leaderboard(campaign_key, window=window, points=points, top_n=10) == board
            assert await tx.ranking(campaign_key, window=window, points=points) == ranking
            readers = [k for k, p in data.people.items() if k % 6 == 0 or p.deleted or p.unit_id is None]
            for user_id in readers:
                got = await tx.reader_rank(campaign_key, user_id, window=window, points=points)
                assert got == ranking.reader(user_id, data.people[user_id].unit_id), (window, user_id)
            for user_id in readers[:4]:
                with_reader = await tx.leaderboard(
                    campaign_key, window=window, points=points, top_n=10, reader_id=user_id
                )
                assert with_reader == replace(board, reader=ranking.reader(user_id, data.people[user_id].unit_id))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sql_equals_the_reference_on_random_data(store: SqlStore, seed: int) -> None:
    data = random_data(seed)
    async with store.transaction() as tx:
        await write(tx.conn, data)
    await check(store, data, Points())
    await check(store, data, Points(), campaign_key="c2024")


async def test_changed_points_rebuild_the_tallies(store: SqlStore) -> None:
    data = random_data(4)
    async with store.transaction() as tx:
        await write(tx.conn, data)
    await check(store, data, ODD_POINTS)
    await check(store, data, Points())


async def test_triggers_follow_updates_deletes_and_forgotten_people(store: SqlStore) -> None:
    data = random_data(5)
    async with store.transaction() as tx:
        await write(tx.conn, data)
        await tx.use_points(Points())
    rng = random.Random(5)
    async with store.transaction() as tx:
        for row_id in rng.sample(sorted(data.rows), 250):
            await mutate(tx.conn, data, row_id, rng)
        for user_id in rng.sample(sorted(data.people), 4):
            await tx.conn.execute(update(users).where(users.c.id == user_id).values(deleted=True))
            p = data.people[user_id]
            data.people[user_id] = Person(p.name, p.unit_id, True)
    await check(store, data, Points())


async def mutate(conn: Any, data: Data, row_id: int, rng: random.Random) -> None:
    """Change, move or delete one initiative, in the database and in `data` alike."""
    row = data.rows[row_id]
    choice = rng.randrange(6)
    if choice == 0:
        await conn.execute(delete(initiatives).where(initiatives.c.id == row_id))
        del data.rows[row_id]
        return
    options: list[dict[str, Any]] = [
        {"status": "withdrawn"},
        {"status": "approved", "recognised_level": "upper", "decided_at": NOW - timedelta(hours=5)},
        {"applied_at": NOW - timedelta(days=2, minutes=row_id)},
        {"unit_id": rng.choice([None, *data.unit_names]), "campaign_key": rng.choice(["c2026", "c2024"])},
        {"author_id": rng.choice(list(data.people))},
    ]
    changes = options[choice - 1]
    if row["status"] == "draft" and "status" in changes:
        return  # a draft only leaves through submission (and one draft per author)
    if "author_id" in changes and row["status"] == "draft":
        return
    await conn.execute(update(initiatives).where(initiatives.c.id == row_id).values(**changes))
    row.update(changes)


async def test_the_earlier_achiever_ranks_first_on_equal_points(store: SqlStore) -> None:
    data = Data(unit_names={1: "Công đoàn May 10", 2: "Công đoàn Điện cơ"})
    data.people = {1: Person("Lan", 1), 2: Person("Hùng", 2), 3: Person("Mai", 1)}
    day = timedelta(days=1)
    rows = [
        (1, 1, "submitted", {"submitted_at": NOW - 2 * day}),
        (2, 2, "submitted", {"submitted_at": NOW - 3 * day}),
        (3, 1, "submitted", {"submitted_at": NOW - 3 * day}),
    ]
    data.rows = {
        k: {"id": k, **initiative_row(author, unit, status, **values)}
        for k, (author, unit, status, values) in enumerate(rows, start=1)
    }
    async with store.transaction() as tx:
        await write(tx.conn, data)
        board = await tx.leaderboard("c2026", window=WEEK, points=Points(), top_n=10)
        # Hùng and Mai reached 1 point at the same moment: the lower id wins, then Lan.
        assert [(s.name, s.rank, s.points) for s in board.people] == [("Hùng", 1, 1), ("Mai", 2, 1), ("Lan", 3, 1)]
        # May 10 reached 2 points only when Lan submitted; Điện cơ's 1 point ranks second.
        assert [(s.name, s.points) for s in board.units] == [("Công đoàn May 10", 2), ("Công đoàn Điện cơ", 1)]
        assert board.people[0].unit_name == "Công đoàn Điện cơ"
    await check(store, data, Points())


async def test_the_week_counts_each_event_at_its_own_time(store: SqlStore) -> None:
    data = Data(unit_names={1: "Công đoàn May 10"}, people={1: Person("Lan", 1), 2: Person("Hùng", 1)})
    old, recent = NOW - timedelta(days=60), NOW - timedelta(days=2)
    data.rows = {
        1: {"id": 1, **initiative_row(1, 1, "approved", submitted_at=old, recognised_level="upper", decided_at=recent)},
        2: {
            "id": 2,
            **initiative_row(
                2, 1, "approved", submitted_at=old, recognised_level="grassroots", decided_at=old, applied_at=recent
            ),
        },
        3: {"id": 3, **initiative_row(2, 1, "withdrawn", submitted_at=recent)},
        4: {"id": 4, **initiative_row(1, 1, "draft")},
    }
    async with store.transaction() as tx:
        await write(tx.conn, data)
        week = await tx.leaderboard("c2026", window=WEEK, points=Points(), top_n=10)
        campaign = await tx.leaderboard("c2026", window=Window(), points=Points(), top_n=10)
    assert [(s.name, s.points) for s in week.people] == [("Lan", 5), ("Hùng", 2)]
    assert [(s.name, s.points) for s in campaign.people] == [("Lan", 6), ("Hùng", 6)]
    assert campaign.units[0].points == 12 and campaign.total_units == 1


async def test_a_reader_without_points_has_no_rank_but_sees_the_totals(store: SqlStore) -> None:
    data = Data(unit_names={1: "A", 2: "B"}, people={1: Person("Lan", 1), 2: Person("Hùng", 2), 3: Person("Mai", None)})
    data.rows = {1: {"id": 1, **initiative_row(1, 1, "submitted", submitted_at=NOW - timedelta(hours=1))}}
    async with store.transaction() as tx:
        await write(tx.conn, data)
        for window in (WEEK, Window()):
            assert await tx.reader_rank("c2026", 1, window=window, points=Points()) == ReaderRank(1, 1, 1, 1)
            assert await tx.reader_rank("c2026", 2, window=window, points=Points()) == ReaderRank(None, 1, None, 1)
            assert await tx.reader_rank("c2026", 3, window=window, points=Points()) == ReaderRank(None, 1, None, 1)
            assert await tx.reader_rank("c2026", 99, window=window, points=Points()) == ReaderRank(None, 1, None, 1)
        empty = await tx.leaderboard("other", window=Window(), points=Points(), top_n=10)
    assert (empty.people, empty.units, empty.total_people, empty.total_units) == ([], [], 0, 0)


async def test_the_tally_triggers_exist_at_head(store: SqlStore) -> None:
    async with store.transaction() as tx:
        if store.database.dialect == "postgresql":
            expected = {"leaderboard_initiative_changed", "leaderboard_user_forgotten"}
            listed = "select tgname from pg_trigger where not tgisinternal"
        else:
            expected = {
                "leaderboard_initiative_added",
                "leaderboard_initiative_removed",
                "leaderboard_initiative_enter",
                "leaderboard_initiative_leave",
                "leaderboard_initiative_change",
                "leaderboard_user_forgotten",
            }
            listed = "select name from sqlite_master where type = 'trigger'"
        names = {row[0] for row in (await tx.conn.execute(text(listed))).all()}
    assert expected <= names


def test_the_migration_fills_the_tallies_from_existing_initiatives(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0003")
    data = random_data(6, people=30, count=200)
    with sqlite3.connect(path) as conn:
        for sql, rows in plain_rows(data):
            conn.executemany(sql, rows)
    upgrade_sync(f"sqlite+aiosqlite:///{path}")

    async def compare() -> None:
        store = SqlStore(Database(f"sqlite+aiosqlite:///{path}"))
        try:
            await check(store, data, Points())
        finally:
            await store.close()

    asyncio.run(compare())


OLD_NAMES = {"recognised_level": "recognized_level"}  # spelt so until revision 0012


def plain_rows(data: Data) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """INSERT statements and rows for sqlite3, in the columns revision 0003 has."""

    def stamp(value: Any) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    statements = []
    for name, rows in (
        ("unit", [unit_row(k, v) for k, v in data.unit_names.items()]),
        ("app_user", [user_row(k, p.name, p.unit_id, p.deleted) for k, p in data.people.items()]),
        ("initiative", list(data.rows.values())),
    ):
        columns = list(rows[0])
        named = [OLD_NAMES.get(c, c) for c in columns]
        sql = f"insert into {name} ({', '.join(named)}) values ({', '.join('?' * len(columns))})"
        statements.append((sql, [tuple(stamp(r[c]) for c in columns) for r in rows]))
    return statements
