"""The leaderboard over 1,000,000 initiatives, 200,000 people and 5,000 units in SQLite.

Builds the database once (cached in the temp folder): schema up to revision 0003, a bulk load
with plain sqlite3, then `upgrade head`, whose revision 0004 fills the tallies. Then measures the
full leaderboard through storage (past week + campaign so far, people + units, one reader's
rank: four calls in one transaction) and, in the same run, the baseline: every row of the
campaign loaded into Python and ranked by the reference implementation (bot/leaderboard.py).
Both answers are compared. Also times the chart, a rebuild of the tallies, and the cost the
triggers add to one initiative update.

    .venv/bin/python bench/bench_leaderboard.py [--repeat 30] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402

from bot.leaderboard import Entry, Person, Points, Window, reference  # noqa: E402
from storage.engine import Database  # noqa: E402
from storage.migrate import alembic_config, upgrade_sync  # noqa: E402
from storage.store import SqlStore  # noqa: E402

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
INSERT_INITIATIVE = (
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


def timed(samples: list[float]) -> str:
    """p50 / p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


async def full_board(store: SqlStore, reader: int, points: Points) -> tuple[Any, ...]:
    """Week and campaign boards with one reader's rank, as the weekly job asks for them."""
    week = Window.week_before(NOW)
    async with store.transaction() as tx:
        return (
            await tx.leaderboard(CAMPAIGN, window=week, points=points, top_n=10),
            await tx.reader_rank(CAMPAIGN, reader, window=week, points=points),
            await tx.leaderboard(CAMPAIGN, window=Window(), points=points, top_n=10),
            await tx.reader_rank(CAMPAIGN, reader, window=Window(), points=points),
        )


def parse(value: str | None) -> datetime | None:
    """A stored datetime back as an aware datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def baseline(path: Path, reader: int, points: Points) -> tuple[Any, ...]:
    """Load every row into Python and compute the same four answers with the reference."""
    db = sqlite3.connect(path)
    entries = [
        Entry(a, u, s, parse(sub), lvl, parse(dec), parse(app))
        for a, u, s, sub, lvl, dec, app in db.execute(
            "select author_id, unit_id, status, submitted_at, recognized_level, decided_at, applied_at"
            " from initiative where campaign_key = ?",
            (CAMPAIGN,),
        )
    ]
    people = {
        i: Person(n, u, bool(d)) for i, n, u, d in db.execute("select id, full_name, unit_id, deleted from app_user")
    }
    names = dict(db.execute("select id, name from unit").fetchall())
    db.close()
    answers: list[Any] = []
    for window in (Window.week_before(NOW), Window()):
        board, ranking = reference(entries, people, names, points=points, window=window, top_n=10)
        answers += [board, ranking.reader(reader, people[reader].unit_id)]
    return tuple(answers)


def trigger_cost(path: Path, updates: int = 2000) -> tuple[float, float]:
    """µs per initiative decision (status, level, decided_at) with and without the triggers."""
    db = sqlite3.connect(path, isolation_level=None)
    ids = [r[0] for r in db.execute("select id from initiative where status = 'submitted' limit ?", (updates,))]
    result = []
    for drop in (False, True):
        db.execute("begin")
        if drop:
            for (name,) in db.execute("select name from sqlite_master where type = 'trigger'").fetchall():
                db.execute(f"drop trigger {name}")
        start = time.perf_counter()
        for i in ids:
            db.execute(
                "update initiative set status = 'approved', recognized_level = 'grassroots', decided_at = ?"
                " where id = ?",
                (stamp(NOW), i),
            )
        result.append((time.perf_counter() - start) / len(ids) * 1e6)
        db.execute("rollback")  # DDL is transactional in SQLite: the triggers come back
    db.close()
    return result[0], result[1]


def machine() -> str:
    """CPU count and model, RAM, Python and SQLite versions."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram:.1f} GiB RAM, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )


async def measure(path: Path, repeat: int) -> list[tuple[str, str]]:
    """Run every measurement; return (measure, result) lines."""
    points = Points()
    db = sqlite3.connect(path)
    # A reader near the bottom of the campaign ranking: the most index entries to count.
    reader = db.execute(
        "select user_id from leaderboard_person where campaign_key = ? and points = 1 limit 1", (CAMPAIGN,)
    ).fetchone()[0]
    sizes = [db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("initiative", "app_user", "unit")]
    db.close()
    store = SqlStore(Database(f"sqlite:///{path}"))
    await full_board(store, reader, points)  # warm the cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = await full_board(store, reader, points)
        samples.append(time.perf_counter() - start)
    base = []
    for _ in range(3):
        start = time.perf_counter()
        expected = baseline(path, reader, points)
        base.append(time.perf_counter() - start)
    assert answer == expected, "SQL and reference disagree"
    start = time.perf_counter()
    async with store.transaction() as tx:
        await tx.rebuild_leaderboard(points)
    rebuild = time.perf_counter() - start
    await store.close()
    start = time.perf_counter()
    from bot.charts import render_board

    imported = time.perf_counter() - start
    charts = []
    for _ in range(10):
        start = time.perf_counter()
        render_board(
            answer[2], title="Bảng xếp hạng", people_label="Cá nhân", units_label="Đơn vị", points_label="điểm"
        )
        charts.append(time.perf_counter() - start)
    with_t, without_t = trigger_cost(path)
    sql_p50, base_p50 = statistics.median(samples), statistics.median(base)
    week, campaign = answer[0], answer[2]
    return [
        ("data", f"{sizes[0]:,} initiatives, {sizes[1]:,} people, {sizes[2]:,} units"),
        (
            "participants (week / campaign)",
            f"{week.total_people:,} people, {week.total_units:,} units / "
            f"{campaign.total_people:,} people, {campaign.total_units:,} units",
        ),
        ("reader", f"week {answer[1]}, campaign {answer[3]}"),
        (f"**full leaderboard through storage** ({repeat} runs)", f"**{timed(samples)}**"),
        ("baseline: all rows into Python + reference (3 runs)", f"p50 {base_p50:.2f} s"),
        ("**speed-up (baseline p50 / SQL p50)**", f"**{base_p50 / sql_p50:.0f}×** (same answers: yes)"),
        ("chart (PNG 1080 px wide, 10 + 10 bars), 10 renders", f"{timed(charts)}; matplotlib import {imported:.2f} s"),
        ("rebuild all tallies (when the points change)", f"{rebuild:.1f} s"),
        ("one decision (UPDATE of an initiative), with / without triggers", f"{with_t:.0f} µs / {without_t:.0f} µs"),
    ]


def write_section(target: Path, lines: list[tuple[str, str]], command_line: str, built: str) -> None:
    """Replace (or append) the "## Leaderboard" section of BENCHMARKS.md."""
    table = "\n".join(f"| {name} | {value} |" for name, value in lines)
    section = (
        "## Leaderboard\n\n"
        "Past week + campaign so far, top 10 people + top 10 units, plus one reader's rank (four calls in one\n"
        "transaction through `storage/leaderboard.py`), over a SQLite file with realistic skew: 45 % of people\n"
        "without initiatives, 35 % with 1–3, 15 % with 4–19, 5 % with 20–150. The reader sits near the bottom of\n"
        "the campaign ranking (the most index entries to count). Baseline in the same run: every row of the\n"
        "campaign loaded into Python and ranked by the reference implementation; both answers are compared.\n\n"
        f"    {command_line}\n\nMachine: {machine()}. {built}\n\n| measure | result |\n|---|---|\n{table}\n"
    )
    text = target.read_text(encoding="utf-8") if target.exists() else "# Benchmarks\n"
    start = text.find("## Leaderboard\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end < 0 else text[end:])
    target.write_text(text, encoding="utf-8")


def main() -> None:
    """Build (or reuse) the database, measure, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--write", type=Path, help="update the Leaderboard section of this markdown file")
    args = parser.parse_args()
    path = Path(tempfile.gettempdir()) / f"sangkien-leaderboard-v2-{args.initiatives}-{args.people}-{args.units}.db"
    built = f"Database cached at {path}."
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        backfill = build(partial, initiatives=args.initiatives, people=args.people, unit_count=args.units)
        partial.rename(path)
        built = f"Built in {time.perf_counter() - start:.0f} s, of which migration 0004's backfill {backfill:.1f} s."
    upgrade_sync(f"sqlite:///{path}")
    lines = asyncio.run(measure(path, args.repeat))
    for name, value in lines:
        print(f"{name.replace('**', ''):68} {value.replace('**', '')}")
    if args.write:
        command_line = ".venv/bin/python bench/bench_leaderboard.py" + (
            f" --repeat {args.repeat}" if args.repeat != 30 else ""
        )
        write_section(args.write, lines, command_line, built)


if __name__ == "__main__":
    main()
