"""Long polling of the Zalo Bot API: one update per call, each handed to the channel at once."""

from __future__ import annotations

import asyncio
import logging

from handlers.zalo.channel import ZaloChannel
from handlers.zalo.client import Unauthorized, ZaloClient, ZaloError

log = logging.getLogger(__name__)


async def poll(client: ZaloClient, channel: ZaloChannel, stop: asyncio.Event, *, timeout: int = 30) -> None:
    """Fetch updates until `stop` is set; each is processed in its own task (a person's in order)."""
    running: set[asyncio.Task[bool]] = set()

    def _finished(task: asyncio.Task[bool]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a Zalo update failed", exc_info=task.exception())

    pause = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(client.get_updates(timeout))
        halt = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, halt}, return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()
        if not fetch.done():
            fetch.cancel()
            break
        try:
            update = fetch.result()
        except Unauthorized:
            log.error("the Zalo token is refused (401): Zalo polling stops")
            raise
        except ZaloError as error:
            log.warning("Zalo getUpdates failed (%s); polling again in %ss", error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 60.0)
            continue
        pause = 1.0
        if update is not None:
            task = asyncio.create_task(channel.process(update))
            running.add(task)
            task.add_done_callback(_finished)
    if running:
        await asyncio.gather(*running, return_exceptions=True)
