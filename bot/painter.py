"""Charts drawn in a worker process, so matplotlib never runs on the bot's event loop or in its heap.

A thread was not enough: drawing holds the GIL for long stretches and leaves tens of thousands of
objects in reference cycles, whose collection then paused the event loop for a quarter of a second.
The process is started on the first chart (spawned: the bot has threads) at a lower priority, and
kept for the next ones; matplotlib is imported only there.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from bot.leaderboard import Board
from bot.orphans import exit_with_parent

_pool: ProcessPoolExecutor | None = None


def draw(board: Board, labels: dict[str, str]) -> bytes:
    """Draw a board as PNG bytes (runs in the worker process)."""
    from bot.charts import render_board

    return render_board(board, **labels)


def _lower_priority() -> None:
    """In the worker: yield the CPU to the bot's event loop whenever both want it; end with the bot."""
    os.nice(10)
    exit_with_parent()


def started() -> ProcessPoolExecutor:
    """The drawing process, started on first use (call it in a thread: starting a process takes a while)."""
    global _pool
    if _pool is None:
        spawn = multiprocessing.get_context("spawn")
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_lower_priority)
        _pool.submit(int).result()  # the process starts on the first task
    return _pool


async def paint(board: Board, **labels: str) -> bytes:
    """Draw a board in the worker process; the event loop waits without working."""
    pool = _pool or await asyncio.to_thread(started)
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(draw, board, labels))
