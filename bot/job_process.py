"""Scheduled jobs run in a worker process, so that making and serialising their messages (10⁵ people
for the leaderboard) never runs on the bot's event loop, where the people's answers are made.

The worker is spawned (the bot has threads) on the first run and kept. Each call opens its own
runtime there from the pickled configuration (migrations are the bot's, already done), runs
`JobRunner.run` or `JobRunner.catch_up` (the claim and lease logic stays there), closes it and
returns the report: the messages reach the outbox, which the bot's scheduler drains. A worker that
dies leaves its run's lease to expire, and a later making up of missed runs takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from bot.clock import Clock, utc_now
from bot.config import Config
from bot.orphans import exit_with_parent

log = logging.getLogger(__name__)
Opener = Callable[..., Awaitable[Any]]  # `open_runtime(config, clock, migrate=False)`: has `.jobs` and `.close()`


def _ignore_interrupts() -> None:
    """In the worker: Ctrl-C and a service manager's SIGTERM reach the whole group of processes, but the
    bot decides when its jobs stop (`JobProcess.close`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    exit_with_parent()  # a bot killed outright does not leave its jobs running


async def _work(opener: Opener, config: Config, clock: Clock, action: str, args: tuple[Any, ...]) -> Any:
    """Open a runtime, run `action` ("run" or "catch_up") of its job runner, close it."""
    runtime = await opener(config, clock, migrate=False)
    try:
        return await getattr(runtime.jobs, action)(*args)
    finally:
        await runtime.close()


def work(opener: Opener, config: Config, clock: Clock, action: str, *args: Any) -> Any:
    """The worker's side of a call: its own event loop for the one job (runs in the worker process)."""
    return asyncio.run(_work(opener, config, clock, action, args))


class JobProcess:
    """Runs jobs by name and makes up missed runs (as `JobRunner.run` and `catch_up`) in one worker
    process. `close` stops it at once: a run cut short is made up later (its messages keep their
    keys, so none is sent twice)."""

    def __init__(self, opener: Opener, config: Config, clock: Clock = utc_now) -> None:
        self.opener, self.config, self.clock = opener, config, clock  # `clock` is pickled: a module-level one
        self.pool: ProcessPoolExecutor | None = None
        self.pid: int | None = None
        self.closed = False
        self.starting = threading.Lock()

    async def start(self) -> None:
        """Start the worker now rather than on the first run (benches time the runs alone)."""
        await asyncio.to_thread(self._started)

    async def run(self, name: str, scheduled_for: datetime | None = None) -> dict[str, Any] | None:
        """Run `name` once for `scheduled_for` in the worker; None if that run was already claimed."""
        report: dict[str, Any] | None = await self._call("run", name, scheduled_for)
        return report

    async def catch_up(self) -> list[dict[str, Any]]:
        """Make up, in the worker, each enabled job's latest run missed within its grace time."""
        reports: list[dict[str, Any]] | None = await self._call("catch_up")
        return reports or []

    async def _call(self, action: str, *args: Any) -> Any:
        """Hand one call to the worker and wait for its answer without working; None once closed."""
        pool = self.pool if self.pool is not None else await asyncio.to_thread(self._started)
        if self.closed:  # checked after the wait for the start, right before handing over
            return None
        call = functools.partial(work, self.opener, self.config, self.clock, action, *args)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool:
            if self.closed:
                log.info("jobs process stopped during %s %s: made up after its lease ends", action, args)
            else:  # died (killed, out of memory): the next call starts another
                log.error("jobs process died during %s %s: made up after its lease ends", action, args)
                self.forget(pool)
            return None

    def forget(self, pool: ProcessPoolExecutor) -> None:
        """Drop a worker that died (once: the calls that were waiting on it all land here)."""
        with self.starting:
            if self.pool is pool:
                self.pool, self.pid = None, None
        pool.shutdown(wait=False)

    def _started(self) -> ProcessPoolExecutor:
        """Start the worker and learn its process id (in a thread: spawning takes a while)."""
        with self.starting:
            return self.pool or self._start()

    def _start(self) -> ProcessPoolExecutor:
        """Spawn the one worker (a call that came meanwhile waits for it)."""
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_ignore_interrupts)
        self.pid = pool.submit(os.getpid).result()  # one worker, kept: the one every job runs in
        self.pool = pool
        if self.closed:  # closed while it started
            self.close()
        return pool

    def close(self) -> None:
        """Start no new run and end the worker now (a weekly job may take minutes; waiting for it
        would hold up the bot's stop): its run's lease expires and it is made up later."""
        self.closed = True
        if self.pool is None:
            return
        self.pool.shutdown(wait=False)  # the calls waiting end with BrokenProcessPool once it is gone
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(self.pid, signal.SIGKILL)  # it ignores SIGTERM
