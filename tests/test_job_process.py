"""The jobs process of `sangkien run`: stopping the bot ends a run going on there at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.job_process import JobProcess


class Stuck:
    """A runtime whose job never ends (in the jobs process); it says it began in a file."""

    def __init__(self, began: Path) -> None:
        self.jobs, self.began = self, began

    async def run(self, name: str, scheduled_for: datetime | None = None) -> dict[str, Any] | None:
        if name == "crash":
            os._exit(1)
        if name == "quick":
            return {"job": name, "pid": os.getpid()}
        self.began.touch()
        await asyncio.sleep(3600)
        return {"job": name}

    async def close(self) -> None:
        """Nothing to release."""


async def stuck(config: Config, clock: Any, *, migrate: bool) -> Stuck:
    """Open the runtime whose job never ends."""
    return Stuck(Path(config.zalo.files_dir) / "began")


async def test_closing_the_jobs_process_ends_the_run_going_on_and_starts_no_other(
    config: Config, tmp_path: Path
) -> None:
    config.zalo.files_dir = str(tmp_path)
    process = JobProcess(stuck, config)
    running = asyncio.create_task(process.run("leaderboard"))
    queued = asyncio.create_task(process.run("reminders"))  # waits behind it: one worker
    while not (tmp_path / "began").exists():
        await asyncio.sleep(0.05)
    process.close()
    assert await asyncio.wait_for(asyncio.gather(running, queued), timeout=120) == [None, None]
    assert await process.catch_up() == []  # closed: nothing more is run


async def test_a_jobs_process_that_dies_is_replaced_for_the_next_run(config: Config, tmp_path: Path) -> None:
    config.zalo.files_dir = str(tmp_path)
    process = JobProcess(stuck, config)
    try:
        assert await process.run("crash") is None  # its run is left to its lease and the making up
        report = await process.run("quick")
        assert report is not None and report["pid"] not in (os.getpid(), None)
    finally:
        process.close()


def _start_painter(pids: Any) -> None:
    """In a spawned process: start the chart process, say its pid, then wait to be killed."""
    from bot import painter

    pids.put(painter.started().submit(os.getpid).result())
    time.sleep(120)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie left unreaped counts as ended)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_the_chart_process_ends_when_the_process_that_started_it_is_killed() -> None:
    spawn = multiprocessing.get_context("spawn")
    pids = spawn.Queue()
    parent = spawn.Process(target=_start_painter, args=(pids,))
    parent.start()
    drawer = pids.get(timeout=120)
    assert _alive(drawer)
    parent.kill()  # as a SIGKILL of the jobs process (or the bot) does
    parent.join()
    for _ in range(100):
        if not _alive(drawer):
            break
        time.sleep(0.1)
    assert not _alive(drawer)
