"""Mixed load, open loop, on a 10⁶-initiative database: answer latency and event-loop stalls.

A federation's bot as it runs: 1,000,000 initiatives, 200,000 people, 5,000 units with a reviewer
each (built once with bulk inserts by `bench/leaderboard_data.py` plus reviewers and review
queues, cached under `--cache-dir`, copied for each run). For `--seconds` (60) people arrive open
loop (Poisson) at the rate that offers `--rate` (100) updates/s: half of them register and then
submit an initiative, the others are registered people of the data who submit one; each person
answers 0.3–1.5 s after the bot's last answer, as a person does (a slow answer delays that person's
next update, never anyone else's), through real dispatch (`Application.process_update`, the tests'
fake Bot API). (Earlier versions handed a fixed 100 updates/s to whichever person was ready and
started a new person whenever nobody was: every slow moment added people who then shared the same
100/s, so most people were still at their first steps at the end and almost nobody reached Submit.)
Meanwhile the weekly leaderboard, the reviewer digest and the admin report run as `sangkien run` runs
them: in its jobs process (`JobProcess.run`, bot/job_process.py; `--jobs-in loop`: on the bot's event
loop through `JobRunner.run`, as before, and what the code before issue 11 does), the outbox drain runs every 2 s
as scheduled (bot/scheduler.py), and another process holds the database's write lock for 3 s twice (SQLite:
`BEGIN IMMEDIATE` in a subprocess). The bot's clock is the data's "now" (Monday 08:00 in Hà Nội,
outside the quiet hours) moving with real time.

Reported: answer latency p50/p99/max counted from each update's scheduled arrival (so queueing
counts), also apart for the updates that arrived while the other process held the write lock and for
the others, the bot's answers to Submit (receipts, look-alike warnings), the longest event-loop
stall (a 5 ms ticker), errors (an "error.internal" or "database is locked" reply, an exception
logged, a flow that could not go on), each job's wall time, peak RSS.

Run it from the root of the worktree under test, with that worktree's venv; the script may live
elsewhere (the code before issue 11 runs it unchanged):

    .venv/bin/python bench/bench_mixed.py [--seconds 60] [--rate 100] [--cache-dir data/bench]
    cd ../baseline && .venv/bin/python ../bench/bench/bench_mixed.py --label baseline
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import inspect
import json
import logging
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = Path.cwd()  # the worktree under test
if not (ROOT / "bot" / "app.py").exists():
    sys.exit("run this from the root of a worktree of the bot (it imports bot/, storage/, tests/ from there)")
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # the data's "now": Monday 08:00 in Hà Nội
JOBS = {"leaderboard": 5.0, "reviewer_digest": 20.0, "admin_report": 40.0}  # name: seconds after start
LOCKS = (8.0, 45.0)  # seconds after start when another process takes the write lock
LOCK_SECONDS = 3.0
TICK = 0.005
THINK = (0.3, 1.5)  # seconds a person takes to answer the bot's last message
ADMIN = 900_000_001
PERSON_BASE = 50_000_000
DATA_VERSION = "1"  # change when build() changes: the cached databases are named after it
TITLES = (
    "Đồ gá cắt vải nhanh hơn",
    "Lắp cảm biến quang cho băng tải đóng gói",
    "Số hóa sổ giao ca bằng mã QR",
    "Tận dụng nhiệt thải lò sấy để sấy sợi",
    "Xe đẩy vải cuộn có phanh",
    "Phần mềm chấm công trên điện thoại",
)
PENDING = ("submitted", "in_review", "changes_requested", "resubmitted")
log = logging.getLogger("bench_mixed")


def load_sibling(name: str) -> Any:
    """A module of `bench/` next to this script (the same data and server whichever worktree runs)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the database


def cache_path(cache_dir: Path, initiatives: int, people: int, units: int) -> Path:
    """The cached database, named after the sizes, the generators and the migrations of this worktree."""
    digest = hashlib.sha256()
    versions = sorted((ROOT / "storage" / "migrations" / "versions").glob("*.py"))
    digest.update(DATA_VERSION.encode())
    for source in [HERE / "leaderboard_data.py", *versions]:
        digest.update(source.read_bytes())
    return cache_dir / f"mixed-{initiatives}-{people}-{units}-{digest.hexdigest()[:10]}.db"


def build(path: Path, initiatives: int, people: int, units: int) -> None:
    """Bulk-load the leaderboard bench's data, then give every unit a reviewer and a review queue."""
    data = load_sibling("leaderboard_data")
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    data.build(partial, initiatives=initiatives, people=people, unit_count=units)
    db = sqlite3.connect(partial)
    db.execute("pragma synchronous=off")
    pending = ",".join(f"'{s}'" for s in PENDING)
    # Waiting initiatives sit in their unit's queue; everything filed has a code.
    db.execute(
        f"update initiative set review_unit_id = unit_id, review_level = 'grassroots', queued_at = submitted_at"
        f" where status in ({pending})"
    )
    db.execute(
        "update initiative set code = 'SK-' || substr(campaign_key, -4) || '-' || printf('%07d', id)"
        " where status != 'draft'"
    )
    # One reviewer per unit: person i reviews unit i (the city and upper units included).
    granted = data.stamp(data.NOW - timedelta(days=400))
    db.executemany(
        "insert into reviewer (user_id, unit_id, granted_at) values (?, ?, ?)",
        [(unit, unit, granted) for (unit,) in db.execute("select id from unit order by id").fetchall()],
    )
    db.commit()
    db.execute("vacuum")
    db.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def ensure_database(args: argparse.Namespace) -> Path:
    """The cached database, built in a subprocess (so its memory is not this process's peak) if absent."""
    path = cache_path(args.cache_dir, args.initiatives, args.people, args.units)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    older = sorted(path.parent.glob(f"mixed-{args.initiatives}-{args.people}-{args.units}-*.db"), key=os.path.getmtime)
    for candidate in reversed(older):  # the same data under older migrations: copy and upgrade (minutes saved)
        shutil.copyfile(candidate, partial)
        upgrade = [
            sys.executable,
            "-c",
            f"from storage.migrate import upgrade_sync; upgrade_sync('sqlite:///{partial}')",
        ]
        if subprocess.run(upgrade, cwd=ROOT).returncode == 0:
            partial.rename(path)
            print(f"{path}: {candidate.name} upgraded to this worktree's migrations", file=sys.stderr)
            return path
        partial.unlink()
    sizes = ["--initiatives", str(args.initiatives), "--people", str(args.people), "--units", str(args.units)]
    subprocess.run([sys.executable, __file__, "--build", str(path), *sizes], check=True)
    return path


class Postgres:
    """A PostgreSQL server for the run: a throwaway one like the tests' but with fsync on, or `--database-url`'s."""

    def __init__(self, given: str | None, keep: Path | None = None) -> None:
        from sqlalchemy.engine import make_url

        self.server: Any = None
        if given:
            self.url = make_url(given)
            return
        self.server = load_sibling("postgresql").durable_server(keep)
        self.url = self.server.start()

    def exists(self, name: str) -> bool:
        """True if database `name` exists."""
        import asyncpg

        async def look() -> bool:
            conn = await asyncpg.connect(plain_dsn(self.url.set(database="postgres").render_as_string(False)))
            try:
                return bool(await conn.fetchval("select 1 from pg_database where datname = $1", name))
            finally:
                await conn.close()

        return asyncio.run(look())

    def rename(self, old: str, new: str) -> None:
        """Rename database `old` to `new`."""
        import asyncpg

        async def rename() -> None:
            conn = await asyncpg.connect(plain_dsn(self.url.set(database="postgres").render_as_string(False)))
            try:
                await conn.execute(f"drop database if exists {new}")
                await conn.execute(f"alter database {old} rename to {new}")
            finally:
                await conn.close()

        asyncio.run(rename())

    def drop(self, name: str) -> None:
        """Drop database `name` (a run's copy)."""
        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(plain_dsn(self.url.set(database="postgres").render_as_string(False)))
            try:
                await conn.execute(f"drop database if exists {name}")
            finally:
                await conn.close()

        asyncio.run(drop())

    def database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template`) and return its URL."""
        from tests.postgresql_server import create_database

        return create_database(self.url, name, template=template)

    def stop(self) -> None:
        """Stop the throwaway server."""
        if self.server is not None:
            self.server.stop()


async def copy_to_postgresql(source: Path, url: str) -> None:
    """Copy the bulk-loaded tables of the SQLite database into PostgreSQL (schema at 0003), typed."""
    import asyncpg

    db = sqlite3.connect(source)
    conn = await asyncpg.connect(plain_dsn(url))
    for table in ("unit", "app_user", "initiative", "reviewer"):
        types = dict(
            await conn.fetch(
                "select column_name, data_type from information_schema.columns where table_name = $1", table
            )
        )
        names = {c[1]: OLD_NAMES.get(c[1], c[1]) for c in db.execute(f"pragma table_info({table})").fetchall()}
        columns = [c for c, old in names.items() if old in types]
        convert = [CONVERT.get(types[names[c]], lambda v: v) for c in columns]
        cursor = db.execute(f"select {', '.join(columns)} from {table}")
        while rows := cursor.fetchmany(50_000):
            records = [tuple(None if v is None else f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
            await conn.copy_records_to_table(table, records=records, columns=[names[c] for c in columns])
        await conn.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))")
    await conn.close()
    db.close()


OLD_NAMES = {"recognised_level": "recognized_level"}  # columns renamed after revision 0003 (in 0012)
CONVERT: dict[str, Callable[[Any], Any]] = {
    "timestamp with time zone": lambda v: datetime.fromisoformat(v).replace(tzinfo=UTC),
    "timestamp without time zone": datetime.fromisoformat,
    "date": lambda v: datetime.fromisoformat(v).date(),
    "boolean": bool,
}


def prepare_postgresql(postgres: Postgres, source: Path) -> str:
    """The pristine PostgreSQL database (schema to 0003, the SQLite file's rows, then head); its name."""
    from alembic import command

    from storage.migrate import alembic_config, upgrade_sync

    name = f"mixed_{source.stem.replace('-', '_')}"
    if postgres.exists(name):  # kept from an earlier run (`--pg-data`)
        return name
    started = time.perf_counter()
    partial = f"{name}_partial"
    postgres.drop(partial)
    url = postgres.database(partial)
    command.upgrade(alembic_config(url), "0003")
    asyncio.run(copy_to_postgresql(source, url))
    upgrade_sync(url)  # revision 0004 fills the tallies
    asyncio.run(analyze(url))
    postgres.rename(partial, name)
    print(f"copied into PostgreSQL {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return name


async def analyze(url: str) -> None:
    """Vacuum and analyze the loaded database, as autovacuum would before long."""
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(url))
    await conn.execute("vacuum analyze")
    await conn.close()


async def count_submitted(url: str) -> int:
    """Initiatives submitted during the run (after the data's "now")."""
    query = "select count(*) from initiative where submitted_at > $1"
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        db = sqlite3.connect(path)
        value = db.execute(query.replace("$1", "?"), (NOW.strftime("%Y-%m-%d %H:%M:%S.999999"),)).fetchone()[0]
        db.close()
        return int(value)
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(url))
    value = await conn.fetchval(query, NOW + timedelta(microseconds=999_999))
    await conn.close()
    return int(value)


# ---------------------------------------------------------------- the other process


def hold_lock(target: str, seconds: float) -> None:
    """Subprocess: take the database's write lock, say when (wall clock), hold it, release it, say when.

    SQLite: `BEGIN IMMEDIATE`. PostgreSQL has no database-wide write lock: the initiatives are locked
    `IN SHARE ROW EXCLUSIVE MODE` (a bulk change over them in another process: everyone may read,
    nobody may write an initiative, so every step of a draft and every Submit waits, while
    registration goes on). One table taken in one step: locking every table in turn, as an earlier
    version did, deadlocked with the bot's transactions that had already written a table further down
    the list (PostgreSQL then aborted the bot's Submit: "deadlock detected")."""
    if "://" in target:
        asyncio.run(hold_postgresql_lock(target, seconds))
        return
    db = sqlite3.connect(target, isolation_level=None, timeout=60)
    db.execute("begin immediate")
    print(time.time(), flush=True)
    time.sleep(seconds)
    db.execute("commit")
    print(time.time(), flush=True)
    db.close()


async def hold_postgresql_lock(url: str, seconds: float) -> None:
    """`hold_lock` on PostgreSQL."""
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(url))
    async with conn.transaction():
        await conn.execute("lock table initiative in share row exclusive mode")
        print(time.time(), flush=True)
        await asyncio.sleep(seconds)
    print(time.time(), flush=True)
    await conn.close()


def plain_dsn(url: str) -> str:
    """An asyncpg DSN from a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def lock_for(path: Path | str, seconds: float, events: list[tuple[str, float]], start: float) -> None:
    """Start the lock holder and note when it asked for, held and released the lock."""
    events.append(("write lock asked for by another process", time.perf_counter() - start))
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--hold-lock", str(path), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    offset = time.time() - time.perf_counter()  # wall clock to this process's perf_counter
    taken, released = (float(line) - offset - start for line in out.split())
    events += [("write lock taken", taken), ("write lock released", released)]


# ---------------------------------------------------------------- the people


class Errors(logging.Handler):
    """Counts log records at ERROR and above (exceptions in handlers and jobs), keeps a few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.samples) < 5:
            error = f": {record.exc_info[1]!r}" if record.exc_info else ""
            self.samples.append(f"{record.name}: {record.getMessage()}{error}"[:300])


def bench_api(base: type, bad: tuple[str, ...]) -> Any:
    """The tests' fake Bot API keeping only the last buttons per chat and the error replies."""

    class BenchApi(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.buttons: dict[int, list[str]] = {}
            self.texts: dict[int, str] = {}  # the last text or caption sent to each chat
            self.count = 0
            self.error_replies: list[str] = []

        async def do_request(self, url: str, method: str, request_data: Any = None, *a: Any, **k: Any) -> Any:
            answer = await super().do_request(url, method, request_data, *a, **k)
            call = self.calls.pop()
            self.count += 1
            if any(b in call.text for b in bad):
                self.error_replies.append(call.text[:200])
            chat = call.params.get("chat_id")
            if call.text and str(chat).lstrip("-").isdigit():
                self.texts[int(chat)] = call.text
            if call.buttons and str(chat).lstrip("-").isdigit():
                self.buttons[int(chat)] = [data for _, data in call.buttons]
            return answer

    return BenchApi()


class Flow:
    """One person's updates, one at a time: a new person registers first, a registered one only submits."""

    def __init__(self, driver: Any, api: Any, person: Any, *, register: bool) -> None:
        self.driver, self.api, self.person = driver, api, person
        n = person.id
        registration: list[Callable[[], Awaitable[Any]]] = [
            lambda: self.text("/start"),
            lambda: self.press(0),  # Vietnamese
            lambda: self.press(0),  # consent
            lambda: self.text(("Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường", "Phạm Thị Dung")[n % 4]),
            lambda: self.text(f"09{n % 100_000_000:08d}"),
            lambda: self.text("cong ty may"),
            lambda: self.press(0),
        ]
        submission: list[Callable[[], Awaitable[Any]]] = [
            lambda: self.text("/new"),
            lambda: self.text(f"{TITLES[n % len(TITLES)]} (tổ {n % 97})"),
            lambda: self.press(2),
            lambda: self.press(0),
            lambda: self.text("Cắt vải bằng tay, mỗi tấm mất 4 phút và hay lệch"),
            lambda: self.text("Làm đồ gá bằng thép tấm có rãnh dẫn dao, kẹp vải hai đầu"),
            lambda: self.text("Mỗi tấm còn 2 phút, giảm 30% vải hỏng"),
            lambda: self.text("50 triệu"),
            lambda: self.text("01/03/2026"),
            lambda: self.press_prefix("v1:skip:"),
            lambda: self.press_prefix("v1:skip:"),
            lambda: self.press_prefix("v1:skip:"),
            lambda: self.press_prefix("v1:done:"),
            lambda: self.press_prefix("v1:submit:"),
        ]
        self.steps = registration + submission if register else submission
        self.submit_step = len(self.steps) - 1  # the press of "Submit" (duplicate hints, receipt, card)
        self.done = 0

    @property
    def finished(self) -> bool:
        """True once every step has been answered (and "submit anyway" if look-alikes were shown)."""
        if self.done < len(self.steps):
            return False
        if any(d.startswith("v1:subok:") for d in self.api.buttons.get(self.person.id, [])):
            self.steps.append(lambda: self.press_prefix("v1:subok:"))
            return False
        return True

    async def next(self) -> None:
        """Send this person's next update and wait for the bot to handle it."""
        step = self.steps[self.done]
        self.done += 1
        await step()

    async def text(self, text: str) -> None:
        await self.driver.text(self.person, text)

    async def press(self, index: int) -> None:
        await self.driver.press(self.person, self.api.buttons[self.person.id][index])

    async def press_prefix(self, prefix: str) -> None:
        data = next(d for d in self.api.buttons[self.person.id] if d.startswith(prefix))
        await self.driver.press(self.person, data)


def registered_people(path: Path, rng: random.Random) -> list[int]:
    """Telegram ids of registered people of the data with no draft and no review right, shuffled."""
    db = sqlite3.connect(path)
    rows = db.execute(
        "select cast(external_id as integer) from app_user where deleted = 0 and reg_step = 'done'"
        " and id not in (select author_id from initiative where status = 'draft')"
        " and id not in (select user_id from reviewer)"
    ).fetchall()
    db.close()
    ids = [r[0] for r in rows]
    rng.shuffle(ids)
    return ids


# ---------------------------------------------------------------- the run


async def ticker(stalls: list[tuple[float, float]], stop: asyncio.Event, start: float) -> None:
    """Wake every 5 ms; record how late each wake-up was (the event loop's stalls)."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(TICK)
        late = time.perf_counter() - before - TICK
        if late > 0.002:
            stalls.append((before - start, late))


def percentile(ordered: list[float], share: float) -> float:
    """The value below which `share` of the sorted samples fall."""
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))] if ordered else float("nan")


def summary_ms(ordered: list[float]) -> dict[str, float | None]:
    """p50, p99 and max of sorted latencies, in milliseconds."""
    if not ordered:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class DataClock:
    """The data's "now", moving with real time from `began` (picklable: the jobs process keeps it)."""

    def __init__(self, began: datetime) -> None:
        self.began = began

    def __call__(self) -> datetime:
        return NOW + (datetime.now(UTC) - self.began)


def call_with_known(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call with the keyword arguments `function` accepts (the APIs differ between versions)."""
    accepted = inspect.signature(function).parameters
    return function(*args, **{k: v for k, v in kwargs.items() if k in accepted})


async def measure(args: argparse.Namespace, url: str, lock_target: Path | str, source: Path) -> dict[str, Any]:
    """Run the bot on the database at `url` (a copy of `source`) under the mixed load; return the measurements."""
    from telegram.ext import Application

    from bot import app as composition
    from bot.config import load_config
    from bot.i18n import Catalog
    from handlers.telegram.sender import OutboxSender
    from tests.fake_telegram import FakeBotApi, Person, TelegramDriver

    errors = Errors()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().addHandler(errors)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: maximum number of running instances"
    catalog = Catalog()
    bad = (catalog.render("vi", "error.internal"), catalog.render("en", "error.internal"), "database is locked")
    api = bench_api(FakeBotApi, bad)
    config = load_config(
        ROOT / "bot.toml",
        env={"SANGKIEN_DATABASE_URL": url, "SANGKIEN_TELEGRAM_TOKEN": "1:BENCH", "SANGKIEN_ADMINS": str(ADMIN)},
    )
    clock = DataClock(datetime.now(UTC))
    opened = time.perf_counter()
    runtime = await call_with_known(composition.open_runtime, config, clock=clock)
    app: Application[Any, Any, Any, Any, Any, Any] = composition.telegram_application(runtime, request=api)
    await app.initialize()
    sender = OutboxSender(app.bot, runtime.catalog, runtime.delivery)
    runner, process = runtime.jobs, None
    if args.jobs_in == "process":  # as `sangkien run` does: the jobs in a worker process, on the same clock
        from bot.job_process import JobProcess

        runner = process = JobProcess(composition.open_runtime, config, clock)
        await process.start()
    scheduler = await call_with_known(
        composition.start_background, runtime, {"telegram": sender}, catch_up=False, process=process
    )
    warm = time.perf_counter() - opened
    rss_ready = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await app.start()
    driver = TelegramDriver(app, api)

    rng = random.Random(args.seed)
    registered = registered_people(source, rng)
    steps = args.new_share * 21 + (1 - args.new_share) * 14 + 1  # updates per person (+1: "submit anyway")
    person_rate = args.rate / steps  # people arriving per second, so that `--rate` updates/s are offered
    sent: list[tuple[float, float]] = []  # (arrival after the start, latency) of every update
    submits: list[float] = []
    submit_answers: Counter[str] = Counter()  # the first line of the bot's answer to each Submit press
    failures: list[str] = []
    stalls: list[tuple[float, float]] = []
    events: list[tuple[str, float]] = []
    job_times: dict[str, float] = {}
    flows: list[Flow] = []
    waiting: dict[Flow, float] = {}  # the update each person is waiting on: its arrival
    stop = asyncio.Event()
    start = time.perf_counter()
    end = start + args.seconds
    tick = asyncio.create_task(ticker(stalls, stop, start))

    async def person(flow: Flow, arrival: float) -> None:
        """One person: an update, the bot's answer, a moment to read and think, the next update."""
        while arrival < end and not flow.finished:
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            submitting = flow.done >= flow.submit_step
            waiting[flow] = arrival
            try:
                await flow.next()
            except Exception as exc:  # the flow could not go on (no such button…): an error of the run
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            finally:
                waiting.pop(flow, None)
            done = time.perf_counter()
            sent.append((arrival - start, done - arrival))
            if submitting:  # Submit, or "submit anyway" after the look-alikes
                submits.append(done - arrival)
                answer_text = api.texts.get(flow.person.id, "")
                submit_answers[answer_text.split("\n", 1)[0][:60]] += 1
            arrival = done + rng.uniform(*THINK)

    async def job(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        began = time.perf_counter()
        events.append((f"job {name} started", began - start))
        await runner.run(name)
        job_times[name] = time.perf_counter() - began
        events.append((f"job {name} finished", time.perf_counter() - start))

    async def lock(at: float) -> None:
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        await lock_for(lock_target, args.lock_seconds, events, start)

    jobs = {} if args.updates_only else {name: at for name, at in JOBS.items() if at < args.seconds}
    side = [asyncio.create_task(job(name, at)) for name, at in jobs.items()]
    side += [asyncio.create_task(lock(at)) for at in LOCKS if at < args.seconds and not args.updates_only]
    people: list[asyncio.Task[None]] = []
    arrival = start
    while True:  # people arrive open loop (Poisson); each then answers the bot as a person does
        arrival += rng.expovariate(person_rate)
        if arrival >= end:
            break
        await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
        if registered and rng.random() >= args.new_share:
            known = Person(registered.pop(), first_name=f"Người lao động {len(flows)}")
            flow = Flow(driver, api, known, register=False)
        else:
            newcomer = Person(PERSON_BASE + len(flows), first_name=f"Công nhân {len(flows)}")
            flow = Flow(driver, api, newcomer, register=True)
        flows.append(flow)
        people.append(asyncio.create_task(person(flow, arrival)))
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    offered = time.perf_counter() - start
    deadline = time.perf_counter() + args.grace
    _, unfinished = await asyncio.wait(people, timeout=args.grace) if people else (set(), set())
    late = [(at - start, time.perf_counter() - at) for at in waiting.values()]  # at least that long
    measured, measured_submits = sent + late, list(submits)  # answers after this moment don't count
    for task in unfinished:
        task.cancel()
    _, running = await asyncio.wait(side, timeout=max(0.1, deadline - time.perf_counter())) if side else ((), ())
    for task in running:  # a job still running at the deadline: reported as such, then stopped
        task.cancel()
    for name in jobs:
        if name not in job_times:
            job_times[name] = float("inf")
    stop.set()
    logging.getLogger().removeHandler(errors)  # what shutting down logs is not the run's
    await tick
    await scheduler.close()  # as the bot's post_stop does: the drain ends after its current message
    await app.stop()
    await app.shutdown()
    submitted = await count_submitted(url)
    await runtime.close()

    ordered = sorted(latency for _, latency in measured)
    taken = [t for name, t in events if name == "write lock taken"]
    released = [t for name, t in events if name == "write lock released"]
    windows = list(zip(taken, released, strict=False))

    def locked(at: float) -> bool:
        """True for an update that arrived while the other process held the write lock."""
        return any(begin <= at <= end for begin, end in windows)

    inside = sorted(latency for at, latency in measured if locked(at))
    outside = sorted(latency for at, latency in measured if not locked(at))
    worst = sorted(stalls, key=lambda s: -s[1])[:5]
    receipts = sum(n for text, n in submit_answers.items() if "receipt" in text.lower() or "Biên nhận" in text)
    return {
        "label": args.label,
        "jobs_in": args.jobs_in,
        "database": url.split(":", 1)[0],
        "code": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "rate": args.rate,
        "seconds": args.seconds,
        "arrivals": len(measured),
        "last_issued_s": round(offered, 1),
        "answered": len(sent),
        "unanswered": len(late),
        "people": len(flows),
        "submitted": submitted,
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        "outside_locks": {"updates": len(outside), **summary_ms(outside)},
        "inside_locks": {"updates": len(inside), **summary_ms(inside)},
        "receipts": receipts,
        "submit_presses": len(measured_submits),
        "submit_p50_ms": round(percentile(sorted(measured_submits), 0.50) * 1000, 1),
        "submit_answers": dict(submit_answers.most_common(6)),
        "steps_reached": dict(sorted(Counter(f"{f.done}/{len(f.steps)}" for f in flows if not f.finished).items())),
        "submit_max_ms": round(max(measured_submits, default=float("nan")) * 1000, 1),
        "longest_stall_ms": round(worst[0][1] * 1000, 1) if worst else 0.0,
        "stalls_over_50ms": sum(1 for _, s in stalls if s > 0.05),
        "worst_stalls": [(round(t, 2), round(s * 1000, 1)) for t, s in worst],
        "error_replies": len(api.error_replies),
        "error_reply_samples": api.error_replies[:3],
        "errors_logged": errors.count,
        "error_log_samples": errors.samples,
        "flow_failures": len(failures),
        "flow_failure_samples": failures[:3],
        "job_seconds": {k: round(v, 2) if v != float("inf") else "unfinished" for k, v in job_times.items()},
        "events": [(name, round(t, 2)) for name, t in events],
        "bot_api_calls": api.count,
        "start_up_s": round(warm, 1),
        "rss_ready_mb": round(rss_ready, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def summary(result: dict[str, Any]) -> str:
    """The run in a few lines."""
    r = result
    errors = r["error_replies"] + r["errors_logged"] + r["flow_failures"]
    return "\n".join(
        [
            f"{r['label']} ({r['code']}, jobs in {r['jobs_in']}): {r['arrivals']} updates arriving over"
            f" {r['seconds']:.0f} s at"
            f" {r['rate']:.0f}/s (the last handed to the bot {r['last_issued_s']} s after the start)"
            f" from {r['people']} people ({r['submitted']} submissions), {r['answered']} answered,"
            f" {r['unanswered']} still waiting at the end",
            f"  latency from arrival: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms;"
            f" outside the other process's locks {r.get('outside_locks')}, inside them {r.get('inside_locks')}",
            f"  Submit and 'submit anyway' ({r.get('submit_presses', '?')} presses, {r.get('receipts', '?')} receipts)"
            f" p50 {r['submit_p50_ms']} ms, max {r['submit_max_ms']} ms",
            f"  longest event-loop stall {r['longest_stall_ms']} ms ({r['stalls_over_50ms']} over 50 ms);"
            f" worst (s after start, ms): {r['worst_stalls']}",
            f"  errors: {errors} (error replies {r['error_replies']}, logged {r['errors_logged']},"
            f" flows stuck {r['flow_failures']}) {r['error_reply_samples'] + r['error_log_samples']}"
            f" {r['flow_failure_samples']}",
            f"  answers to Submit: {r.get('submit_answers')}; unfinished flows by step: {r.get('steps_reached')}",
            f"  jobs (s): {r['job_seconds']}; events (s after start): {r['events']}",
            f"  start-up {r['start_up_s']} s; peak RSS {r['peak_rss_mb']} MB ({r['rss_ready_mb']} MB when ready)",
        ]
    )


def main() -> None:
    """Build or reuse the database, copy it, run the mixed load, print a summary and JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0, help="updates offered per second (Poisson)")
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/bench"))
    parser.add_argument("--lock-seconds", type=float, default=LOCK_SECONDS)
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds to wait for answers and jobs after the last arrival"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--updates-only", action="store_true", help="no jobs and no other process: the conversation alone, open loop"
    )
    parser.add_argument(
        "--jobs-in",
        choices=["process", "loop"],
        default="process",
        help="run the jobs in a worker process as `sangkien run` does, or on the bot's event loop (before)",
    )
    parser.add_argument("--new-share", type=float, default=0.5, help="share of people who register first")
    parser.add_argument("--label", default=ROOT.name)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", help="a PostgreSQL server of your own (postgresql+asyncpg://…)")
    parser.add_argument(
        "--pg-data", type=Path, help="keep the throwaway PostgreSQL cluster (and its loaded database) in this folder"
    )
    parser.add_argument("--prepare", action="store_true", help="only build the cached database (if absent)")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--hold-lock", nargs=2, metavar=("PATH", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold_lock:
        hold_lock(args.hold_lock[0], float(args.hold_lock[1]))
        return
    if args.build:
        build(args.build, args.initiatives, args.people, args.units)
        return
    pristine = ensure_database(args)
    if args.prepare and args.database == "sqlite":
        print(pristine)
        return
    if args.database == "postgresql":
        postgres = Postgres(args.database_url, args.pg_data)
        run = f"mixed_run_{os.getpid()}"
        try:
            template = prepare_postgresql(postgres, pristine)
            if args.prepare:
                print(template)
                return
            url = postgres.database(run, template=template)
            result = asyncio.run(measure(args, url, url, pristine))
        finally:
            if postgres.server is None or args.pg_data is not None:
                postgres.drop(run)
            postgres.stop()
    else:
        work = pristine.with_name(f"run-{os.getpid()}.db")
        shutil.copyfile(pristine, work)
        try:
            result = asyncio.run(measure(args, f"sqlite+aiosqlite:///{work}", work, pristine))
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work}{suffix}").unlink(missing_ok=True)
    result["machine"] = load_sibling("machine").describe()
    result["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(summary(result))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
