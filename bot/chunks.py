"""Deleting old rows a chunk per transaction, so updates are handled in between (SQLite has one writer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.ports import Store, Tx

CHUNK = 1000  # rows deleted per write transaction (a few ms of holding the lock)


async def delete_in_chunks(store: Store, remove: Callable[[Tx, int], Awaitable[int]], chunk: int = CHUNK) -> int:
    """Call `remove(tx, chunk)` in one transaction after another until it removes fewer; how many in all."""
    removed = 0
    while True:
        async with store.transaction() as tx:
            done = await remove(tx, chunk)
        removed += done
        if done < chunk:
            return removed
        await asyncio.sleep(0)  # let updates and the sender in between chunks
