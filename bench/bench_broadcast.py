"""A broadcast to 100,000 recipients through the outbox, against a fake Bot API that enforces Telegram's limits.

The fake (tests/limited_api.py) checks every send against 30 messages in any 1 s overall, 1 in any
1 s per private chat and 20 in any 60 s per group, answers 429 with `retry_after` (whole seconds)
when one would be exceeded, and keeps the time of every accepted send for an audit afterwards. It
runs on a virtual-time event loop (tests/virtual_time.py): waits jump the clock, so an hour of
sending takes about a minute. Each message is the weekly-leaderboard kind: one chart (a 40 kB PNG,
uploaded once) with the reader's rank as caption and a button; 0.2 % of the people blocked the bot.

Variants, each in its own process (so peak RSS is its own), same database content and same fake:
  outbox  OutboxSender + its sliding-window RateLimiter (this project)
  naive   OutboxSender without a limiter: every message at once, each 429 waited out and retried
  ptb     OutboxSender without its limiter, on python-telegram-bot's ExtBot with AIORateLimiter
          (python-telegram-bot[rate-limiter], installed with the dev extra)

    .venv/bin/python bench/bench_broadcast.py [--recipients 100000] [--latency 0.1] [--variants outbox,naive,ptb]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bench.machine import describe  # noqa: E402
from bot.delivery import Delivery, Enqueued  # noqa: E402
from bot.i18n import Catalog  # noqa: E402
from bot.messages import Button, FileOut, Notice, Reply, rows  # noqa: E402
from handlers.telegram.api import make_bot  # noqa: E402
from handlers.telegram.limiter import RateLimiter  # noqa: E402
from handlers.telegram.sender import OutboxSender  # noqa: E402
from storage.engine import Database  # noqa: E402
from storage.migrate import upgrade_sync  # noqa: E402
from storage.rows import users  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from tests.limited_api import LimitedBotApi  # noqa: E402
from tests.virtual_time import hold_time_for, run_virtual, virtual_loop  # noqa: E402

EPOCH = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội
FIRST_CHAT = 100_000_000
CATALOG = {
    "vi": '[bench]\nchart = "Bảng xếp hạng tuần: bạn đứng thứ {rank} trên {total}"\nmore = "Xem chi tiết"\n',
    "en": '[bench]\nchart = "Weekly leaderboard: you are {rank} of {total}"\nmore = "Details"\n',
}


class NoLimiter(RateLimiter):
    """No pacing at all: a message waits only for the 429 it got itself (retry_after), then retries."""

    def chat_wait(self, chat_id: int | str) -> float:
        """Never step aside."""
        return 0.0

    async def acquire(self, chat_id: int | str) -> None:
        """Go at once, unless this very chat was told to wait."""
        window = self.chats.get(chat_id)
        if window is not None and window.held_until > self.now():
            await asyncio.sleep(window.held_until - self.now())

    def hold(self, chat_id: int | str, seconds: float) -> None:
        """Remember the wait for this chat only."""
        self._chat(chat_id).held_until = self.now() + seconds


def prepare(db: Path, recipients: int, groups: int, blocked_every: int) -> tuple[list[int], set[int]]:
    """A migrated database with one registered person per private chat; returns chats and blockers."""
    url = f"sqlite+aiosqlite:///{db}"
    upgrade_sync(url)
    private = [FIRST_CHAT + i for i in range(recipients - groups)]
    group_chats = [-(1_000_000_000_000 + i) for i in range(groups)]
    now = EPOCH
    people = (
        {
            "channel": "telegram",
            "external_id": str(chat),
            "locale": "vi",
            "reg_step": "done",
            "full_name": f"Công nhân {chat}",
            "editing_profile": False,
            "reminders_off": False,
            "deleted": False,
            "created_at": now,
            "updated_at": now,
        }
        for chat in private
    )
    engine = create_engine(f"sqlite:///{db}")  # a bulk fill before the run, with the standard driver
    with engine.begin() as conn:
        while chunk := list(islice(people, 5000)):
            conn.execute(insert(users), chunk)
    engine.dispose()
    blockers = {chat for i, chat in enumerate(private) if blocked_every and i % blocked_every == 7}
    return private + group_chats, blockers


async def broadcast(args: argparse.Namespace, db: Path, chats: list[int], blockers: set[int]) -> dict[str, Any]:
    """Enqueue the broadcast, drain it through the variant's sender, audit what the fake accepted."""
    loop = virtual_loop()
    store = SqlStore(Database(f"sqlite+aiosqlite:///{db}"))
    hold_time_for(store.database.engine)
    delivery = Delivery(store, lambda: loop.wall(EPOCH))
    catalog_dir = Path(tempfile.mkdtemp())
    for lang, body in CATALOG.items():
        (catalog_dir / f"{lang}.toml").write_text(body, encoding="utf-8")
    catalog = Catalog(catalog_dir)
    chart = FileOut("bang-xep-hang.png", b"\x89PNG\r\n\x1a\n" + os.urandom(40_000))
    button = rows(Button("bench.more", "v1:lb:week"))
    notices = (
        Notice(
            f"telegram:{chat}", "vi", (Reply("bench.chart", {"rank": rank, "total": len(chats)}, button, file=chart),)
        )
        for rank, chat in enumerate(chats, start=1)
    )
    enqueued = Enqueued()
    started = time.perf_counter()
    async with store.transaction() as tx:
        await tx.conn.execute(
            text("insert into job_run (job, scheduled_for, started_at) values ('leaderboard', :at, :at)"), {"at": EPOCH}
        )
        run_id = int((await tx.conn.execute(text("select max(id) from job_run"))).scalar_one())
        while chunk := list(islice(notices, 5000)):  # as a job pages through its recipients
            done = await delivery.enqueue_notices(tx, chunk, job_run_id=run_id, key_prefix=f"leaderboard:{run_id}")
            enqueued.added += done.added
    enqueue_wall = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    api = LimitedBotApi(latency=args.latency, blocked=blockers)
    if args.variant == "ptb":
        from telegram.ext import AIORateLimiter

        bot = make_bot("123456:BENCH", request=api, rate_limiter=AIORateLimiter(max_retries=50))
    else:
        bot = make_bot("123456:BENCH", request=api)
    await bot.initialize()
    limiter = RateLimiter() if args.variant == "outbox" else NoLimiter()
    sender = OutboxSender(bot, catalog, delivery, limiter, concurrency=args.concurrency, flood_retries=10_000)
    marks = array("d")  # how long each "mark sent" commit takes: the part of the window that is ours
    mark_sent = delivery.sent

    async def timed_sent(id: int) -> None:
        started = time.perf_counter()
        await mark_sent(id)
        marks.append(time.perf_counter() - started)

    delivery.sent = timed_sent  # type: ignore[method-assign]
    virtual_start, wall_start = loop.time(), time.perf_counter()
    stats = await sender.drain()
    virtual = loop.time() - virtual_start
    wall = time.perf_counter() - wall_start
    report = await delivery.report(run_id)
    verdict = api.audit()
    expected = set(chats) - blockers
    await bot.shutdown()
    await store.close()
    return {
        "variant": args.variant,
        "recipients": len(chats),
        "enqueued": enqueued.added,
        "enqueue_wall_s": round(enqueue_wall, 2),
        "db_mb": round(db.stat().st_size / 2**20, 1),
        "simulated_s": round(virtual, 1),
        "messages": verdict.accepted,
        "rate": round(verdict.accepted / virtual, 2),
        "rate_pct": round(100 * verdict.accepted / virtual / 30, 1),
        "http_429": api.floods,
        "overall_breaks": verdict.overall_breaks,
        "private_breaks": verdict.private_breaks,
        "group_breaks": verdict.group_breaks,
        "duplicates": verdict.duplicates,
        "exactly_once": set(api.per_chat) == expected and set(api.per_chat.values()) == {1},
        "uploads": api.uploads,
        "mark_us_mean": round(1e6 * sum(marks) / len(marks), 1),
        "mark_us_p99": round(1e6 * sorted(marks)[int(len(marks) * 0.99)], 1),
        "report": report,
        "sender": asdict(stats),
        "wall_s": round(wall, 1),
        "rss_before_send_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_variant(args: argparse.Namespace) -> dict[str, Any]:
    """Build the data and run one variant in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "broadcast.db"
        chats, blockers = prepare(db, args.recipients, args.groups, args.blocked_every)
        return run_virtual(broadcast(args, db, chats, blockers))


def markdown(results: list[dict[str, Any]], command: str) -> str:
    """The "Broadcast" section of BENCHMARKS.md."""
    first = results[0]
    lines = [
        "## Broadcast",
        "",
        f"A broadcast to {first['recipients']:,} recipients ({first['recipients'] - 50:,} people in private chats, 50",
        f"groups; {first['report']['blocked']} of the people have blocked the bot and answer 403) through the outbox,",
        "against a fake Bot API (`tests/limited_api.py`) that refuses with 429 any send that would break Telegram's",
        "limits (30 in any 1 s overall, 1 in any 1 s per private chat, 20 in any 60 s per group) and audits every",
        "accepted send afterwards; virtual time (`tests/virtual_time.py`), 100 ms round trip, 16 sends in flight.",
        "Each message: a 40 kB chart with the reader's rank as caption and a button. Each variant in its own process;",
        "the rate is messages answered (not 429) per simulated second of the whole drain.",
        "",
        "| sender | simulated time | effective rate | 429s | limits broken | duplicates | each once | uploads "
        "| wall time | peak RSS (before sending) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "outbox": "**outbox** (sliding-window limiter)",
        "naive": "naive (no limiter, waits each 429)",
        "ptb": "PTB `AIORateLimiter` (aiolimiter)",
    }
    for r in results:
        breaks = r["overall_breaks"] + r["private_breaks"] + r["group_breaks"]
        lines.append(
            f"| {names[r['variant']]} | {r['simulated_s']:,.0f} s | {r['rate']:.2f}/s ({r['rate_pct']} % of 30) "
            f"| {r['http_429']:,} | {breaks} | {r['duplicates']} | {'yes' if r['exactly_once'] else 'NO'} "
            f"| {r['uploads']} | {r['wall_s']} s | {r['peak_rss_mb']} MB ({r['rss_before_send_mb']} MB) |"
        )
    report = ", ".join(f"{k} {v:,}" for k, v in first["report"].items())
    lines += [
        "",
        "Why not python-telegram-bot's `AIORateLimiter`: it is a leaky bucket (aiolimiter) that lets 30 go at once",
        "and then 30/s, so a sliding 1 s window can see up to twice the limit; it has no 1/s per private chat; and",
        "any 429 halts every request for `retry_after` + 0.1 s. The outbox's limiter keeps the last 30 send times",
        "(the last 20 per group, the last one per person) and waits until the oldest is a full window old.",
        "",
        f"Delivery report of the outbox run: {report}. Enqueueing {first['enqueued']:,} rows (one transaction, "
        f"5,000 notices per call): {first['enqueue_wall_s']} s; database {first['db_mb']} MB after the run "
        "(the chart is stored once, by digest). Wall time is the drain alone. Marking a row sent (its own commit, "
        f"right after Telegram's answer): mean {first['mark_us_mean']} µs, p99 {first['mark_us_p99']} µs.",
        "",
        f"Command: `{command}`  ",
        f"Machine: {describe()}; {datetime.now(UTC):%Y-%m-%d}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the variants (each in a child process), print the section for BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--blocked-every", type=int, default=500, help="one person in N has blocked the bot")
    parser.add_argument("--latency", type=float, default=0.1, help="round trip to the Bot API, seconds")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--variants", default="outbox,naive,ptb")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args)))
        return
    results = []
    for variant in args.variants.split(","):
        if variant == "ptb" and not _has_aiolimiter():
            sys.exit("ptb needs python-telegram-bot's rate-limiter extra: scripts/_env.sh installs it (dev extra)")
        child = [sys.executable, __file__, "--variant", variant]
        for name in ("recipients", "groups", "blocked_every", "latency", "concurrency"):
            child += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    command = "python bench/bench_broadcast.py " + " ".join(sys.argv[1:])
    section = markdown(results, command.strip())
    print(section)


def _has_aiolimiter() -> bool:
    """True when python-telegram-bot's rate-limiter extra can be imported."""
    try:
        import aiolimiter  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
