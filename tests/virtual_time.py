"""An asyncio event loop on virtual time: sleeping jumps the clock instead of waiting.

Nothing here does real I/O (the Bot API is faked in-process, SQLite runs inline), so whenever every
task is asleep the loop advances its clock straight to the next timer. `asyncio.sleep(3600)` returns
at once with `loop.time()` one hour later; ordering and concurrency stay as in real time. Each turn
of the loop also costs one microsecond, so code that waits for the clock to move (aiolimiter's
timers, set a float-rounding hair in the past) cannot spin forever.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")
TICK = 1e-6  # each turn of the loop costs a microsecond, as real work would (no spinning in place)
EPOCH = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type,unused-ignore]
    """Polls real file descriptors without blocking and moves the clock by the timeout instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Return ready descriptors; if none, pretend `timeout` seconds passed."""
        events = super().select(0 if timeout is not None else None)
        if not events and timeout is not None:
            self.now += max(timeout, TICK)
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
