"""A person with Telegram and Zalo linked gets notices in the app they used last, or in the other
one when that app refuses the bot."""

from __future__ import annotations

import pytest

from tests.fake_telegram import Call, TelegramDriver, button, texts
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, sent_to, submit_as
from tests.zalo_support import ZaloDriver, code_on_telegram, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN_ZALO = "zl-501"
CONGRATULATION = "Chúc mừng"


async def linked_author(tg: TelegramDriver, zalo: ZaloDriver) -> Call:
    """Lan submits on Telegram and links her Zalo; the card her reviewer gets."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    [card] = cards(await submit_as(tg, WORKER), REVIEWER)
    zalo.with_telegram(tg.app.bot)  # as in one process
    answer = await zalo.say(LAN_ZALO, f"/link {await code_on_telegram(tg, WORKER)}")
    assert "Đã liên kết" in answer[0]
    return card


async def last_channel(zalo: ZaloDriver) -> str:
    [(channel,)] = await zalo.query("select last_channel from app_user where external_id = '501'")
    return str(channel)


async def test_a_decision_reaches_the_author_in_the_app_she_wrote_from_last(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    card = await linked_author(tg, zalo)
    await zalo.say(LAN_ZALO, "/my")  # she uses Zalo now
    before = len(zalo.fake.texts(LAN_ZALO))
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    await zalo.sender.drain()
    assert sent_to(calls, WORKER) == []  # not on Telegram
    told = zalo.fake.texts(LAN_ZALO)[before:]
    assert len(told) == 1 and CONGRATULATION in told[0] and "SK-2026-000001" in told[0]
    assert await last_channel(zalo) == "zalo"


async def test_back_on_telegram_her_notices_follow_her_there(tg: TelegramDriver, zalo: ZaloDriver) -> None:
    card = await linked_author(tg, zalo)
    await zalo.say(LAN_ZALO, "/my")
    await tg.text(WORKER, "/my")  # and back to Telegram
    before = len(zalo.fake.texts(LAN_ZALO))
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    await zalo.sender.drain()
    assert any(CONGRATULATION in text for text in texts(sent_to(calls, WORKER)))
    assert zalo.fake.texts(LAN_ZALO)[before:] == []
    assert await last_channel(zalo) == "telegram"


async def test_when_zalo_refuses_the_bot_the_notice_goes_to_telegram_and_later_ones_too(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    card = await linked_author(tg, zalo)
    await zalo.say(LAN_ZALO, "/my")
    zalo.fake.blocked.add(LAN_ZALO)  # she blocked the bot on Zalo
    before = len(tg.api.calls)
    await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    await zalo.sender.drain()  # refused: sent on to her Telegram
    assert zalo.telegram is not None
    await zalo.telegram.drain()
    told = texts(sent_to(tg.api.calls[before:], WORKER))
    assert len(told) == 1 and CONGRATULATION in told[0]
    rows = await zalo.query("select chat, status from outbox where key like 'notice:telegram:%' order by id")
    assert ("zalo:zl-501", "blocked") in rows  # tried on Zalo first, where she wrote last
    assert await last_channel(zalo) == "telegram"  # later notices go to Telegram directly
    assert await zalo.query("select blocked_at is null from app_user where external_id = '501'") == [(True,)]
