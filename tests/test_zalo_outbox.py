"""Scheduled messages reach Zalo users through the outbox and the Zalo sender, within Zalo's quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.pictures import PictureLinks
from handlers.zalo.sender import ZaloSender
from tests.conftest import FakeClock
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = "zl-1001"


def sender(zalo: ZaloDriver) -> ZaloSender:
    """The Zalo outbox sender, unpaced (the tests measure no time)."""
    return ZaloSender(zalo.channel, zalo.runtime.delivery, per_second=1e6)


async def outbox_status(zalo: ZaloDriver) -> list[tuple[str, str]]:
    return [(c, s) for c, s in await zalo.query("select chat, status from outbox order by id")]


async def test_a_draft_reminder_reaches_zalo_and_its_numbered_option_resumes_the_draft(
    zalo: ZaloDriver, clock: FakeClock
) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE[:4])  # a draft at step 4
    clock.now += timedelta(hours=25)
    report = await zalo.runtime.jobs.run("reminders")
    assert report is not None and report["queued"] == 1
    before = len(zalo.fake.texts(LAN))
    stats = await sender(zalo).drain()
    assert stats["sent"] == 1
    [reminder] = zalo.fake.texts(LAN)[before:]
    assert "Bạn còn một sáng kiến chưa gửi xong (“Máy cắt vải tự động”, đang ở bước 4/" in reminder
    assert "1. " in reminder and "Gõ " in reminder
    assert await outbox_status(zalo) == [(f"zalo:{LAN}", "sent")]
    answer = await zalo.say(LAN, "1")
    assert "Hiện trạng" in answer[-1] or "vấn đề" in answer[-1].lower()


async def test_the_leaderboard_reaches_zalo_as_text_and_with_a_picture_link_when_served(
    zalo: ZaloDriver, clock: FakeClock
) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE, "1", "1")
    clock.now += timedelta(days=7)  # the weekly board counts the week before
    await zalo.runtime.jobs.run("leaderboard")
    before = len(zalo.fake.sent)
    await sender(zalo).drain()
    [text] = [s for s in zalo.fake.sent[before:] if s.method == "sendMessage"]
    assert "Bảng xếp hạng tuần" in text.text and "Tuần này: thứ 1/1." in text.text
    assert not any(s.method == "sendPhoto" for s in zalo.fake.sent[before:])  # no public URL: text only
    zalo.channel.pictures = PictureLinks("https://sangkien.example.vn")
    clock.now += timedelta(days=7)
    await zalo.runtime.jobs.run("leaderboard")
    before = len(zalo.fake.sent)
    await sender(zalo).drain()
    [photo] = [s for s in zalo.fake.sent[before:] if s.method == "sendPhoto"]
    assert photo.params["photo"].startswith("https://sangkien.example.vn/p/")


async def test_a_quota_error_stops_the_zalo_drain_and_the_message_waits(zalo: ZaloDriver, clock: FakeClock) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE[:4])
    clock.now += timedelta(hours=25)
    await zalo.runtime.jobs.run("reminders")
    zalo.fake.quota_errors = 3  # every try of this drain
    stats = await sender(zalo).drain()
    assert stats["quota"] == 1 and stats["sent"] == 0
    assert await outbox_status(zalo) == [(f"zalo:{LAN}", "pending")]


async def test_a_zalo_chat_that_refuses_the_bot_is_marked_and_not_retried(zalo: ZaloDriver, clock: FakeClock) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE[:4])
    clock.now += timedelta(hours=25)
    await zalo.runtime.jobs.run("reminders")
    zalo.fake.chats.discard(LAN)  # Zalo answers ok: false, 400
    stats = await sender(zalo).drain()
    assert stats["failed"] == 1
    assert await outbox_status(zalo) == [(f"zalo:{LAN}", "failed")]
