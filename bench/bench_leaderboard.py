"""The leaderboard over 1,000,000 initiatives, 200,000 people and 5,000 units in SQLite.

Builds the database once (cached in the temp folder): schema up to revision 0003, a bulk load
with plain sqlite3, then `upgrade head`, whose revision 0004 fills the tallies. Then measures the
full leaderboard through storage (past week + campaign so far, people + units, one reader's
rank: two `leaderboard` calls in one transaction) and, in the same run, the baseline: the
straightforward SQL without the tallies, one GROUP BY over the campaign's initiatives per ranking
(people, units). Both answers are compared. Also times the chart, a rebuild of the tallies, and the
cost the triggers add to one initiative update. Prints the results as rows of a markdown table.

    .venv/bin/python bench/bench_leaderboard.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.leaderboard_data import CAMPAIGN, NOW, build, stamp  # noqa: E402
from bench.machine import describe  # noqa: E402
from bot.leaderboard import Board, Points, ReaderRank, Standing, Window  # noqa: E402
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


LEVEL_POINTS = "case recognised_level when 'grassroots' then :grassroots when 'upper' then :upper"
LEVEL_POINTS += " when 'city' then :city else 0 end"
# One GROUP BY over the campaign's initiatives: each event counts if its own time is in the window
# (rule 2-3 of bot/leaderboard.py); a score was reached at its latest counted event ('' sorts first).
STRAIGHTFORWARD = f"""
select {{key}},
  sum(case when submitted_at >= :start and submitted_at < :end then :submitted else 0 end
    + case when decided_at >= :start and decided_at < :end then {LEVEL_POINTS} else 0 end
    + case when applied_at >= :start and applied_at < :end then :applied else 0 end) as points,
  max(max(case when submitted_at >= :start and submitted_at < :end and :submitted > 0 then submitted_at else '' end,
          case when decided_at >= :start and decided_at < :end and {LEVEL_POINTS} > 0 then decided_at else '' end,
          case when applied_at >= :start and applied_at < :end and :applied > 0 then applied_at else '' end))
    as reached
from initiative {{join}}
where campaign_key = :campaign and status not in ('draft', 'withdrawn') {{where}} {{window}}
group by {{key}} having points > 0
order by points desc, reached, {{key}}
"""
# A bounded window (the past week) keeps only the rows with an event inside it.
WINDOW_FILTER = (
    "and (submitted_at >= :start and submitted_at < :end or decided_at >= :start and decided_at < :end"
    " or applied_at >= :start and applied_at < :end)"
)


def straightforward(path: Path, reader: int, points: Points) -> tuple[Any, ...]:
    """Baseline: the same two boards (with the reader) from one GROUP BY over the initiatives per
    ranking, without the tallies; names of the top ten looked up after."""
    db = sqlite3.connect(path)
    names = dict(db.execute("select id, name from unit").fetchall())
    reader_unit = db.execute("select unit_id from app_user where id = ?", (reader,)).fetchone()[0]
    answers: list[Any] = []
    for window in (Window.week_before(NOW), Window()):
        only = "" if window.whole else WINDOW_FILTER
        bounds = {"start": stamp(window.start) or "", "end": stamp(window.end) or "9999-12-31", "campaign": CAMPAIGN}
        args = {**points.model_dump(), **bounds}
        people = db.execute(
            STRAIGHTFORWARD.format(
                key="author_id",
                join="join app_user on app_user.id = author_id",
                where="and app_user.deleted = 0",
                window=only,
            ),
            args,
        ).fetchall()
        units = db.execute(
            STRAIGHTFORWARD.format(key="unit_id", join="", where="and unit_id is not null", window=only), args
        )
        units = units.fetchall()
        top = []
        for rank, (user_id, score, _) in enumerate(people[:10], start=1):
            name, unit = db.execute("select full_name, unit_id from app_user where id = ?", (user_id,)).fetchone()
            top.append(Standing(rank, user_id, name, names.get(unit), score))
        top_units = [Standing(r, u, names.get(u), None, score) for r, (u, score, _) in enumerate(units[:10], start=1)]
        rank = next((r for r, row in enumerate(people, start=1) if row[0] == reader), None)
        unit_rank = next((r for r, row in enumerate(units, start=1) if row[0] == reader_unit), None)
        answers.append(
            Board(top, top_units, len(people), len(units), ReaderRank(rank, len(people), unit_rank, len(units)))
        )
    db.close()
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
                "update initiative set status = 'approved', recognised_level = 'grassroots', decided_at = ?"
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
    for _ in range(max(3, repeat // 3)):
        start = time.perf_counter()
        expected = straightforward(path, reader, points)
        base.append(time.perf_counter() - start)
    assert answer == expected, f"the tallies and the straightforward SQL disagree:\n{answer}\n{expected}"
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
        (f"baseline: one GROUP BY over the initiatives per ranking ({len(base)} runs)", timed(base)),
        ("**speed-up (baseline p50 / tallies p50)**", f"**{base_p50 / sql_p50:.1f}×** (same answers: yes)"),
        ("chart (PNG 1080 px wide, 10 + 10 bars), 10 renders", f"{timed(charts)}; matplotlib import {imported:.2f} s"),
        ("rebuild all tallies (when the points change)", f"{rebuild:.1f} s"),
        ("one decision (UPDATE of an initiative), with / without triggers", f"{with_t:.0f} µs / {without_t:.0f} µs"),
    ]


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
    print(f"Machine: {describe()}. {built}\n\n| measure | result |\n|---|---|")
    for name, value in lines:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
