"""One scheduler per process, whatever channels run: the cron jobs, the making up of runs a dead
process left, housekeeping, and each channel's outbox drain (APScheduler 3's AsyncIOScheduler)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import utc_now
from bot.job_process import JobProcess
from bot.jobs import JobRunner
from bot.schedule import latest_fire, trigger

log = logging.getLogger(__name__)
DRAIN_EVERY = 2.0
PRUNE_EVERY = 3600.0
PRUNE_FIRST = 60.0
CATCH_UP_EVERY = 300.0  # a run left half-done by a process that died is taken over once its lease ends
OUTBOX = "outbox"  # the drain jobs are "outbox:<channel>", the delivery reports "outbox:reports"
EXECUTOR_LOG = "apscheduler.executors.default"  # logs every run of every job at INFO


class Sender(Protocol):
    """A channel's outbox sender: sends what is due, keeping that channel's own limits."""

    async def drain(self) -> Any:
        """Send what is due; what it did (falsy when nothing)."""

    def stop(self) -> None:
        """Take no new message; the one in hand is finished and marked."""


class FrequentJobAtDebug(logging.Filter):
    """APScheduler's "Running job …" / "… executed successfully" lines about the frequent jobs (the
    outbox drains, every 2 s) become DEBUG (shown with -v); every other job and every warning stay."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix  # an APScheduler job prints as "NAME (trigger: …)"

    def filter(self, record: logging.LogRecord) -> bool:
        """Lower the frequent jobs' INFO lines to DEBUG and keep them only when DEBUG is on."""
        if record.levelno != logging.INFO or not any(str(arg).startswith(self.prefix) for arg in record.args or ()):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_frequent_jobs() -> None:
    """Install the filter of the outbox drains' log lines once per process."""
    executor_log = logging.getLogger(EXECUTOR_LOG)
    if not any(isinstance(f, FrequentJobAtDebug) for f in executor_log.filters):
        executor_log.addFilter(FrequentJobAtDebug(f"{OUTBOX}:"))


class Scheduler:
    """Runs every enabled job on its cron schedule, drains each channel's outbox sender apart (a
    channel waiting out its quota never holds another back), makes up missed runs, keeps house.

    With a `process`, the cron runs and the making up of missed runs go to that worker process (what
    `sangkien run` does); without, they run on this event loop (tests moving a fake clock)."""

    def __init__(
        self,
        jobs: JobRunner,
        senders: Mapping[str, Sender],
        housekeeping: Callable[[], Awaitable[dict[str, int]]],
        process: JobProcess | None = None,
    ) -> None:
        self.jobs = jobs
        self.process = process
        self.runs: JobRunner | JobProcess = process or jobs
        self.senders = dict(senders)
        self.housekeeping = housekeeping
        self.timezone = ZoneInfo(jobs.config.bot.timezone)
        self.scheduler = AsyncIOScheduler(timezone=self.timezone)
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def alive(self) -> bool:
        """Started, neither paused nor shut down."""
        return bool(self.scheduler.state == STATE_RUNNING)

    def names(self) -> list[str]:
        """The scheduled jobs' names."""
        return [job.name for job in self.scheduler.get_jobs()]

    def start(self, *, catch_up: bool = True) -> None:
        """Schedule everything and start (on the running event loop); the first making up of missed
        runs starts at once in the background (with `catch_up`), then every CATCH_UP_EVERY."""
        single: dict[str, Any] = {"max_instances": 1, "coalesce": True}
        config = self.jobs.config
        for name in self.jobs.jobs:
            spec = config.jobs.spec(name)
            if spec.enabled:
                when = trigger(spec.cron, config.bot.timezone)
                self._add(self._cron(name), when, name, misfire_grace_time=spec.grace_minutes * 60, **single)
        now = utc_now()
        for channel, sender in self.senders.items():
            self._add(self._drain(channel, sender), self._every(DRAIN_EVERY), f"{OUTBOX}:{channel}", **single)
        self._add(self._reports, self._every(DRAIN_EVERY), f"{OUTBOX}:reports", **single)
        self._add(self._catch_up, self._every(CATCH_UP_EVERY), "catch_up", **single)
        first = now + timedelta(seconds=PRUNE_FIRST)
        self._add(self._housekeeping, self._every(PRUNE_EVERY), "housekeeping", next_run_time=first, **single)
        quiet_frequent_jobs()
        self.scheduler.start()
        if catch_up:
            began = asyncio.get_running_loop().create_task(self._catch_up(), name="catch_up")
            self._running.add(began)
            began.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """Forget a task started outside APScheduler; log its failure."""
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def idle(self) -> None:
        """Wait for the runs going on (the first making up of missed runs among them) to end."""
        await asyncio.gather(*self._running, return_exceptions=True)

    async def close(self) -> None:
        """Start no new run, let the senders finish the message in hand, wait for the runs going
        on, then shut down."""
        if self.scheduler.state == STATE_STOPPED:
            return
        self.scheduler.pause()
        for sender in self.senders.values():
            sender.stop()
        if self.process is not None:  # a run going on there is cut short, made up later
            self.process.close()
        await self.idle()
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn

    def _every(self, seconds: float) -> IntervalTrigger:
        """An interval trigger whose first run is one interval from now."""
        return IntervalTrigger(seconds=seconds, timezone=self.timezone)

    def _add(self, job: Callable[[], Awaitable[None]], when: Any, name: str, **options: Any) -> None:
        """Schedule `job` under `name`; its task is known while it runs (`close` waits for it)."""

        async def tracked() -> None:
            task = asyncio.current_task()
            mine = {task} if task is not None else set()
            self._running |= mine
            try:
                await job()
            finally:
                self._running -= mine

        self.scheduler.add_job(tracked, when, id=name, name=name, **options)

    def _cron(self, name: str) -> Callable[[], Awaitable[None]]:
        """One cron job, run for the scheduled time it fired for."""
        spec = self.jobs.config.jobs.spec(name)

        async def run() -> None:
            window = timedelta(minutes=spec.grace_minutes + 1)
            scheduled = latest_fire(spec.cron, self.jobs.config.bot.timezone, utc_now(), within=window)
            report = await self.runs.run(name, scheduled)
            log.info("job %s for %s: %s", name, scheduled, report or "already ran")

        return run

    @staticmethod
    def _drain(channel: str, sender: Sender) -> Callable[[], Awaitable[None]]:
        """Send what is due in one channel's outbox."""

        async def drain() -> None:
            stats = await sender.drain()
            if stats:
                log.info("%s outbox: %s", channel, stats)

        return drain

    async def _reports(self) -> None:
        """Tell admins how each finished run's messages went."""
        await self.jobs.report_deliveries()

    async def _catch_up(self) -> None:
        """Make up a run missed within its grace time: one missed while down, or one another process
        began and left unfinished."""
        made_up = await self.runs.catch_up()
        if made_up:
            log.info("runs made up: %s", made_up)

    async def _housekeeping(self) -> None:
        """Forget update ids too old to be delivered again and outbox messages past their retention."""
        removed = await self.housekeeping()
        log.log(logging.INFO if any(removed.values()) else logging.DEBUG, "housekeeping removed %s", removed)
