"""Shared setup of the outbox tests: a store, a delivery and a sender on virtual time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from telegram.request import BaseRequest, RequestData

from bot.delivery import Delivery, OutboxItem, QuietHours
from bot.domain import UserRef
from bot.i18n import Catalog
from bot.messages import Button, Notice, Reply, rows
from handlers.telegram.api import make_bot
from handlers.telegram.limiter import RateLimiter
from handlers.telegram.sender import OutboxSender
from storage.engine import Database
from storage.store import SqlStore
from tests.fake_telegram import FakeBotApi
from tests.virtual_time import EPOCH, hold_time_for, virtual_loop

CATALOG = {
    "vi": '[t]\nhello = "Chào {name}, bạn đứng thứ {rank}"\nchart = "Bảng xếp hạng: bạn thứ {rank}"\ngo = "Tiếp tục"\n',
    "en": '[t]\nhello = "Hi {name}, you are number {rank}"\nchart = "Leaderboard: you are {rank}"\ngo = "Continue"\n',
}


def tiny_catalog(directory: Path) -> Catalog:
    """A tiny catalogue with the keys these tests send."""
    for lang, body in CATALOG.items():
        (directory / f"{lang}.toml").write_text(body, encoding="utf-8")
    return Catalog(directory)


def hello(name: str = "Lan", rank: int = 1) -> Reply:
    """A text message with one button."""
    return Reply("t.hello", {"name": name, "rank": rank}, rows(Button("t.go", "v1:go")))


class TimedApi(FakeBotApi):
    """The fake Bot API, also noting when (virtual time) each call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.crash_after: int | None = None
        self.crash_after_accepting = False

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Record the call; when told, let the process 'die' before (or just after) the Nth send."""
        if self.crash_after is not None and len(self.sends()) >= self.crash_after:
            if self.crash_after_accepting:
                await super().do_request(url, method, request_data, *args, **kwargs)
            raise Crash
        self.times.append(asyncio.get_running_loop().time())
        return await super().do_request(url, method, request_data, *args, **kwargs)

    def sends(self, method: str = "sendMessage") -> list[Any]:
        """The calls of one method."""
        return [c for c in self.calls if c.method == method]


class Crash(BaseException):
    """The process dies here."""


@dataclass
class Outbox:
    """A store, a delivery and a sender on one database and one virtual clock."""

    store: SqlStore
    delivery: Delivery
    sender: OutboxSender
    api: BaseRequest
    epoch: datetime

    def now(self) -> datetime:
        """The virtual wall-clock time."""
        return virtual_loop().wall(self.epoch)

    async def users(self, *external_ids: int) -> dict[int, int]:
        """Create people on Telegram; return their ids by Telegram id."""
        ids = {}
        async with self.store.transaction() as tx:
            for external in external_ids:
                user = await tx.create_user(UserRef("telegram", str(external)), locale="vi", now=self.now())
                ids[external] = user.id
        return ids

    async def job_run(self, job: str = "leaderboard") -> int:
        """A job run row the outbox rows can belong to."""
        async with self.store.transaction() as tx:
            await tx.conn.execute(
                text("insert into job_run (job, scheduled_for, started_at) values (:job, :at, :at)"),
                {"job": job, "at": self.now()},
            )
            return int((await tx.conn.execute(text("select max(id) from job_run"))).scalar_one())

    async def enqueue(
        self, notices: list[Notice], *, prefix: str = "run1", run: int | None = None, quiet: QuietHours | None = None
    ) -> Any:
        """Enqueue notices in one transaction."""
        async with self.store.transaction() as tx:
            return await self.delivery.enqueue_notices(tx, notices, job_run_id=run, key_prefix=prefix, quiet=quiet)

    async def rows(self, columns: str = "chat, status, attempts") -> list[tuple[Any, ...]]:
        """Outbox rows (not shared files), by id."""
        async with self.store.transaction() as tx:
            result = await tx.conn.execute(text(f"select {columns} from outbox where status != 'blob' order by id"))
            return [tuple(r) for r in result.all()]

    async def due(self) -> list[OutboxItem]:
        """What is due now."""
        return await self.delivery.next_batch(1000)

    async def close(self) -> None:
        """Shut the bot and the database."""
        await self.sender.bot.shutdown()
        await self.store.close()


async def open_outbox(
    db_url: str,
    catalog: Catalog,
    api: BaseRequest | None = None,
    *,
    epoch: datetime = EPOCH,
    limiter: RateLimiter | None = None,
    **sender_options: Any,
) -> Outbox:
    """Open the database and build the delivery and the sender (a new 'process')."""
    api = api or TimedApi()
    store = SqlStore(Database(db_url))
    hold_time_for(store.database.engine)
    loop = virtual_loop()
    delivery = Delivery(store, lambda: loop.wall(epoch))
    bot = make_bot("123456:TEST", request=api)
    await bot.initialize()
    sender = OutboxSender(bot, catalog, delivery, limiter, **sender_options)
    return Outbox(store, delivery, sender, api, epoch)


def notice(chat_id: int, *replies: Reply) -> Notice:
    """A notice to a Telegram chat."""
    return Notice(f"telegram:{chat_id}", "vi", replies or (hello(),))
