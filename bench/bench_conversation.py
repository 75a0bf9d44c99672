"""Throughput of registration + submission through real dispatch, against a bare PTB baseline.

Drives N simulated workers concurrently (default 200) through registration (7 updates) and a
full submission (14–15 updates) with `Application.process_update`, against a real database
(SQLite by default: a fresh file, whatever the bot's engine sets; every accepted answer committed
before the reply), through the tests' fake Bot API. Then, in the same round, the baseline: a bare
python-telegram-bot ConversationHandler (state in memory, no storage) replaying the bot's run
update for update: the same kinds of update (text or button) for the same workers, each answered
with the same Bot API calls the bot made for it (a question with buttons, an edit, a callback
answer). Each mode runs in its own process so peak RSS is its own. Beside the rates: statements,
commits and round trips to the driver's thread per update (bench/statements.py), which the noise of
a shared host cannot change.

    .venv/bin/python bench/bench_conversation.py [--workers 200] [--rounds 3] [--synchronous normal]
    .venv/bin/python bench/bench_conversation.py --database postgresql [--database-url postgresql+asyncpg://…]
    .venv/bin/python bench/bench_conversation.py --count [--database postgresql]

`--count` runs one worker alone and prints, for each of its updates, the statements it sent by kind
and the round trips to the driver's thread (bench/statements.py), then the mean per update of each
phase (registration, draft, submit): counts the noisy host cannot change.

`--synchronous` sets SQLite's `PRAGMA synchronous` on every connection the bot opens (an SQLAlchemy
`checkout` listener on every pool, after the bot's own `connect` pragmas), to measure what FULL
costs; the level in effect is read back and shown. `--database postgresql` starts a throwaway
server like the tests' (bench/postgresql.py, but with fsync on), or uses `--database-url`; a fresh
database is created on it for each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bench.postgresql import durable_server  # noqa: E402
from bench.statements import HOPS, STATEMENTS, StatementCounter  # noqa: E402
from tests.fake_telegram import FakeBotApi, Person, TelegramDriver  # noqa: E402

BASELINE_DATA = "v1:x:0"
MAX_STEPS = 40
COLUMNS = (
    "mode",
    "updates",
    "bot_api_calls",
    "updates_per_s",
    "cpu_ms",
    "p50_ms",
    "p99_ms",
    "peak_rss_mb",
    "statements",
    "commits",
    "hops",
    "submitted",
    "storage",
)
NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Đức",
    "Đỗ Thị Hạnh",
]


class BenchApi(FakeBotApi):
    """The tests' fake Bot API, keeping only the last buttons per chat instead of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: dict[int, list[str]] = {}
        self.sent: dict[int, list[str]] = {}  # per chat: the methods called for it, in order
        self.count = 0

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Answer like the Bot API; remember inline buttons and methods per chat."""
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)
        call = self.calls.pop()
        self.count += 1
        chat = call.params.get("chat_id")
        if chat is not None:
            self.sent.setdefault(int(chat), []).append(call.method)
        if call.buttons:
            self.buttons[int(call.params["chat_id"])] = [data for _, data in call.buttons]
        return status, body


class Worker:
    """One simulated worker: a person, the driver and the timings of their updates."""

    def __init__(self, driver: TelegramDriver, api: BenchApi, index: int, timings: list[float]) -> None:
        self.person = Person(10_000_000 + index, first_name=f"Worker {index}")
        self.driver, self.api, self.timings = driver, api, timings
        self.trace: list[tuple[str, list[str]]] = []  # per update: text or press, the methods called for the chat
        self.counter: StatementCounter | None = None  # with --count: the statements of each update
        self.counts: list[tuple[str, Counter[str]]] = []

    async def _timed(self, kind: str, coro: Any) -> None:
        before = len(self.api.sent.get(self.person.id, ()))
        start = time.perf_counter()
        await coro
        self.timings.append(time.perf_counter() - start)
        self.trace.append((kind, self.api.sent.get(self.person.id, [])[before:]))

    async def _counted(self, kind: str, label: str, coro: Any) -> None:
        await self._timed(kind, coro)
        if self.counter is not None:
            await asyncio.sleep(0.05)  # what the update woke (the outbox sender) counts with it
            self.counts.append((label, self.counter.take()))

    async def text(self, text: str) -> None:
        await self._counted("text", text[:24], self.driver.text(self.person, text))

    async def press(self, index: int) -> None:
        data = self.api.buttons[self.person.id][index]
        await self._counted("press", data[:24], self.driver.press(self.person, data))

    async def press_label(self, prefix: str) -> None:
        data = next(d for d in self.api.buttons[self.person.id] if d.startswith(prefix))
        await self._counted("press", data[:24], self.driver.press(self.person, data))

    async def replay(self, trace: list[tuple[str, list[str]]], plans: dict[int, Any]) -> None:
        """Baseline: the same kinds of update as the bot's run, each answered with the same calls."""
        plans[self.person.id] = [methods for _, methods in trace]
        for number, (kind, _) in enumerate(trace):
            if kind == "text":
                await self._timed(kind, self.driver.text(self.person, "/start" if number == 0 else "Câu trả lời"))
            else:
                await self._timed(kind, self.driver.press(self.person, BASELINE_DATA))

    async def run(self) -> None:
        """Register, then submit one initiative."""
        await self.text("/start")
        await self.press(0)  # Vietnamese
        await self.press(0)  # consent
        await self.text(NAMES[self.person.id % len(NAMES)])
        await self.text(f"09{self.person.id % 100_000_000:08d}")
        await self.text("cong ty may")
        await self.press(0)
        await self.text("/new")
        await self.text(f"Cải tiến số {self.person.id}: đồ gá cắt vải nhanh hơn")
        await self.press(2)
        await self.press(0)
        await self.text("Cắt vải bằng tay, mỗi tấm mất 4 phút và hay lệch")
        await self.text("Làm đồ gá bằng thép tấm có rãnh dẫn dao, kẹp vải hai đầu")
        await self.text("Mỗi tấm còn 2 phút, giảm 30% vải hỏng")
        await self.text("50 triệu")
        await self.text("01/03/2026")
        await self.press_label("v1:skip:")
        await self.press_label("v1:skip:")
        await self.press_label("v1:skip:")
        await self.press_label("v1:done:")
        await self.press_label("v1:submit:")
        if any(d.startswith("v1:subok:") for d in self.api.buttons[self.person.id]):
            await self.press_label("v1:subok:")  # look-alikes were shown: submit anyway


async def bare_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Baseline: one step of a bare ConversationHandler, no storage: the calls the bot made for the
    same update (its plan in bot_data), each a question with buttons."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_chat is not None and update.effective_user is not None
    chat = update.effective_chat.id
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Lựa chọn {i}", callback_data=f"v1:x:{i}") for i in range(3)]]
    )
    plan = context.bot_data["plans"][update.effective_user.id]
    for method in plan.pop(0):
        if method == "editMessageText":
            await context.bot.edit_message_text(
                "Đã chọn: <b>bước</b>", chat, 1, parse_mode="HTML", reply_markup=keyboard
            )
        elif method != "answerCallbackQuery":
            await context.bot.send_message(
                chat, "Câu hỏi tiếp theo: <b>bước</b>", parse_mode="HTML", reply_markup=keyboard
            )
    assert context.user_data is not None
    step = context.user_data["step"] = context.user_data.get("step", 0) + 1
    return step if plan else ConversationHandler.END


def bare_conversation() -> ConversationHandler[Any]:
    """A python-telegram-bot conversation as long as the bot's, state in memory."""
    any_answer = [MessageHandler(filters.ALL, bare_step), CallbackQueryHandler(bare_step)]
    return ConversationHandler(
        entry_points=[CommandHandler("start", bare_step)],
        states={step: any_answer for step in range(1, MAX_STEPS + 1)},
        fallbacks=[],
    )


def commit_rate(synchronous: str, commits: int = 300) -> float:
    """Commits per second of a bare one-row insert loop in a WAL file at this `synchronous` level:
    what the disk allows one writer (FULL waits for an fsync at every commit)."""
    import sqlite3

    folder = Path(tempfile.mkdtemp(prefix="sangkien-fsync-", dir=ROOT / "data" if (ROOT / "data").exists() else None))
    db = sqlite3.connect(folder / "probe.db", isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute(f"pragma synchronous={synchronous}")
    db.execute("create table t (id integer primary key, v text)")
    start = time.perf_counter()
    for _ in range(commits):
        db.execute("begin immediate")
        db.execute("insert into t (v) values (?)", ("x" * 100,))
        db.execute("commit")
    elapsed = time.perf_counter() - start
    db.close()
    shutil.rmtree(folder)
    return commits / elapsed


def force_synchronous(value: str) -> None:
    """Set `PRAGMA synchronous` on each SQLite connection any engine hands out, once, at its first
    checkout (after the bot's own `connect` pragmas)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    done: set[int] = set()

    def pragma(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if id(dbapi_connection) in done or "sqlite" not in type(dbapi_connection).__module__:
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={value}")
        cursor.close()
        done.add(id(dbapi_connection))

    event.listen(Pool, "checkout", pragma)


async def storage_in_effect(runtime: Any) -> str:
    """The database and, for SQLite, the journal mode and synchronous level the bot's connection has."""
    from sqlalchemy import text

    url = runtime.config.database.url
    if not url.startswith("sqlite"):
        return url.split(":", 1)[0]
    async with runtime.store.transaction() as tx:
        journal = (await tx.conn.execute(text("pragma journal_mode"))).scalar_one()
        level = (await tx.conn.execute(text("pragma synchronous"))).scalar_one()
    return f"sqlite {journal} sync={['off', 'normal', 'full', 'extra'][int(level)]}"


async def open_bot(api: BenchApi, database_url: str | None) -> tuple[Any, Any]:
    """The bot's runtime and Telegram application on `database_url` (a fresh SQLite file if None)."""
    from bot.app import open_runtime, telegram_application
    from bot.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="sangkien-bench-"))
    config = load_config(
        ROOT / "bot.toml",
        env={
            "SANGKIEN_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            "SANGKIEN_TELEGRAM_TOKEN": "1:BENCH",
        },
    )
    runtime = await open_runtime(config)
    return runtime, telegram_application(runtime, request=api)


PHASES = (("registration", 0, 7), ("draft", 7, 20), ("submit", 20, None))  # slices of a worker's updates


async def count_statements(database_url: str | None) -> dict[str, Any]:
    """One worker alone: the statements and thread round trips of each of its updates, printed,
    and the mean per update of each phase, returned."""
    api = BenchApi()
    runtime, app = await open_bot(api, database_url)
    await app.initialize()
    worker = Worker(TelegramDriver(app, api), api, 0, [])
    worker.counter = StatementCounter.install(asyncio.get_running_loop())
    await asyncio.sleep(0.2)  # let start-up work settle
    worker.counter.take()
    await worker.run()
    await app.shutdown()
    await runtime.close()
    for label, counts in worker.counts:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if k not in (STATEMENTS, HOPS))
        print(f"{label:>24} {counts[STATEMENTS]:>3} statements {counts[HOPS]:>3} hops: {kinds}", file=sys.stderr)
    summary: dict[str, Any] = {}
    for phase, first, last in (*PHASES, ("all", 0, None)):
        part = [counts for _, counts in worker.counts[first:last]]
        total: Counter[str] = sum(part, Counter())
        summary[phase] = {k: round(n / len(part), 1) for k, n in sorted(total.items())}
        summary[phase]["updates"] = len(part)
    return summary


async def run_mode(
    mode: str, workers: int, trace: Path, database_url: str | None = None, synchronous: str | None = None
) -> dict[str, Any]:
    """Run one mode in this process and return its measurements; the bot writes its `trace` (each
    worker's updates and the calls each caused), which the baseline then replays."""
    api = BenchApi()
    timings: list[float] = []
    runtime = None
    storage = "-"
    if mode == "bot":
        if synchronous:
            force_synchronous(synchronous)
        runtime, app = await open_bot(api, database_url)
    else:
        app = (
            ApplicationBuilder().token("1:BENCH").request(api).get_updates_request(api).concurrent_updates(True).build()
        )
        app.add_handler(bare_conversation())
        app.bot_data["plans"] = {}
    await app.initialize()
    counter = StatementCounter.install(asyncio.get_running_loop())
    driver = TelegramDriver(app, api)
    crew = [Worker(driver, api, i, timings) for i in range(workers)]
    start, cpu = time.perf_counter(), time.thread_time()
    if mode == "bot":
        await asyncio.gather(*(w.run() for w in crew))
    else:
        traces = json.loads(trace.read_text())
        await asyncio.gather(*(w.replay(t, app.bot_data["plans"]) for w, t in zip(crew, traces, strict=True)))
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
    counts = counter.take()
    await app.shutdown()
    if mode == "bot":
        trace.write_text(json.dumps([w.trace for w in crew]))
    stored = None
    if runtime is not None:
        from sqlalchemy import text

        async with runtime.store.transaction() as tx:
            stored = (
                await tx.conn.execute(text("select count(*) from initiative where status = 'submitted'"))
            ).scalar_one()
        storage = await storage_in_effect(runtime)
        await runtime.close()
    timings.sort()
    return {
        "mode": mode,
        "updates": len(timings),
        "seconds": round(elapsed, 3),
        "updates_per_s": round(len(timings) / elapsed, 1),
        "cpu_ms": round(cpu / len(timings) * 1000, 3),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bot_api_calls": api.count,
        "statements": round(counts[STATEMENTS] / len(timings), 2),
        "commits": round(counts["COMMIT"] / len(timings), 3),
        "hops": round(counts[HOPS] / len(timings), 2),
        "submitted": stored,
        "storage": storage,
    }


def main() -> None:
    """Run each mode in a subprocess, several rounds, interleaved; print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", help="a PostgreSQL server of your own (postgresql+asyncpg://…)")
    parser.add_argument("--synchronous", choices=["off", "normal", "full"], help="SQLite's PRAGMA synchronous")
    parser.add_argument("--count", action="store_true", help="statements per update of one worker alone")
    parser.add_argument("--mode", choices=["bot", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--trace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        result = asyncio.run(run_mode(args.mode, args.workers, args.trace, args.database_url, args.synchronous))
        print(json.dumps(result))
        return
    server = None
    if args.database == "postgresql" and not args.database_url:
        server = durable_server()
        args.database_url = server.start().render_as_string(hide_password=False)
    if args.count:
        try:
            url = args.database_url
            if args.database == "postgresql":
                from sqlalchemy.engine import make_url

                from tests.postgresql_server import create_database

                url = create_database(make_url(url), f"bench_count_{os.getpid()}")
            summary = asyncio.run(count_statements(url))
        finally:
            if server is not None:
                server.stop()
        print(f"{'per update':>13} {'updates':>8} {'statements':>11} {'hops':>6}  by kind")
        for phase, counts in summary.items():
            kinds = ", ".join(f"{k} {n}" for k, n in counts.items() if k not in (STATEMENTS, HOPS, "updates"))
            figures = f"{counts['updates']:>8} {counts.get(STATEMENTS, 0):>11} {counts.get(HOPS, 0):>6}"
            print(f"{phase:>13} {figures}  {kinds}")
        print(json.dumps(summary))
        return
    results: list[dict[str, Any]] = []
    try:
        for round_ in range(args.rounds):
            for mode in ("bot", "baseline"):  # the baseline replays the bot's updates and calls
                trace = Path(tempfile.gettempdir()) / f"bench-conversation-{os.getpid()}.json"
                command = [
                    sys.executable,
                    __file__,
                    "--mode",
                    mode,
                    "--workers",
                    str(args.workers),
                    "--trace",
                    str(trace),
                ]
                if mode == "bot" and args.database == "postgresql":
                    from sqlalchemy.engine import make_url

                    from tests.postgresql_server import create_database

                    name = f"bench_conversation_{os.getpid()}_{round_}"
                    command += ["--database-url", create_database(make_url(args.database_url), name)]
                if args.synchronous:
                    command += ["--synchronous", args.synchronous]
                out = subprocess.run(
                    command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
                )
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        if server is not None:
            server.stop()
    print(" ".join(f"{c:>13}" for c in COLUMNS))
    for r in results:
        print(" ".join(f"{r[c] if r[c] is not None else '-':>13}" for c in COLUMNS))
    rates = {m: [r["updates_per_s"] for r in results if r["mode"] == m] for m in ("baseline", "bot")}
    ratios = [bot / base for base, bot in zip(rates["baseline"], rates["bot"], strict=True)]
    bot, base = max(rates["bot"]), max(rates["baseline"])
    ratio = bot / base
    print(f"\nbest of {args.rounds}: bot {bot} upd/s = {ratio:.0%} of the baseline's {base} upd/s")
    print(
        f"median of {args.rounds}: bot {statistics.median(rates['bot']):.0f} upd/s, baseline "
        f"{statistics.median(rates['baseline']):.0f} upd/s;"
        f" bot/baseline within a round {min(ratios):.0%}–{max(ratios):.0%}"
    )
    rates_disk = {level: round(commit_rate(level)) for level in ("normal", "full")}
    print(
        f"the disk: a bare one-row insert loop commits {rates_disk['normal']}/s with synchronous=NORMAL,"
        f" {rates_disk['full']}/s with FULL (WAL)"
    )
    print(json.dumps({"results": results, "ratio": round(ratio, 3), "disk_commits_per_s": rates_disk}))


if __name__ == "__main__":
    main()
