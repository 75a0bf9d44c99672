"""Telegram's sending limits as sliding windows: 30 messages/s overall, 1/s per private chat,
20/min per group; the clock and the sleep are injected so benchmarks can run on virtual time."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How many messages may go out in what period (seconds), overall and per chat."""

    overall: int = 30
    overall_period: float = 1.0
    private: int = 1
    private_period: float = 1.0
    group: int = 20
    group_period: float = 60.0


class Window:
    """At most `limit` events in any `period`: keeps the last `limit` event times."""

    __slots__ = ("held_until", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.times: deque[float] = deque(maxlen=limit)
        self.period = period
        self.held_until = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one more event is allowed (0 when it is allowed now)."""
        wait = self.held_until - now
        if self.times and len(self.times) == self.times.maxlen:
            wait = max(wait, self.times[0] + self.period - now)
        return max(wait, 0.0)

    def idle(self, now: float) -> bool:
        """True when forgetting this window changes nothing."""
        return self.held_until <= now and (not self.times or self.times[-1] + self.period <= now)


def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username); people positive ones."""
    return isinstance(chat_id, str) or chat_id < 0


class RateLimiter:
    """Hands out permission to send, so no sliding window of Telegram's limits is ever exceeded."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self.overall = Window(self.limits.overall, self.limits.overall_period)
        self.chats: OrderedDict[int | str, Window] = OrderedDict()

    def now(self) -> float:
        """Monotonic seconds: the injected clock, else the event loop's."""
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def _chat(self, chat_id: int | str) -> Window:
        """The window of one chat, kept in order of last use."""
        window = self.chats.get(chat_id)
        if window is None:
            limits = self.limits
            window = (
                Window(limits.group, limits.group_period)
                if is_group(chat_id)
                else Window(limits.private, limits.private_period)
            )
            self.chats[chat_id] = window
        self.chats.move_to_end(chat_id)
        return window

    def _forget_idle(self, now: float) -> None:
        """Drop chat windows that no longer restrict anything (oldest use first)."""
        while self.chats:
            oldest = next(iter(self.chats.values()))
            if not oldest.idle(now):
                break
            self.chats.popitem(last=False)

    def chat_wait(self, chat_id: int | str) -> float:
        """Seconds before this chat's own limit (or a hold on it) lets a message through."""
        window = self.chats.get(chat_id)
        return window.wait(self.now()) if window is not None else 0.0

    async def acquire(self, chat_id: int | str) -> None:
        """Wait until a message to `chat_id` may go out, and count it as sent now."""
        while True:
            now = self.now()
            chat = self._chat(chat_id)
            delay = max(self.overall.wait(now), chat.wait(now))
            if delay <= 0:
                self.overall.times.append(now)
                chat.times.append(now)
                self._forget_idle(now)
                return
            await self._sleep(delay)

    def hold(self, chat_id: int | str, seconds: float) -> None:
        """Telegram said 429 with `retry_after`: nothing more to this chat for `seconds`; for a
        private chat (whose own limit we keep) it was the overall limit, so everyone waits."""
        until = self.now() + seconds
        chat = self._chat(chat_id)
        chat.held_until = max(chat.held_until, until)
        if not is_group(chat_id):
            self.overall.held_until = max(self.overall.held_until, until)
