"""APScheduler through python-telegram-bot's JobQueue: the cron jobs, the outbox drain, housekeeping."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.clock import utc_now
from bot.jobs import JobRunner
from bot.schedule import latest_fire, trigger
from handlers.telegram.sender import OutboxSender

log = logging.getLogger(__name__)
DRAIN_EVERY = 2.0
PRUNE_EVERY = 3600.0
CATCH_UP_EVERY = 300.0  # a run left half-done by a process that died is taken over once its lease ends
EXECUTOR_LOG = "apscheduler.executors.default"  # logs every run of every job at INFO


class FrequentJobAtDebug(logging.Filter):
    """APScheduler's "Running job …" / "… executed successfully" lines about one frequent job (the
    outbox drain, every 2 s) become DEBUG (shown with -v); every other job and every warning stay."""

    def __init__(self, job_name: str) -> None:
        super().__init__()
        self.prefix = f"{job_name} ("  # an APScheduler job prints as "NAME (trigger: …)"

    def filter(self, record: logging.LogRecord) -> bool:
        """Lower this job's INFO lines to DEBUG and keep them only when DEBUG is on."""
        if record.levelno != logging.INFO or not any(str(arg).startswith(self.prefix) for arg in record.args or ()):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def schedule_jobs(
    application: Application[Any, Any, Any, Any, Any, Any],
    jobs: JobRunner,
    sender: OutboxSender,
    prune: Callable[[], Awaitable[dict[str, int]]],
) -> None:
    """Register every enabled job on its cron schedule, the outbox drain, the making up of runs a dead
    process left, and housekeeping (`prune`, hourly)."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    config = jobs.config
    single = {"max_instances": 1, "coalesce": True}

    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        """Run one cron job for the scheduled time it fired for."""
        name = str(context.job.data if context.job else "")
        spec = config.jobs.spec(name)
        window = timedelta(minutes=spec.grace_minutes + 1)
        scheduled = latest_fire(spec.cron, config.bot.timezone, utc_now(), within=window)
        report = await jobs.run(name, scheduled)
        log.info("job %s for %s: %s", name, scheduled, report or "already ran")

    async def drain(_context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send what is due in the outbox, then report finished runs to admins."""
        stats = await sender.drain()
        if stats.taken:
            log.info("outbox: %s", stats)
        await jobs.report_deliveries()

    async def catch_up(_context: ContextTypes.DEFAULT_TYPE) -> None:
        """Make up a run missed within its grace time: one another process began and left unfinished."""
        made_up = await jobs.catch_up()
        if made_up:
            log.info("runs made up: %s", made_up)

    async def housekeeping(_context: ContextTypes.DEFAULT_TYPE) -> None:
        """Forget update ids too old to be delivered again and outbox messages past their retention."""
        removed = await prune()
        log.log(logging.INFO if any(removed.values()) else logging.DEBUG, "housekeeping removed %s", removed)

    for name in jobs.jobs:
        spec = config.jobs.spec(name)
        if not spec.enabled:
            continue
        kwargs = {"trigger": trigger(spec.cron, config.bot.timezone), "misfire_grace_time": spec.grace_minutes * 60}
        queue.run_custom(run, job_kwargs={**kwargs, **single}, name=name, data=name)
    queue.run_repeating(drain, interval=DRAIN_EVERY, first=1.0, name="outbox", job_kwargs=single)
    queue.run_repeating(catch_up, interval=CATCH_UP_EVERY, first=CATCH_UP_EVERY, name="catch_up", job_kwargs=single)
    executor_log = logging.getLogger(EXECUTOR_LOG)
    if not any(isinstance(f, FrequentJobAtDebug) for f in executor_log.filters):
        executor_log.addFilter(FrequentJobAtDebug("outbox"))
    queue.run_repeating(housekeeping, interval=PRUNE_EVERY, first=60.0, name="housekeeping", job_kwargs=single)
