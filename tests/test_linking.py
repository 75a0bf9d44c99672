"""One person on Telegram and Zalo: a one-time code shown in one app and typed in the other."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from bot.domain import UserRef
from tests.conftest import FakeClock, register, submit
from tests.fake_telegram import Person, TelegramDriver, texts
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, code_on_telegram, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = Person(501)
LAN_ZALO = "zl-501"
OTHER_ZALO = "zl-777"


async def test_a_code_shown_on_telegram_and_typed_on_zalo_shares_initiatives(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    await register(tg, LAN)
    receipt = " ".join(texts(await submit(tg, LAN)))
    code = re.search(r"SK-\d{4}-\d{6}", receipt)
    assert code is not None
    linking = await code_on_telegram(tg, LAN)
    zalo.with_telegram(tg.app.bot)  # as in one process
    before = len(tg.api.calls)
    answer = await zalo.say(LAN_ZALO, f"/link {linking}")
    assert "Đã liên kết" in answer[0] and "Nguyễn Thị Lan" in answer[0]
    told = texts(tg.api.calls[before:])
    assert any("Zalo" in text and "liên kết" in text for text in told)  # the Telegram side is told
    listing = await zalo.say(LAN_ZALO, "/my")
    assert code.group(0) in listing[0] and "Máy cắt vải tự động" in listing[0]
    rows = await zalo.query("select channel, external_id from account_link")
    assert rows == [("zalo", LAN_ZALO)]
    assert await zalo.say(OTHER_ZALO, f"/link {linking}") != []  # used once: now a wrong code
    assert await zalo.query("select count(*) from account_link") == [(1,)]


async def test_five_wrong_codes_lock_linking_for_an_hour(
    tg: TelegramDriver, zalo: ZaloDriver, clock: FakeClock
) -> None:
    await register(tg, LAN)
    for left in (4, 3, 2, 1):
        answer = await zalo.say(LAN_ZALO, "/link 000000")
        assert f"còn {left} lần" in answer[0]
    assert "tạm khoá" in (await zalo.say(LAN_ZALO, "/link 000001"))[0]
    right = await code_on_telegram(tg, LAN)
    assert "tạm khoá" in (await zalo.say(LAN_ZALO, f"/link {right}"))[0]
    clock.now += timedelta(minutes=61)
    right = await code_on_telegram(tg, LAN)
    assert "Đã liên kết" in (await zalo.say(LAN_ZALO, f"/link {right}"))[0]


async def test_an_expired_code_is_refused(tg: TelegramDriver, zalo: ZaloDriver, clock: FakeClock) -> None:
    await register(tg, LAN)
    code = await code_on_telegram(tg, LAN)
    clock.now += timedelta(minutes=11)
    assert "Mã không đúng hoặc đã hết hạn" in (await zalo.say(LAN_ZALO, f"/link {code}"))[0]
    assert await zalo.query("select count(*) from account_link") == [(0,)]


async def test_two_accounts_holding_initiatives_drafts_and_rights_become_one_person(
    tg: TelegramDriver, zalo: ZaloDriver, clock: FakeClock
) -> None:
    await register(tg, LAN)
    await submit(tg, LAN)  # SK-2026-000001, on Telegram
    await tg.text(LAN, "/new")
    await tg.text(LAN, "Bản nháp Telegram")
    await zalo.say(LAN_ZALO, *REGISTRATION, *CORE, "1", "1")  # SK-2026-000002, on Zalo
    [(zalo_id, unit_id)] = await zalo.query(f"select id, unit_id from app_user where external_id = '{LAN_ZALO}'")
    async with zalo.runtime.store.transaction() as tx:
        await tx.grant(int(zalo_id), int(unit_id), by=None, now=clock())
    await zalo.say(LAN_ZALO, "/reminders", "tat nhac nho")
    clock.now += timedelta(minutes=5)
    await zalo.say(LAN_ZALO, "/new", "Bản nháp Zalo")  # the newer draft
    code = await code_on_telegram(tg, LAN)
    answer = await zalo.say(LAN_ZALO, f"/link {code}")
    assert "Đã liên kết" in answer[0]
    assert "1 sáng kiến đã gửi và 1 quyền xét duyệt" in answer[0]
    assert "đã giữ bản sửa gần đây hơn “Bản nháp Zalo” và bỏ bản “Bản nháp Telegram”" in answer[0]
    rows = await zalo.query(
        "select i.code, i.status, i.title, u.channel from initiative i join app_user u on u.id = i.author_id"
        " order by i.id"
    )
    assert [(code, status, channel) for code, status, _, channel in rows] == [
        ("SK-2026-000001", "submitted", "telegram"),
        ("SK-2026-000002", "submitted", "telegram"),
        (None, "draft", "telegram"),
    ]
    assert rows[2][2] == "Bản nháp Zalo"
    rights = await zalo.query(
        "select u.channel from reviewer r join app_user u on u.id = r.user_id where r.revoked_at is null"
    )
    assert rights == [("telegram",)]
    assert await zalo.query("select reminders_off from app_user where channel = 'telegram'") == [(True,)]
    listing = " ".join(await zalo.say(LAN_ZALO, "/my"))
    assert "Bản nháp Zalo" in listing and "SK-2026-000002" in listing
    assert "Sáng kiến của bạn</b> (2)" in texts(await tg.text(LAN, "/my"))[0]  # on Telegram too


async def test_linking_two_accounts_of_the_same_app_is_refused(tg: TelegramDriver) -> None:
    await register(tg, LAN)
    code = await code_on_telegram(tg, LAN)
    answer = texts(await tg.text(Person(502), f"/link {code}"))
    assert "cùng một ứng dụng" in answer[0]


async def test_a_message_from_the_linked_app_waits_while_the_person_is_locked_by_another_update(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    """One person's updates are handled one at a time whichever app they come from: while another
    transaction holds Lan's row (an update of hers from Telegram, maybe in another process), her
    message on the linked Zalo account waits for it, then is answered."""
    await register(tg, LAN)
    linking = await code_on_telegram(tg, LAN)
    await zalo.say(LAN_ZALO, f"/link {linking}")
    async with zalo.runtime.store.transaction() as tx:
        await tx.user_by_ref(UserRef("telegram", str(LAN.id)), for_update=True)
        answer = asyncio.create_task(zalo.say(LAN_ZALO, "/my"))
        await asyncio.sleep(0.5)
        assert not answer.done()
    assert await answer
