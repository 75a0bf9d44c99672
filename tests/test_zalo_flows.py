"""Workers on Zalo: the same flows as on Telegram, menus as numbered lines, through the fake Zalo Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Config
from handlers.zalo.client import ZaloClient
from handlers.zalo.polling import poll
from tests.fake_zalo import BOT_ID, TOKEN, FakeZaloServer
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = "zl-1001"
HUNG = "zl-2002"
JPEG = b"\xff\xd8\xff\xe0" + b"anh may cat vai" * 50


async def test_a_worker_registers_on_zalo_choosing_by_number_and_by_text(zalo: ZaloDriver) -> None:
    first = await zalo.say(LAN, "/start")
    assert "1. ✅ Tiếng Việt\n2. English" in first[-1]
    assert "Gõ 1 hoặc 2 để chọn" in first[-1]
    answer = await zalo.say(LAN, *REGISTRATION[1:])
    assert "Đăng ký xong! Chào Nguyễn Thị Lan, đơn vị: Công đoàn Công ty May 10." in answer[0]
    assert "<b>" not in "".join(zalo.fake.texts(LAN))  # Telegram's markup is dropped
    rows = await zalo.query(
        "select u.channel, u.full_name, u.phone, n.code from app_user u join unit n on n.id = u.unit_id"
    )
    assert rows == [("zalo", "Nguyễn Thị Lan", "+84912345678", "MAY10")]


async def test_a_submission_with_a_photo_is_downloaded_kept_and_filed(zalo: ZaloDriver, config: Config) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE)
    answer = await zalo.deliver(LAN, zalo.fake.photo(LAN, "may.jpg", JPEG, caption="Bàn trượt mới"))
    assert "Đã nhận 1 tệp" in answer[0]
    del zalo.fake.files["may.jpg"]  # Zalo's link expires: the bot must already have the bytes
    summary = await zalo.say(LAN, "xong")
    assert "Gửi sáng kiến" in summary[-1]
    receipt = await zalo.say(LAN, "gui sang kien")
    assert any("Biên nhận sáng kiến" in text and "SK-" in text for text in receipt)
    [(kind, file_id, size, caption)] = await zalo.query("select kind, file_id, size, caption from attachment")
    assert (kind, size, caption) == ("photo", len(JPEG), "Bàn trượt mới")
    assert (Path(config.zalo.files_dir) / file_id.removeprefix("file:")).read_bytes() == JPEG
    assert await zalo.query("select status from initiative") == [("submitted",)]


async def test_a_reviewer_on_zalo_decides_from_the_numbered_menu_under_the_card(zalo: ZaloDriver) -> None:
    from bot import operator

    await zalo.say(HUNG, "/start", "1", "1", "Trần Văn Hùng", "0987 654 321", "may 10", "1")
    async with zalo.runtime.store.transaction() as tx:
        await operator.grant(tx, "0987654321", "MAY10", now=zalo.runtime.conversation.clock())
    await zalo.say(LAN, *REGISTRATION, *CORE)
    before = len(zalo.fake.texts(HUNG))
    await zalo.say(LAN, "1", "1")  # Xong, Gửi sáng kiến
    card = zalo.fake.texts(HUNG)[before:]
    assert len(card) == 1 and "Máy cắt vải tự động" in card[0]
    assert "Công nhận" in card[0] and "Gõ " in card[0], card[0]
    assert "1. ✅ Công nhận\n2. 📝 Công nhận, chấm điểm\n3. ❌ Không công nhận" in card[0]
    before_lan = len(zalo.fake.texts(LAN))
    answer = await zalo.say(HUNG, "cong nhan")  # the option's text, without diacritics
    assert answer[0].startswith("Đã công nhận sáng kiến SK-")
    assert await zalo.query("select status from initiative") == [("approved",)]
    told = zalo.fake.texts(LAN)[before_lan:]
    assert any("công nhận" in text for text in told)


async def test_unknown_events_echoes_groups_and_repeats_are_ignored(zalo: ZaloDriver) -> None:
    fake = zalo.fake
    reaction = fake.message(LAN, event="message.reaction.received")
    assert await zalo.channel.process(reaction) is False
    assert await zalo.channel.process({"event_name": "message.text.received"}) is False
    assert await zalo.channel.process(["not", "an", "update"]) is False
    echo = fake.message(BOT_ID, "Xin chào")
    assert await zalo.channel.process(echo) is False
    group = fake.message(LAN, "/start")
    group["message"]["chat"] = {"id": "g-1", "chat_type": "GROUP"}
    assert await zalo.channel.process(group) is False
    assert fake.sent == []
    start = fake.message(LAN, "/start")
    assert len(await zalo.deliver(LAN, start)) == 1
    assert await zalo.deliver(LAN, start) == []  # the same delivery again: answered once


async def test_a_telegram_only_command_gets_a_clear_answer(zalo: ZaloDriver) -> None:
    answer = await zalo.say(LAN, "/reviewgroup MAY10")
    assert "chỉ dùng được trong nhóm Telegram" in answer[0]


async def test_stickers_and_voice_get_an_answer_and_keep_the_question(zalo: ZaloDriver) -> None:
    await zalo.say(LAN, *REGISTRATION[:3])
    for event in ("message.sticker.received", "message.voice.received", "message.unsupported.received"):
        answer = await zalo.deliver(LAN, zalo.fake.message(LAN, event=event))
        assert "Họ và tên" in answer[-1]


async def test_zalo_refusing_or_limiting_a_reply_loses_nothing_committed(zalo: ZaloDriver) -> None:
    zalo.fake.quota_errors = 1
    answer = await zalo.say(LAN, "/start")
    assert "Tiếng Việt" in answer[-1]  # sent again once the pause was over
    zalo.fake.chats.discard(LAN)  # Zalo refuses the chat (ok: false with HTTP 200)
    await zalo.say(LAN, "1")
    assert await zalo.query("select reg_step from app_user") == [("consent",)]


async def test_polling_serves_queued_updates_and_idle_polls(
    config: Config, zalo_server: FakeZaloServer, zalo: ZaloDriver
) -> None:
    fake = zalo_server.fake
    client = ZaloClient(TOKEN, zalo_server.url, timeout=5)
    stop = asyncio.Event()
    task = asyncio.create_task(poll(client, zalo.channel, stop, timeout=1))
    for text in REGISTRATION[:3]:
        fake.updates.put(fake.message(LAN, text))
    for _ in range(200):
        if any("Họ và tên" in t for t in fake.texts(LAN)):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await client.close()
    assert any("Họ và tên" in t for t in fake.texts(LAN))
    assert fake.calls.count("getUpdates") >= 4  # three updates, then at least one idle poll
