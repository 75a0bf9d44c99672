"""The leaderboard over 1,000,000 initiatives, 200,000 people and 5,000 units in SQLite.

Builds the database once (cached in the temp folder): schema up to revision 0003, a bulk load
with plain sqlite3, then `upgrade head`, whose revision 0004 fills the tallies. Then measures the
full leaderboard through storage (past week + campaign so far, people + units, one reader's
rank: two `leaderboard` calls in one transaction) and, in the same run, the baseline: every row of the
campaign loaded into Python and ranked by the reference implementation (bot/leaderboard.py).
Both answers are compared. Also times the chart, a rebuild of the tallies, and the cost the
triggers add to one initiative update.

    .venv/bin/python bench/bench_leaderboard.py [--repeat 30] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.leaderboard_data import CAMPAIGN, NOW, build, stamp  # noqa: E402
from bot.leaderboard import Entry, Person, Points, Window, reference  # noqa: E402
from storage.engine import Database  # noqa: E402
from storage.migrate import MIGRATIONS, upgrade_sync  # noqa: E402
from storage.store import SqlStore  # noqa: E402


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
            await tx.leaderboard(CAMPAIGN, window=week, points=points, top_n=10, reader_id=reader),
            await tx.leaderboard(CAMPAIGN, window=Window(), points=points, top_n=10, reader_id=reader),
        )


def parse(value: str | None) -> datetime | None:
    """A stored datetime back as an aware datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def baseline(path: Path, reader: int, points: Points) -> tuple[Any, ...]:
    """Load every row into Python and compute the same two boards (with the reader) by the reference."""
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
        answers.append(replace(board, reader=ranking.reader(reader, people[reader].unit_id)))
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


def place(reader: Any) -> str:
    """A reader's rank as "rank/of, unit rank/units" ("–" without points)."""
    rank = "–" if reader.rank is None else f"{reader.rank:,}"
    unit = "–" if reader.unit_rank is None else f"{reader.unit_rank:,}"
    return f"{rank}/{reader.of:,}, unit {unit}/{reader.units:,}"


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
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram:.1f} GiB RAM, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}; load average at the end {load} (other work shared the machine)"
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
            answer[1], title="Bảng xếp hạng", people_label="Cá nhân", units_label="Đơn vị", points_label="điểm"
        )
        charts.append(time.perf_counter() - start)
    with_t, without_t = trigger_cost(path)
    sql_p50, base_p50 = statistics.median(samples), statistics.median(base)
    week, campaign = answer
    return [
        ("data", f"{sizes[0]:,} initiatives, {sizes[1]:,} people, {sizes[2]:,} units"),
        (
            "participants (week / campaign)",
            f"{week.total_people:,} people, {week.total_units:,} units / "
            f"{campaign.total_people:,} people, {campaign.total_units:,} units",
        ),
        ("reader (rank of, unit rank of)", f"week {place(week.reader)}; campaign {place(campaign.reader)}"),
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
        "Past week + campaign so far, top 10 people + top 10 units, plus one reader's rank (two calls in one\n"
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


def cache_key(args: argparse.Namespace) -> str:
    """Names the cached database after the sizes, the data generator and the migrations."""
    digest = hashlib.sha256()
    for source in [ROOT / "bench" / "leaderboard_data.py", *sorted((MIGRATIONS / "versions").glob("*.py"))]:
        digest.update(source.read_bytes())
    return f"{args.initiatives}-{args.people}-{args.units}-{digest.hexdigest()[:10]}"


def main() -> None:
    """Build (or reuse) the database, measure, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--write", type=Path, help="update the Leaderboard section of this markdown file")
    args = parser.parse_args()
    path = Path(tempfile.gettempdir()) / f"sangkien-leaderboard-{cache_key(args)}.db"
    built = f"Database cached at {path}."
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        backfill = build(partial, initiatives=args.initiatives, people=args.people, unit_count=args.units)
        partial.rename(path)
        built = (
            f"Built in {time.perf_counter() - start:.0f} s, of which {backfill:.1f} s `upgrade head` after the"
            " bulk load (revision 0004: three covering indexes, tally backfill, triggers)."
        )
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
