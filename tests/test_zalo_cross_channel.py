"""Telegram and Zalo in one bot: a Zalo worker's submission reaches a Telegram reviewer, photo included."""

from __future__ import annotations

import pytest

from bot import operator
from tests.conftest import register
from tests.fake_telegram import Person, TelegramDriver
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

HUNG = Person(601, first_name="Hùng")
LAN = "zl-1001"
JPEG = b"\xff\xd8\xff\xe0" + b"anh ban truot" * 40


async def test_a_zalo_workers_photo_reaches_the_telegram_reviewer_as_an_upload(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    await register(tg, HUNG, name="Trần Văn Hùng")
    async with zalo.runtime.store.transaction() as tx:
        await operator.grant(tx, str(HUNG.id), "MAY10", now=zalo.runtime.conversation.clock())
    zalo.with_telegram(tg.app.bot)  # as in one process
    await zalo.say(LAN, *REGISTRATION, *CORE)
    await zalo.deliver(LAN, zalo.fake.photo(LAN, "ban.jpg", JPEG, caption="Bàn trượt"))
    before = len(tg.api.calls)
    await zalo.say(LAN, "xong", "gui sang kien")
    calls = [c for c in tg.api.calls[before:] if int(c.params.get("chat_id", 0)) == HUNG.id]
    assert any("Máy cắt vải tự động" in c.text for c in calls if c.method == "sendMessage")
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    assert photo.files["photo"][1] == JPEG and photo.params["caption"] == "Bàn trượt"
