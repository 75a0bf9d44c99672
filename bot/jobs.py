"""Scheduled jobs: each run is claimed once in the database and writes its messages to the outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.campaigns import CampaignBook, CampaignCache
from bot.clock import Clock, local, utc_now
from bot.config import JOB_NAMES, Config
from bot.delivery import Delivery, Enqueued, Prepared, QuietHours
from bot.i18n import Msg
from bot.messages import Notice, Reply
from bot.ports import Store, Tx
from bot.schedule import missed_run, next_fire


@dataclass(frozen=True)
class Outgoing:
    """Messages a job wants sent: each is keyed `job:key:chat` (so never sent twice). Every scheduled
    message waits out the quiet hours (JobRunner.enqueue); `quiet` ones (reminders, the leaderboard)
    also skip people who turned their `topic` off ("reminders" or "leaderboard", chosen apart)."""

    key: str
    notices: list[Notice]
    quiet: bool = False
    topic: str = "reminders"


@dataclass
class JobContext:
    """What a job needs: the store, the time, the configuration and the campaigns.

    A job holds no transaction of its own: it reads in short read transactions (`read()`, paged
    where the data is large), computes outside them (CPU-heavy work in a worker thread) and returns
    its messages, which the runner writes in chunks of short write transactions."""

    store: Store
    now: datetime
    config: Config
    book: CampaignBook
    finder: Any = None

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A read transaction: one snapshot, never waits for writers (hold it for a page, not a job)."""
        return self.store.read()

    def write(self) -> AbstractAsyncContextManager[Tx]:
        """A short write transaction."""
        return self.store.transaction()

    @property
    def local_now(self) -> datetime:
        """The current time in the configured time zone."""
        return local(self.now, self.config.bot.timezone)


BATCH = 1_000  # messages made by a job before they are written (the rows of a page of readers or more)
STEP = 50  # outbox rows per INSERT (one executemany)
MAX_REST = 0.1  # a job rests as long as it worked for a page of its messages (up to this): the loop is the answers' too
WRITE_BUDGET = 0.02  # seconds a job's write transaction goes on adding rows before it commits and lets others in


def deliverable(config: Config) -> tuple[str, ...]:
    """The channels with an outbox sender: Telegram, and Zalo once it has a token (the console has none)."""
    return ("telegram", "zalo") if config.zalo.token else ("telegram",)


JobFunction = Callable[[JobContext], AsyncIterator[Outgoing]]  # yields messages as it makes them
RUN_LEASE = timedelta(minutes=5)  # renewed every third of it while the run goes on


@dataclass(frozen=True)
class JobInfo:
    """What `sangkien jobs list` shows of a job."""

    name: str
    cron: str
    enabled: bool
    next_run: datetime | None
    last_run: datetime | None


class JobRunner:
    """Runs jobs by name (on schedule, on demand, or to make up a run missed while down)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        jobs: dict[str, JobFunction],
        delivery: Delivery,
        *,
        clock: Clock = utc_now,
        campaigns: CampaignCache | None = None,
        finder: Any = None,
        lease: timedelta = RUN_LEASE,
    ) -> None:
        self.store, self.config, self.jobs, self.delivery, self.clock = store, config, jobs, delivery, clock
        self.lease = lease
        self.campaigns = campaigns or CampaignCache()
        self.finder = finder
        self.quiet = QuietHours.from_config(config)
        self.channels = deliverable(config)

    async def run(self, name: str, scheduled_for: datetime | None = None) -> dict[str, Any] | None:
        """Run `name` once for `scheduled_for` (default: this minute); None if that run already
        happened or another live process is running it (its claim's lease has not ended)."""
        if name not in self.jobs:
            raise KeyError(name)
        now = self.clock()
        scheduled_for = scheduled_for or now.replace(second=0, microsecond=0)
        async with self.store.transaction() as tx:  # committed at once: other processes see the claim
            run_id = await tx.claim_run(
                name, scheduled_for, now=now, owner=self.delivery.owner, lease_until=now + self.lease
            )
        if run_id is None:
            return None
        heartbeat = asyncio.create_task(self._keep_lease(run_id))
        try:
            return await self._run(name, run_id, now)
        finally:
            heartbeat.cancel()

    async def _keep_lease(self, run_id: int) -> None:
        """Renew the claim on a run every third of its lease while it goes on."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.store.transaction() as tx:
                await tx.renew_run(run_id, owner=self.delivery.owner, lease_until=self.clock() + self.lease)

    async def _run(self, name: str, run_id: int, now: datetime) -> dict[str, Any]:
        """The body of a claimed run: the job reads and makes its messages outside any write
        transaction, and they go into the outbox a chunk per transaction; then the report."""
        async with self.store.read() as tx:
            book = await self.campaigns.get(tx, now)
        outgoing = self.jobs[name](JobContext(self.store, now, self.config, book, self.finder))
        report: dict[str, Any] = {"job": name, "run_id": run_id, "queued": 0, "repeated": 0, "skipped": 0}
        held = self.quiet.release(now)
        if held > now:
            report["held_until"] = held.isoformat()
        waiting: list[Outgoing] = []  # messages made and not written yet
        count = 0
        kept: set[str] = set()  # files (charts) written by this run already
        worked = time.perf_counter()
        async for item in outgoing:
            waiting.append(item)
            count += len(item.notices)
            if count >= BATCH:
                await self._write(waiting, name, run_id, report, kept)
                waiting, count = [], 0
            await asyncio.sleep(min(time.perf_counter() - worked, MAX_REST))  # the people's answers first
            worked = time.perf_counter()
        await self._write(waiting, name, run_id, report, kept)
        async with self.store.transaction() as tx:
            await tx.finish_run(run_id, report, now=self.clock())
        return report

    async def _write(
        self, items: list[Outgoing], name: str, run_id: int, report: dict[str, Any], kept: set[str]
    ) -> None:
        """Write a job's messages to the outbox: the recipients read in one read transaction, the
        rows made in a worker thread, then written in write transactions of about `WRITE_BUDGET`
        each (as many rows as fit), so that updates waiting for the write lock wait little."""
        items = [
            Outgoing(i.key, [n for n in i.notices if n.chat.partition(":")[0] in self.channels], i.quiet, i.topic)
            for i in items
        ]
        chats = sorted({n.chat for item in items for n in item.notices})
        if not chats:
            return
        async with self.store.read() as tx:
            known = await tx.recipients(chats)
        batches = await asyncio.to_thread(self._prepare, items, name, run_id, known)
        rows = [row for batch in batches for row in batch.rows]
        files = {d: c for batch in batches for d, c in batch.blobs.items() if d not in kept}
        for batch in batches:
            report["skipped"] += batch.outcome.blocked + batch.outcome.opted_out
        done = 0
        while done < len(rows) or files:
            async with self.store.transaction() as tx:
                began = time.perf_counter()
                await self.delivery.store_blobs(tx, files)  # a chart once per run, before the rows naming it
                kept.update(files)
                files = {}
                while done < len(rows) and time.perf_counter() - began < WRITE_BUDGET:
                    piece = rows[done : done + STEP]
                    added = await tx.enqueue_many(piece, self.clock())
                    report["queued"] += added
                    report["repeated"] += len(piece) - added
                    done += len(piece)
            await asyncio.sleep(0)

    def _prepare(self, items: list[Outgoing], name: str, run_id: int, known: dict[str, Any]) -> list[Prepared]:
        """The outbox rows of each item (run in a worker thread: serialising 10⁵ messages takes seconds)."""
        return [
            self.delivery.prepare(
                item.notices,
                known,
                job_run_id=run_id,
                key_prefix=f"{name}:{item.key}",
                quiet=self.quiet,
                respect_opt_out=item.topic if item.quiet else None,
            )
            for item in items
        ]

    async def report_deliveries(self) -> int:
        """Tell admins how each finished run's messages went once none is pending; returns reports sent."""
        sent = 0
        async with self.store.transaction() as tx:
            for run_id, job, report in await tx.unreported_runs():
                counts = await tx.delivery_report(run_id)
                if counts.get("pending", 0):
                    continue
                await tx.mark_reported(run_id, report)
                if not any(counts.values()):
                    continue
                reply = Reply("jobs.delivery_report", {"job": Msg(f"jobs.name_{job}"), **counts})
                chats = self.config.bot.admins
                notices = [Notice(chat, self.config.bot.locale, (reply,)) for chat in chats]
                await self.enqueue(tx, notices, None, f"delivery:{run_id}")
                sent += 1
        return sent

    async def enqueue(
        self, tx: Tx, notices: list[Notice], run_id: int | None, key_prefix: str, *, opt_out: str | None = None
    ) -> Enqueued:
        """The one way scheduled messages reach the outbox: each waits out the quiet hours."""
        return await self.delivery.enqueue_notices(
            tx, notices, job_run_id=run_id, key_prefix=key_prefix, quiet=self.quiet, respect_opt_out=opt_out
        )

    async def catch_up(self) -> list[dict[str, Any]]:
        """After a restart: make up, once, each enabled job's latest run missed within its grace time."""
        reports = []
        for name in self.jobs:
            spec = self.config.jobs.spec(name)
            if not spec.enabled:
                continue
            async with self.store.transaction() as tx:
                last = await tx.last_run(name)
            grace = timedelta(minutes=spec.grace_minutes)
            missed = missed_run(spec.cron, self.config.bot.timezone, self.clock(), grace=grace, last_run=last)
            if missed is not None:
                report = await self.run(name, missed)
                if report is not None:
                    reports.append(report)
        return reports

    async def describe(self) -> list[JobInfo]:
        """Every job with its schedule, next and last run."""
        infos = []
        async with self.store.transaction() as tx:
            for name in JOB_NAMES:
                spec = self.config.jobs.spec(name)
                upcoming = next_fire(spec.cron, self.config.bot.timezone, self.clock()) if spec.enabled else None
                infos.append(JobInfo(name, spec.cron, spec.enabled, upcoming, await tx.last_run(name)))
        return infos
