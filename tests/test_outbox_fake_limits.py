"""The limit-enforcing fake Bot API itself: it refuses exactly what Telegram's limits forbid."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from handlers.telegram.api import make_bot
from tests.limited_api import LimitedBotApi
from tests.virtual_time import run_virtual


async def _bot(api: LimitedBotApi) -> Bot:
    bot = make_bot("123456:TEST", request=api)
    await bot.initialize()
    return bot


async def _refused_after(bot: Bot, chat_id: int) -> float:
    """Send once, expecting flood control; return its retry_after."""
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(chat_id, "x")
    value = refused.value._retry_after  # PTB keeps the timedelta here
    return value.total_seconds()


def test_the_31st_message_within_a_second_is_refused_for_one_second() -> None:
    async def main() -> None:
        api = LimitedBotApi()
        bot = await _bot(api)
        for chat in range(1, 31):
            await bot.send_message(chat, "x")
        assert await _refused_after(bot, 31) == 1
        await asyncio.sleep(1)
        await bot.send_message(31, "x")
        assert api.floods == 1 and api.audit().clean

    run_virtual(main())


def test_a_second_message_to_one_person_within_a_second_is_refused() -> None:
    async def main() -> None:
        api = LimitedBotApi()
        bot = await _bot(api)
        await bot.send_message(5, "x")
        await asyncio.sleep(0.5)
        assert await _refused_after(bot, 5) == 1
        await asyncio.sleep(0.5)
        await bot.send_message(5, "x")
        assert api.per_chat[5] == 2 and api.audit().private_breaks == 0

    run_virtual(main())


def test_the_21st_message_to_a_group_within_a_minute_is_refused() -> None:
    async def main() -> None:
        api = LimitedBotApi()
        bot = await _bot(api)
        for _ in range(20):
            await bot.send_message(-100, "x")
            await asyncio.sleep(1)
        assert await _refused_after(bot, -100) == 40
        await asyncio.sleep(40)
        await bot.send_message(-100, "x")
        assert api.audit().group_breaks == 0

    run_virtual(main())


def test_the_audit_finds_every_kind_of_break_in_a_log() -> None:
    api = LimitedBotApi()
    for moment, chat in [(0.0, 1), (0.5, 1)] + [(1.0 + i / 100, -5) for i in range(21)]:
        api.times.append(moment)
        api.chats.append(chat)
    api.times.extend(2.0 + i / 1000 for i in range(31))
    api.chats.extend(range(100, 131))
    verdict = api.audit()
    assert (verdict.private_breaks, verdict.group_breaks) == (1, 1)
    assert verdict.overall_breaks > 0 and not verdict.clean
