"""The weekly leaderboard reaches groups and participants as a chart with each reader's own rank."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import charts, leaderboard_job
from bot.app import housekeeping
from bot.config import Config
from bot.leaderboard import Board
from handlers.telegram.sender import OutboxSender
from tests.conftest import ADMIN_ID, Harness, register, submit
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
    await tg.press(MAI, button(calls, "Tắt bảng xếp hạng"))  # reminders stay on: only the board is off
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
    assert to_lan[0].text == (
        "🏆 Bảng xếp hạng tuần 19/11–26/11/2026.\nTuần này: thứ 1/1.\nĐơn vị: thứ 1/1.\nTừ đầu phong trào: thứ 1/1."
    )
    assert not [c for c in photos if int(c.params["chat_id"]) == MAI.id]
    charts = await harness.query("select count(*) from outbox where status = 'blob'")
    assert charts[0][0] >= 1
    await harness.runtime.jobs.report_deliveries()
    await sender.drain()  # the delivery report to the admins
    harness.clock.now += timedelta(days=31)
    removed = await housekeeping(harness.runtime)
    assert removed["blobs"] == charts[0][0] and removed["outbox"] >= 3
    assert await harness.query("select count(*) from outbox") == [(0,)]


async def test_only_ranks_a_reader_holds_are_shown_and_only_workers_are_urged_to_submit(
    tg: TelegramDriver, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles: list[str] = []
    real = leaderboard_job.paint  # charts are drawn in a worker process: the titles are seen as they go there

    async def paint(board: Board, **labels: str) -> bytes:
        titles.append(labels["title"])
        return await real(board, **labels)

    monkeypatch.setattr(leaderboard_job, "paint", paint)
    admin, reviewer = Person(ADMIN_ID), Person(601, username="hung")
    await register(tg, admin, name="Quản Trị", unit_query="dien co")
    await register(tg, reviewer, name="Trần Văn Hùng")
    calls = await tg.text(admin, "/grant @hung")
    await tg.press(admin, button(calls, "May 10"))
    await register(tg, LAN, name="Nguyễn Thị Lan")
    await register(tg, MAI, name="Lê Thị Mai", unit_query="duc giang")
    await submit(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now += timedelta(days=1)
    await harness.runtime.jobs.run("leaderboard")
    sender = OutboxSender(tg.app.bot, harness.runtime.catalog, harness.runtime.delivery, sleep=_no_wait)
    before = len(harness.api.calls)
    await sender.drain()
    captions = {int(c.params["chat_id"]): c.text for c in harness.api.calls[before:] if c.method == "sendPhoto"}
    week = "🏆 Bảng xếp hạng tuần 19/11–26/11/2026."
    assert captions[ADMIN_ID] == week  # not on the board, nor is the unit: no "thứ —/2", no urging
    assert captions[reviewer.id] == week + "\nĐơn vị: thứ 1/1."
    assert captions[MAI.id] == week + "\nTuần này bạn chưa có điểm; hãy gửi một sáng kiến để có tên trên bảng!"
    assert "Bảng xếp hạng tuần 19/11–26/11/2026 · Phong trào 2026" in titles
    assert "Leaderboard, week 19/11–26/11/2026 · Phong trào 2026" in titles


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Công đoàn Công ty May Đức Giang", "Công đoàn Công ty May Đức Giang"),
        ("Công đoàn Công ty TNHH Canon Việt Nam", "… Công ty TNHH Canon Việt Nam"),
        ("Công đoàn Công ty TNHH Điện tử Samsung Vina Thái Nguyên", "… tử Samsung Vina Thái Nguyên"),
        ("Côngđoàn-Công-ty-TNHH-một-thành-viên", "Côngđoàn-Công-ty-TNHH-một-thành…"),
        (None, "—"),
    ],
)
def test_a_long_unit_name_keeps_its_distinguishing_end_on_the_chart(name: str | None, shown: str) -> None:
    assert charts.unit_name(name) == shown and len(shown) <= charts.NAME_CHARS
