"""The weekly leaderboard reaches groups and participants as a chart with each reader's own rank."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import housekeeping
from bot.config import Config
from handlers.telegram.sender import OutboxSender
from tests.conftest import Harness, register, submit
from tests.fake_telegram import Person, TelegramDriver, button

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501)
MAI = Person(502)
GROUP = -100777


async def _no_wait(_seconds: float) -> None:
    """Sleep that returns at once."""


async def test_leaderboard_goes_to_groups_and_people_with_their_rank(
    tg: TelegramDriver, harness: Harness, config: Config
) -> None:
    config.jobs.leaderboard_chats = [f"telegram:{GROUP}"]
    await register(tg, LAN, name="Nguyễn Thị Lan")
    await register(tg, MAI, name="Lê Thị Mai", unit_query="duc giang")
    await submit(tg, LAN, title="Máy cắt vải tự động bằng cảm biến")
    await submit(tg, LAN, title="Sổ tay an toàn điện cho tổ bảo trì")
    calls = await tg.text(MAI, "/reminders")
    await tg.press(MAI, button(calls, "Tắt nhắc nhở"))
    assert harness.runtime is not None
    harness.clock.now += timedelta(days=1)
    report = await harness.runtime.jobs.run("leaderboard")
    assert report is not None and report["queued"] == 2  # the group and Lan; Mai opted out
    before = len(harness.api.calls)
    sender = OutboxSender(tg.app.bot, harness.runtime.catalog, harness.runtime.delivery, sleep=_no_wait)
    await sender.drain()
    photos = [c for c in harness.api.calls[before:] if c.method == "sendPhoto"]
    to_lan = [c for c in photos if int(c.params["chat_id"]) == LAN.id]
    to_group = [c for c in photos if int(c.params["chat_id"]) == GROUP]
    assert len(to_group) == 2 and len(to_lan) == 1
    assert "thứ 1/1" in to_lan[0].text and "đơn vị của bạn thứ 1/1" in to_lan[0].text
    assert not [c for c in photos if int(c.params["chat_id"]) == MAI.id]
    charts = await harness.query("select count(*) from outbox where status = 'blob'")
    assert charts[0][0] >= 1
    await harness.runtime.jobs.report_deliveries()
    await sender.drain()  # the delivery report to the admins
    harness.clock.now += timedelta(days=31)
    removed = await housekeeping(harness.runtime)
    assert removed["blobs"] == charts[0][0] and removed["outbox"] >= 3
    assert await harness.query("select count(*) from outbox") == [(0,)]
