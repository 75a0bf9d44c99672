"""Synthetic data for bench_leaderboard.py: units, people and initiatives with a realistic skew.

Most people have 0–3 initiatives, some 4–19, a few 20–150; units vary in size (Pareto); events
follow an initiative's age (recent ones still pending, older ones decided, many applied).
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command

from storage.migrate import alembic_config, upgrade_sync

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội
CAMPAIGN = "1trieu-2026"
FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite
NAME_PARTS = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý",  # family names
    "Văn Thị Hữu Đức Thanh Minh Ngọc Quang Thu Xuân Đình Mỹ",  # middle names
    "An Bình Cúc Dũng Hương Hùng Lan Mai Nam Phương Quân Sơn Trang Tú Việt Yến Hằng Đức",  # given names
)
PENDING = ("submitted", "in_review", "changes_requested", "resubmitted")
INSERT_UNIT = (
    "insert into unit (id, code, name, name_folded, parent_id, level, sector, headcount, review_mode, quorum,"
    " covers_below) values (?, ?, ?, lower(?), ?, ?, 'enterprise', 500, 'single', 1, 0)"
)
INSERT_USER = (
    "insert into app_user (id, channel, external_id, locale, reg_step, full_name, unit_id, editing_profile,"
    " deleted, reminders_off, created_at, updated_at)"
    " values (?, 'telegram', ?, 'vi', 'done', ?, ?, 0, ?, 0, ?, ?)"
)
INSERT_INITIATIVE = (  # into revision 0003, where recognised_level was still spelt recognized_level
    "insert into initiative (campaign_key, author_id, unit_id, status, step, created_at, updated_at,"
    " submitted_at, recognized_level, decided_at, applied_at, editing, author_percent, version, review_round)"
    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 100, 0, 0)"
)


def stamp(moment: datetime | None) -> str | None:
    """A datetime as stored in SQLite."""
    return moment.astimezone(UTC).strftime(FMT) if moment else None


def full_name(rng: random.Random) -> str:
    """A Vietnamese full name."""
    return " ".join(rng.choice(part.split()) for part in NAME_PARTS)


def counts_per_person(rng: random.Random, people: int, total: int) -> list[int]:
    """Initiatives per person: most 0–3, some 4–19, a few 20–150; trimmed to `total`."""
    counts = []
    for _ in range(people):
        r = rng.random()
        if r < 0.45:
            counts.append(0)
        elif r < 0.80:
            counts.append(rng.randint(1, 3))
        elif r < 0.95:
            counts.append(rng.randint(4, 19))
        else:
            counts.append(int(20 * 7.5 ** rng.random()))
    slots = [person for person, n in enumerate(counts, start=1) for _ in range(n)]
    rng.shuffle(slots)
    slots = slots[:total]
    while len(slots) < total:
        slots.append(rng.randint(1, people))
    return slots


def initiative(rng: random.Random, author: int, unit: int, drafted: set[int]) -> tuple[Any, ...]:
    """One initiative row: status and event times depend on its age."""
    submitted = NOW - timedelta(seconds=rng.randrange(700 * 86400))
    status, level, decided, applied = rng.choice(PENDING), None, None, None
    age = (NOW - submitted).days
    r = rng.random()
    if r < 0.03 and author not in drafted:
        drafted.add(author)
        status, submitted = "draft", None
    elif r < 0.06:
        status = "withdrawn"
    elif age > 20 or r < 0.5:
        decided = submitted + timedelta(seconds=rng.randrange(80 * 86400))
        status = "approved" if rng.random() < 0.7 else "rejected"
        if decided >= NOW:  # not decided yet
            status, decided = rng.choice(PENDING), None
        elif status == "approved":
            level = rng.choices(("grassroots", "upper", "city"), (80, 15, 5))[0]
            if rng.random() < 0.6:
                moment = decided + timedelta(seconds=rng.randrange(60 * 86400))
                applied = moment if moment < NOW else None
    created = stamp((submitted or NOW) - timedelta(hours=1))
    campaign = CAMPAIGN if rng.random() < 0.9 else "1trieu-2024"
    return (
        campaign,
        author,
        unit,
        status,
        "draft" if status == "draft" else "done",
        created,
        created,
        stamp(submitted),
        level,
        stamp(decided),
        stamp(applied),
    )


def build(path: Path, *, initiatives: int, people: int, unit_count: int, seed: int = 7) -> float:
    """Create the database: schema to 0003, bulk load, then upgrade head (fills the tallies)."""
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0003")
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("pragma synchronous=off")
    index_sql = [
        r[0]
        for r in db.execute(
            "select sql from sqlite_master where type='index' and tbl_name='initiative' and sql is not null"
        )
    ]
    for (name,) in db.execute(
        "select name from sqlite_master where type='index' and tbl_name='initiative' and sql is not null"
    ).fetchall():
        db.execute(f"drop index {name}")
    uppers = 49
    units = [(1, "LDLD", "Liên đoàn Lao động thành phố Hà Nội", None, "city")]
    units += [(i, f"UP{i}", f"Công đoàn ngành – quận số {i}", 1, "upper") for i in range(2, uppers + 2)]
    units += [
        (i, f"U{i}", f"Công đoàn Công ty số {i}", 2 + i % uppers, "grassroots")
        for i in range(uppers + 2, unit_count + 1)
    ]
    db.executemany(INSERT_UNIT, [(i, c, n, n, p, lv) for i, c, n, p, lv in units])
    grassroots = [u[0] for u in units if u[4] == "grassroots"]
    homes = rng.choices(grassroots, weights=[rng.paretovariate(1.2) for _ in grassroots], k=people)
    now = stamp(NOW)
    db.executemany(
        INSERT_USER,
        [
            (i, str(10**6 + i), full_name(rng), homes[i - 1], int(rng.random() < 0.005), now, now)
            for i in range(1, people + 1)
        ],
    )
    drafted: set[int] = set()
    rows = []
    for author in counts_per_person(rng, people, initiatives):
        unit = homes[author - 1] if rng.random() < 0.97 else rng.choice(grassroots)
        rows.append(initiative(rng, author, unit, drafted))
    db.executemany(INSERT_INITIATIVE, rows)
    for sql in index_sql:
        db.execute(sql)
    db.commit()
    db.close()
    start = time.perf_counter()
    upgrade_sync(url)  # revision 0004 fills the tallies from the rows above
    return time.perf_counter() - start
