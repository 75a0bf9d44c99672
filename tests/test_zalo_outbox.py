"""Scheduled messages reach Zalo users through the outbox and the Zalo sender, within Zalo's quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.leaderboard import Board, Standing
from bot.leaderboard_job import board_text
from bot.messages import FileOut, Reply
from handlers.pictures import PictureLinks
from handlers.zalo.channel import SENT
from handlers.zalo.sender import ZaloSender
from tests.conftest import FakeClock, campaign
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = "zl-1001"
MINH = "zl-1002"


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
    assert "1. Nguyễn Thị Lan (Công đoàn Công ty May 10): 1 điểm" in text.text  # the chart's data as text
    assert not any(s.method == "sendPhoto" for s in zalo.fake.sent[before:])  # no public URL: text only
    zalo.channel.pictures = PictureLinks("https://sangkien.example.vn")
    clock.now += timedelta(days=7)
    await zalo.runtime.jobs.run("leaderboard")
    before = len(zalo.fake.sent)
    await sender(zalo).drain()
    [photo] = [s for s in zalo.fake.sent[before:] if s.method == "sendPhoto"]
    assert photo.params["photo"].startswith("https://sangkien.example.vn/p/")


async def test_without_a_public_url_the_leaderboard_reaches_zalo_as_the_week_the_top_list_and_the_readers_rank(
    zalo: ZaloDriver, clock: FakeClock
) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE, "1", "1")
    minh = [*REGISTRATION[:3], "Trần Văn Minh", "0987 654 321", *REGISTRATION[5:]]
    other = ["Khuôn ép nhựa thay nhanh", "tang nang suat lao dong", "1", "Thay khuôn mất 40 phút mỗi ca"]
    await zalo.say(MINH, *minh, "/new", *other, "Chốt định vị, kẹp nhanh", *CORE[6:], "1", "1")
    clock.now += timedelta(days=7)  # the weekly board counts the week before
    await zalo.runtime.jobs.run("leaderboard")
    before = len(zalo.fake.sent)
    await sender(zalo).drain()
    assert [s.method for s in zalo.fake.sent[before:]] == ["sendMessage", "sendMessage"]
    [text] = zalo.fake.texts(LAN)[-1:]
    assert text == "\n".join(
        [
            "🏆 Bảng xếp hạng tuần 25/11–02/12/2026.",
            "Tuần này: thứ 1/2.",
            "Đơn vị: thứ 1/1.",
            "Từ đầu phong trào: thứ 1/2.",
            "",
            "Phong trào 2026",
            "Cá nhân:",
            "1. Nguyễn Thị Lan (Công đoàn Công ty May 10): 1 điểm",  # as many points, reached first
            "2. Trần Văn Minh (Công đoàn Công ty May 10): 1 điểm",
            "",
            "Đơn vị:",
            "1. Công đoàn Công ty May 10: 2 điểm",
        ]
    )
    assert "Tuần này: thứ 2/2." in zalo.fake.texts(MINH)[-1]


async def test_a_long_leaderboard_text_goes_in_parts_of_2000_characters_cut_between_lines(zalo: ZaloDriver) -> None:
    long = "Công đoàn Công ty Trách nhiệm hữu hạn Một thành viên Cơ khí và Xây lắp Điện Hà Nội số"
    people = [Standing(n, n, f"Người lao động thứ {n} có tên dài", f"{long} {n}", 100 - n) for n in range(1, 21)]
    units = [Standing(n, 100 + n, f"{long} {n}", None, 500 - n) for n in range(1, 21)]
    chart = FileOut("leaderboard-c2026-week.png", b"\x89PNG", alt=board_text(Board(people, units, 20, 20), campaign()))
    zalo.fake.chats.add(LAN)
    caption = Reply("leaderboard.caption", {"week": "25/11–02/12/2026", "lines": ""}, file=chart)
    assert await zalo.channel.send(LAN, "en", [caption]) == SENT
    parts = zalo.fake.texts(LAN)
    assert len(parts) > 3 and all(len(part) <= 2000 for part in parts)
    lines = [line for part in parts for line in part.split("\n") if line]
    assert lines[:3] == ["🏆 Leaderboard for the week 25/11–02/12/2026.", "Phong trào 2026", "People:"]
    assert lines[3] == f"1. Người lao động thứ 1 có tên dài ({long} 1): 99 points"  # every line whole
    assert lines[-1] == f"20. {long} 20: 480 points" and len(lines) == 3 + 20 + 1 + 20


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
