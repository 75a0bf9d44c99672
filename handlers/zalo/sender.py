"""Send the outbox's Zalo messages (reminders, digests, leaderboards) within Zalo's limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from bot.delivery import Delivery
from handlers.zalo.channel import BLOCKED, QUOTA, SENT, ZaloChannel
from handlers.zalo.inbound import CHANNEL

log = logging.getLogger(__name__)


class ZaloSender:
    """Drains the Zalo rows of the outbox one by one, at most `per_second`; a quota error (429)
    ends the drain and leaves the row for a later try, so only Zalo waits (Telegram's sender is apart)."""

    def __init__(
        self,
        channel: ZaloChannel,
        delivery: Delivery,
        *,
        per_second: float = 10.0,
        batch: int = 100,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.delivery = delivery
        self.gap = 1.0 / per_second
        self.batch = batch
        self.sleep = sleep
        self.clock = clock
        self.next_at = 0.0
        self.stopping = False
        self._lock = asyncio.Lock()  # one drain at a time: the poll's and the one a commit woke
        self._again = False
        self._woken: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Messages were just committed: send them now rather than at the next poll."""
        self._again = True
        if self._woken is None or self._woken.done():
            self._woken = asyncio.get_running_loop().create_task(self._drain_while_woken())

    async def _drain_while_woken(self) -> None:
        """Drain until no wake came during the last drain."""
        while self._again and not self.stopping:
            self._again = False
            try:
                await self.drain()
            except Exception:
                log.exception("the Zalo outbox drain failed")

    def stop(self) -> None:
        """Take no new message (the one in hand is finished and marked)."""
        self.stopping = True

    async def _pace(self) -> None:
        """Keep to `per_second` over all chats."""
        wait = self.next_at - self.clock()
        if wait > 0:
            await self.sleep(wait)
        self.next_at = max(self.next_at, self.clock()) + self.gap

    async def drain(self) -> Counter[str]:
        """Send what is due, oldest first, until nothing is left or Zalo's quota is used up."""
        async with self._lock:
            return await self._drain()

    async def _drain(self) -> Counter[str]:
        """The drain itself (under the lock)."""
        stats: Counter[str] = Counter()
        tried: list[int] = []
        while not self.stopping:
            items = await self.delivery.next_batch(self.batch, exclude=tried, channel=CHANNEL)
            if not items:
                return stats
            for item in items:
                if self.stopping:
                    return stats
                tried.append(item.id)
                try:
                    replies = [r for r in await self.delivery.replies(item) if not r.edit]
                except Exception as exc:  # a payload that cannot be read back
                    log.exception("outbox item %s cannot be rendered", item.id)
                    await self.delivery.failed(item.id, f"render: {exc!r}", item.attempts, permanent=True)
                    stats["failed"] += 1
                    continue
                if not replies:  # Zalo cannot edit a message: an edit is done by sending nothing
                    await self.delivery.sent(item.id)
                    stats["edit"] += 1
                    continue
                await self._pace()
                result = await self.channel.send(item.chat.partition(":")[2], item.locale, replies)
                stats[result] += 1
                if result == SENT:  # a card's numbered decisions are what a number means there next
                    menu = self.channel.numbering.offered(item.locale, replies)
                    await self.delivery.sent(item.id, chat=item.chat, menu=menu)
                elif result == BLOCKED:
                    await self.delivery.blocked(item.id, item.user_id)
                elif result == QUOTA:
                    await self.delivery.failed(item.id, "Zalo quota exceeded", item.attempts)
                    return stats
                else:
                    await self.delivery.failed(item.id, "refused by Zalo", item.attempts, permanent=True)
        return stats
