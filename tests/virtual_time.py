"""An asyncio event loop on virtual time: sleeping jumps the clock instead of waiting.

The Bot API is faked in-process, so whenever every task is asleep the loop advances its clock
straight to the next timer. `asyncio.sleep(3600)` returns at once with `loop.time()` one hour
later; ordering and concurrency stay as in real time. The database does real work in aiosqlite's
threads: while a connection of an engine passed to `hold_time_for` is busy, the loop waits for it
in real time instead of jumping (a statement takes no virtual time, as if the disk were very fast).
Code that waits for the clock to move (aiolimiter's timers, set a float-rounding hair in the past)
cannot spin forever: after `SPIN` turns in a row with nothing to wait for, the clock moves a
microsecond.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
TICK = 1e-6  # how far the clock moves when the loop spins in place
SPIN = 1000  # turns of the loop with nothing to wait for before it does
EPOCH = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type,unused-ignore]
    """Polls real file descriptors without blocking and moves the clock by the timeout instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.busy = 0  # database connections at work in their threads
        self.idle_turns = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Return ready descriptors; if none, pretend `timeout` seconds passed (once the database is idle)."""
        if self.busy:
            events = super().select(timeout)  # a thread's answer wakes the loop
            if not events and timeout is not None:
                self.now += timeout
            return list(events)
        events = super().select(0 if timeout is not None else None)
        if events or timeout is None:
            self.idle_turns = 0
        elif timeout > 0:
            self.now += timeout
            self.idle_turns = 0
        else:
            self.idle_turns += 1
            if self.idle_turns >= SPIN:
                self.now += TICK
                self.idle_turns = 0
        return list(events)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose `time()` is virtual."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        """Virtual seconds since the loop was made."""
        return self._jumping.now

    def wall(self, epoch: datetime = EPOCH) -> datetime:
        """The virtual time as an aware datetime (`epoch` at loop time 0)."""
        return epoch + timedelta(seconds=self._jumping.now)


def hold_time_for(engine: AsyncEngine) -> None:
    """Keep the virtual clock still while a connection of `engine` is opening or checked out."""
    selector = virtual_loop()._jumping

    def more(*_args: Any) -> None:
        selector.busy += 1

    def fewer(*_args: Any) -> None:
        selector.busy -= 1

    event.listen(engine.sync_engine, "do_connect", more)  # before the driver connects (in its thread)
    event.listen(engine.sync_engine, "connect", fewer)
    event.listen(engine.sync_engine.pool, "checkout", more)
    event.listen(engine.sync_engine.pool, "checkin", fewer)


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def virtual_loop() -> VirtualTimeLoop:
    """The running loop, which must be a virtual-time one."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop)
    return loop
