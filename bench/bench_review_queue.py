"""The review queue and cards with 100,000 initiatives in SQLite: /pending pages and /review cards.

Fills a fresh, migrated SQLite database with N initiatives (default 100,000) spread over 500
grassroots units, then drives a reviewer's `/pending`, its Next page, and `/review <code>` through
the core (`Conversation.handle`, one transaction each, as the Telegram handler calls it), and
prints latency percentiles beside the query plan of the queue. Baseline in the same run: the
same queue query with the index ignored (`NOT INDEXED`), i.e. the full scan it avoids.

    .venv/bin/python bench/bench_review_queue.py [--initiatives 100000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import open_runtime  # noqa: E402
from bot.config import BotSection, Campaign, Config, DatabaseSection  # noqa: E402
from bot.domain import UserRef  # noqa: E402
from bot.messages import Command, Inbound  # noqa: E402
from storage.migrate import upgrade_sync  # noqa: E402

UNITS = 500
STATUSES = ["submitted"] * 5 + ["in_review", "resubmitted", "approved", "rejected", "withdrawn"]


def fill(path: Path, count: int) -> None:
    """Insert units, users and initiatives with plain sqlite3 (fast, outside what is measured)."""
    rng = random.Random(7)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    db = sqlite3.connect(path)
    db.execute(
        "insert into unit (code, name, name_folded, level, sector, headcount, review_mode, quorum, covers_below) "
        "values ('CITY', 'Liên đoàn', 'lien doan', 'city', 'public', 0, 'single', 1, 0)"
    )
    db.executemany(
        "insert into unit (code, name, name_folded, parent_id, level, sector, headcount, review_mode, quorum,"
        " covers_below) values (?, ?, ?, 1, 'grassroots', 'enterprise', 500, 'single', 1, 0)",
        [(f"U{i:04d}", f"Công đoàn đơn vị {i}", f"cong doan don vi {i}") for i in range(UNITS)],
    )
    stamp = now.isoformat(sep=" ")
    db.executemany(
        "insert into app_user (channel, external_id, locale, reg_step, full_name, unit_id, editing_profile, deleted,"
        " created_at, updated_at) values ('telegram', ?, 'vi', 'done', ?, ?, 0, 0, ?, ?)",
        [(str(100000 + i), f"Người lao động {i}", 2 + i % UNITS, stamp, stamp) for i in range(20000)],
    )
    rows = []
    for i in range(count):
        unit = 2 + rng.randrange(UNITS)
        submitted = now - timedelta(days=rng.randrange(120), minutes=rng.randrange(1440))
        rows.append(
            (
                f"SK-2026-{i + 1:06d}",
                "c2026",
                1 + rng.randrange(20000),
                unit,
                rng.choice(STATUSES),
                "done",
                f"Sáng kiến số {i}",
                "productivity",
                "technical",
                "Hiện trạng",
                "Giải pháp",
                "Hiệu quả",
                submitted.isoformat(sep=" "),
                (submitted.date() + timedelta(days=90)).isoformat(),
                unit,
                "grassroots",
                submitted.isoformat(sep=" "),
                stamp,
                stamp,
            )
        )
    db.executemany(
        "insert into initiative (code, campaign_key, author_id, unit_id, status, step, title, category, kind, problem,"
        " solution, benefit, submitted_at, decision_due, review_unit_id, review_level, queued_at, created_at,"
        " updated_at, editing, author_percent, version, review_round) values"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 100, 1, 0)",
        rows,
    )
    reviewer_id = db.execute("select id from app_user where unit_id = 2 limit 1").fetchone()[0]
    db.execute("insert into reviewer (user_id, unit_id, granted_at) values (?, 2, ?)", (reviewer_id, stamp))
    db.commit()
    db.close()


def timed(samples: list[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def measure(path: Path, repeat: int) -> None:
    """Run the measurements and print them."""
    config = Config(
        bot=BotSection(),
        database=DatabaseSection(url=f"sqlite:///{path}"),
        campaigns=[Campaign(key="c2026", name="Bench", start=date(2026, 1, 1), end=date(2027, 12, 31))],
    )
    runtime = await open_runtime(config, migrate=False)
    reviewer = "100000"
    db = sqlite3.connect(path)
    ref_ext = db.execute("select external_id from app_user join reviewer r on r.user_id = app_user.id").fetchone()[0]
    waiting = db.execute(
        "select count(*) from initiative where review_unit_id = 2 and status in ('submitted','in_review','resubmitted')"
    ).fetchone()[0]
    codes = [
        r[0]
        for r in db.execute("select code from initiative where review_unit_id = 2 and status = 'submitted' limit 50")
    ]
    plan = db.execute(
        "explain query plan select * from initiative where review_unit_id in (2) and status in "
        "('submitted','in_review','resubmitted') order by queued_at, id limit 5"
    ).fetchall()
    reviewer = ref_ext
    results = {}
    for name, make in (
        ("/pending (page 1)", lambda i: Command("pending")),
        ("/review SK-… (card)", lambda i: Command("review", codes[i % len(codes)])),
    ):
        samples = []
        for i in range(repeat):
            event = Inbound(UserRef("telegram", reviewer), make(i))
            start = time.perf_counter()
            outcome = await runtime.conversation.handle(event)
            samples.append(time.perf_counter() - start)
            assert outcome.replies and not outcome.replies[0].key.startswith("error"), outcome.replies[0]
        results[name] = timed(samples)
    await runtime.close()
    samples = []
    sql = (
        "select * from initiative NOT INDEXED where review_unit_id in (2) and status in "
        "('submitted','in_review','resubmitted') order by queued_at, id limit 5"
    )
    for _ in range(min(repeat, 20)):
        start = time.perf_counter()
        db.execute(sql).fetchall()
        samples.append(time.perf_counter() - start)
    results["baseline: queue query as a full scan"] = timed(samples)
    db.close()
    print(f"{waiting} initiatives waiting for the reviewer's unit; query plan: {[row[3] for row in plan]}")
    print(f"{'measure':42} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, r in results.items():
        print(f"{name:42} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8}")


def main() -> None:
    """Build the database and measure."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--initiatives", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="sangkien-queue-")) / "queue.db"
    upgrade_sync(f"sqlite:///{path}")
    start = time.perf_counter()
    fill(path, args.initiatives)
    print(
        f"filled {args.initiatives} initiatives in {time.perf_counter() - start:.1f} s ({path.stat().st_size >> 20} MB)"
    )
    asyncio.run(measure(path, args.repeat))


if __name__ == "__main__":
    main()
