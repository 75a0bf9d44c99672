"""The process's scheduler (APScheduler 3, whatever the channels), and a job run delivered through the outbox."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.executors.base import run_coroutine_job

from bot.app import housekeeping
from bot.schedule import missed_run, next_fire
from bot.scheduler import EXECUTOR_LOG, Scheduler
from handlers.telegram.sender import OutboxSender
from tests.conftest import ADMIN_ID, Harness, register, submit
from tests.fake_telegram import Person, TelegramDriver, button

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


async def test_every_enabled_job_is_scheduled(tg: TelegramDriver, harness: Harness) -> None:
    runtime = harness.runtime
    assert runtime is not None
    harness.config.jobs.admin_report.enabled = False
    sender = OutboxSender(tg.app.bot, runtime.catalog, runtime.delivery)
    scheduler = Scheduler(runtime.jobs, {"telegram": sender}, lambda: housekeeping(runtime))
    scheduler.start(catch_up=False)
    try:
        jobs = {job.name: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {
            "leaderboard",
            "reminders",
            "reviewer_digest",
            "outbox:telegram",
            "outbox:reports",
            "catch_up",
            "housekeeping",
        }
        reminder = jobs["reminders"].next_run_time
        assert reminder is not None and reminder.astimezone(HANOI).hour == 9 and reminder.astimezone(HANOI).minute == 0
        assert scheduler.alive
    finally:
        await scheduler.close()
    assert not scheduler.alive


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


async def test_every_scheduled_message_waits_out_the_quiet_hours(tg: TelegramDriver, harness: Harness) -> None:
    hung = Person(601, first_name="Hùng", username="hung")
    await register(tg, hung, name="Trần Văn Hùng")
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    for unit in ("May 10", "Khu công nghiệp"):  # Hùng reviews MAY10 and the unit above it (escalations)
        calls = await tg.text(ADMIN, "/grant @hung")
        await tg.press(ADMIN, button(calls, unit))
    await register(tg, LAN)
    await submit(tg, LAN)
    assert harness.runtime is not None
    sender = OutboxSender(tg.app.bot, harness.runtime.catalog, harness.runtime.delivery, sleep=_no_wait)
    await sender.drain()
    harness.clock.now = datetime(2026, 12, 10, 16, 17, tzinfo=UTC)  # 23:17 in Hà Nội, 15 days later
    for job in ("reviewer_digest", "admin_report"):
        report = await harness.runtime.jobs.run(job)
        assert report is not None and report["queued"] and report["held_until"] == "2026-12-11T00:00:00+00:00"
    held = await harness.query("select key, not_before from outbox where status = 'pending' order by id")
    assert {key.split(":")[0] for key, _ in held} == {"reviewer_digest", "admin_report"}
    assert any(":escalate:" in key for key, _ in held)
    assert {str(when)[:16] for _, when in held} == {"2026-12-11 00:00"}  # 07:00 in Hà Nội
    before = len(harness.api.calls)
    assert (await sender.drain()).taken == 0 and harness.api.calls[before:] == []
    harness.clock.now = datetime(2026, 12, 11, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
    assert (await sender.drain()).sent == len(held)
    harness.clock.now = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)  # 22:00: the delivery reports, made late
    assert await harness.runtime.jobs.report_deliveries() == 2
    reports = await harness.query("select not_before from outbox where key like 'delivery:%'")
    assert {str(when)[:16] for (when,) in reports} == {"2026-12-12 00:00"}


async def test_the_outbox_drain_every_two_seconds_is_not_logged_at_info(
    tg: TelegramDriver, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = harness.runtime
    assert runtime is not None
    sender = OutboxSender(tg.app.bot, runtime.catalog, runtime.delivery, sleep=_no_wait)
    scheduler = Scheduler(runtime.jobs, {"telegram": sender}, lambda: housekeeping(runtime))
    scheduler.start(catch_up=False)
    try:
        jobs = {job.name: job for job in scheduler.scheduler.get_jobs()}

        async def run(name: str, level: int) -> list[logging.LogRecord]:
            """Run one job through APScheduler's own executor code, as the scheduler does; its log lines."""
            caplog.clear()
            with caplog.at_level(level, logger=EXECUTOR_LOG):
                await run_coroutine_job(jobs[name], "default", [datetime.now(UTC)], EXECUTOR_LOG)
            return [r for r in caplog.records if r.name == EXECUTOR_LOG]

        assert await run("outbox:telegram", logging.INFO) == []
        assert await run("outbox:reports", logging.INFO) == []
        assert [r.levelname for r in await run("housekeeping", logging.INFO)] == ["INFO", "INFO"]  # others stay
        shown = await run("outbox:telegram", logging.DEBUG)  # with -v
        assert [r.levelname for r in shown] == ["DEBUG", "DEBUG"] and "Running job" in shown[0].getMessage()
    finally:
        await scheduler.close()
