"""The bot's Zalo channel on a fresh database, talking HTTP to the fake Zalo Bot API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime, open_runtime, telegram_sender, zalo_channel
from bot.config import Config
from handlers.telegram.limiter import RateLimiter
from handlers.telegram.sender import OutboxSender
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.client import ZaloClient
from handlers.zalo.sender import ZaloSender
from tests.conftest import UNPACED, FakeClock, as_text
from tests.fake_telegram import Person, TelegramDriver, texts
from tests.fake_zalo import BOT_ID, TOKEN, FakeZalo, FakeZaloServer

REGISTRATION = ["/start", "1", "dong y", "Nguyễn Thị Lan", "0912 345 678", "cong ty may", "1"]
CORE = [
    "/new",
    "Máy cắt vải tự động",
    "tang nang suat lao dong",  # the category, typed without diacritics
    "1",  # Giải pháp kỹ thuật
    "Cắt thủ công, chậm và lệch đường may",
    "Gắn cảm biến quang và bàn trượt",
    "Năng suất tăng 20 %",
    "50 triệu",
    "01/02/2026",
    "bỏ qua",
    "Bo qua",
    "2",  # Bỏ qua
]


class ZaloDriver:
    """Sends updates as Zalo would and reads what the bot sent back, by chat."""

    def __init__(self, runtime: Runtime, channel: ZaloChannel, fake: FakeZalo, sender: ZaloSender) -> None:
        self.runtime = runtime
        self.channel = channel
        self.fake = fake
        self.sender = sender  # drained after each update, as the commit's wake does in production
        self.telegram: OutboxSender | None = None

    def with_telegram(self, bot: Any) -> None:
        """Telegram in the same process: its sender sends the outbox's Telegram rows after each update."""
        self.telegram = telegram_sender(self.runtime, bot, wake=False, limiter=RateLimiter(UNPACED))

    async def deliver(self, user: str, body: dict[str, Any]) -> list[str]:
        """Hand one update to the channel, then send what it told others (the outbox); the texts sent
        to `user`'s chat because of it."""
        before = len(self.fake.texts(user))
        await self.channel.process(body)
        await self.sender.drain()
        if self.telegram is not None:
            await self.telegram.drain()
        return self.fake.texts(user)[before:]

    async def say(self, user: str, *texts: str) -> list[str]:
        """Send texts one after another; what the bot answered to the last one."""
        answer: list[str] = []
        for text in texts:
            answer = await self.deliver(user, self.fake.message(user, text))
        return answer

    async def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Read the database directly, as an auditor would."""
        from sqlalchemy import text

        async with self.runtime.store.transaction() as tx:
            return [tuple(map(as_text, r)) for r in (await tx.conn.execute(text(sql), params)).all()]


@pytest.fixture
def zalo_server() -> Iterator[FakeZaloServer]:
    """A fake Zalo Bot API on 127.0.0.1."""
    server = FakeZaloServer().start()
    yield server
    server.stop()


async def code_on_telegram(tg: TelegramDriver, person: Person) -> str:
    """/link on Telegram; the code it shows."""
    shown = " ".join(texts(await tg.text(person, "/link")))
    found = re.search(r"\b(\d{6})\b", shown)
    assert found is not None, shown
    assert "10 phút" in shown
    return found.group(1)


@asynccontextmanager
async def zalo_process(config: Config, clock: FakeClock, server: FakeZaloServer) -> AsyncIterator[ZaloDriver]:
    """One bot process serving Zalo on the configured database (a test may start a second one)."""
    runtime = await open_runtime(config, clock, migrate=False)
    client = ZaloClient(TOKEN, server.url, timeout=5, max_backoff=0.01)
    channel = zalo_channel(runtime, client, bot_id=BOT_ID)
    try:
        yield ZaloDriver(runtime, channel, server.fake, ZaloSender(channel, runtime.delivery, per_second=1000))
    finally:
        await client.close()
        await runtime.close()


@pytest.fixture
async def zalo(
    config: Config, clock: FakeClock, zalo_server: FakeZaloServer, tmp_path: Path
) -> AsyncIterator[ZaloDriver]:
    """The bot's Zalo channel on a fresh database."""
    config.zalo.token, config.zalo.base_url = TOKEN, zalo_server.url
    config.zalo.files_dir = str(tmp_path / "files")
    async with zalo_process(config, clock, zalo_server) as driver:
        yield driver
