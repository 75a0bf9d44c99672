"""The scheduler on python-telegram-bot's JobQueue, and a job run delivered through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import housekeeping
from bot.schedule import missed_run, next_fire
from handlers.telegram.scheduling import schedule_jobs
from handlers.telegram.sender import OutboxSender
from tests.conftest import ADMIN_ID, Harness, register
from tests.fake_telegram import Person, TelegramDriver

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LAN = Person(501)
ADMIN = Person(ADMIN_ID)


def test_schedules_fire_at_local_times() -> None:
    monday_morning = datetime(2026, 11, 30, 7, 59, tzinfo=HANOI)
    assert next_fire("0 8 * * mon", "Asia/Ho_Chi_Minh", monday_morning) == datetime(2026, 11, 30, 8, 0, tzinfo=HANOI)
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=HANOI)
    assert next_fire("0 8 * * mon-fri", "Asia/Ho_Chi_Minh", friday_evening) == datetime(
        2026, 11, 30, 8, 0, tzinfo=HANOI
    )


def test_only_the_latest_missed_run_within_grace_is_made_up() -> None:
    now = datetime(2026, 11, 26, 9, 30, tzinfo=HANOI)
    daily = "0 * * * *"  # hourly: 07:00, 08:00 and 09:00 were all missed
    assert missed_run(daily, "Asia/Ho_Chi_Minh", now, grace=timedelta(hours=3), last_run=None) == datetime(
        2026, 11, 26, 9, 0, tzinfo=HANOI
    )
    done = datetime(2026, 11, 26, 9, 0, tzinfo=HANOI)
    assert missed_run(daily, "Asia/Ho_Chi_Minh", now, grace=timedelta(hours=3), last_run=done) is None


async def test_every_enabled_job_is_scheduled_on_the_job_queue(tg: TelegramDriver, harness: Harness) -> None:
    runtime = harness.runtime
    assert runtime is not None
    harness.config.jobs.admin_report.enabled = False
    sender = OutboxSender(tg.app.bot, runtime.catalog, runtime.delivery)
    schedule_jobs(tg.app, runtime.jobs, sender, lambda: housekeeping(runtime))
    await tg.app.start()
    try:
        jobs = {job.name: job for job in tg.app.job_queue.jobs()}  # type: ignore[union-attr]
        assert set(jobs) == {"leaderboard", "reminders", "reviewer_digest", "outbox", "housekeeping"}
        reminder = jobs["reminders"].next_t
        assert reminder is not None and reminder.astimezone(HANOI).hour == 9 and reminder.astimezone(HANOI).minute == 0
    finally:
        await tg.app.stop()


async def test_a_job_run_is_delivered_and_admins_get_the_delivery_report(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now = datetime(2027, 12, 24, 2, 0, tzinfo=ZoneInfo("UTC"))  # 7 days before the campaign ends
    await harness.runtime.jobs.run("reminders")
    sender = OutboxSender(tg.app.bot, harness.runtime.catalog, harness.runtime.delivery, sleep=_no_wait)
    before = len(harness.api.calls)
    stats = await sender.drain()
    sent = [c for c in harness.api.calls[before:] if c.method == "sendMessage"]
    assert stats.taken == 1 and [int(c.params["chat_id"]) for c in sent] == [LAN.id]
    assert "còn 7 ngày" in sent[0].text
    assert await harness.runtime.jobs.report_deliveries() == 1
    await sender.drain()
    report = [c for c in harness.api.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == ADMIN_ID]
    assert report and "đã gửi 1, lỗi 0, bị chặn 0" in report[0].text
    assert await harness.runtime.jobs.report_deliveries() == 0


async def _no_wait(_seconds: float) -> None:
    """Sleep that returns at once (the limiter's pauses are tested elsewhere)."""
