"""Scheduled jobs: reminders, quiet hours, runs made up once after downtime, digest, report, opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.jobs import RUN_LEASE
from tests.conftest import ADMIN_ID, Harness, register, submit
from tests.fake_telegram import Person, TelegramDriver, button, texts
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501, first_name="Lan")
HUNG = Person(601, first_name="Hùng", username="hung")
ADMIN = Person(ADMIN_ID, first_name="Admin")


async def outbox(harness: Harness) -> list[tuple[str, str, datetime, str]]:
    """(key, chat, not_before, payload) of every outbox row the jobs wrote (not what updates told
    others, nor kept receipts, nor the buttons taken off older cards), oldest first."""
    rows = await harness.query(
        "select key, chat, not_before, payload from outbox"
        " where key not like 'notice:%' and key not like 'receipt:%' and key not like 'strip:%' order by id"
    )
    return [(k, c, n if isinstance(n, datetime) else datetime.fromisoformat(str(n)), p) for k, c, n, p in rows]


async def start_draft(tg: TelegramDriver, person: Person) -> None:
    """Register and leave a draft at step 4 (title, category, type answered)."""
    await register(tg, person)
    calls = await tg.text(person, "/new")
    calls = await tg.text(person, "Đồ gá cắt vải")
    calls = await tg.press(person, calls[-1].buttons[0][1])
    await tg.press(person, calls[-1].buttons[0][1])


async def test_a_draft_idle_for_a_day_gets_one_reminder_with_a_resume_button(
    tg: TelegramDriver, harness: Harness
) -> None:
    await start_draft(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now += timedelta(hours=25)
    report = await harness.runtime.jobs.run("reminders")
    assert report is not None and report["queued"] == 1
    [(key, chat, _due, payload)] = await outbox(harness)
    assert chat == f"telegram:{LAN.id}" and key.startswith("reminders:draft:")
    assert "remind.draft" in payload and '"step":4' in payload and "v1:resume:" in payload
    harness.clock.now += timedelta(days=1)
    again = await harness.runtime.jobs.run("reminders")
    assert again is not None and again["queued"] == 0 and again["repeated"] == 1


async def test_reminders_stay_on_when_only_the_leaderboard_is_turned_off(tg: TelegramDriver, harness: Harness) -> None:
    await start_draft(tg, LAN)
    calls = await tg.press(LAN, button(await tg.text(LAN, "/reminders"), "Tắt bảng xếp hạng"))
    assert texts(calls)[0] == (
        "<b>Tin nhắn định kỳ</b>\n"
        "Nhắc nhở (bản nháp dở dang, sáng kiến chờ bổ sung, phong trào sắp kết thúc): <b>đang bật</b>\n"
        "Bảng xếp hạng hằng tuần: <b>đang tắt</b>\n"
        "Bấm nút để bật hoặc tắt từng loại."
    )
    assert [label for label, _ in calls[-1].buttons] == ["🔕 Tắt nhắc nhở", "🏆 Bật bảng xếp hạng"]
    assert await harness.query(
        "select reminders_off, leaderboard_off from app_user where external_id = :e", e=str(LAN.id)
    ) == [(0, 1)]
    assert harness.runtime is not None
    harness.clock.now += timedelta(hours=25)
    report = await harness.runtime.jobs.run("reminders")
    assert report is not None and report["queued"] == 1


async def test_an_initiative_waiting_for_the_authors_changes_gets_a_reminder(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    [card] = cards(await submit_as(tg, WORKER), REVIEWER)
    await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    await tg.text(REVIEWER, "Cần thêm số liệu")
    assert harness.runtime is not None
    harness.clock.now += timedelta(hours=25)
    report = await harness.runtime.jobs.run("reminders")
    assert report is not None and report["queued"] == 1
    [(key, chat, _due, payload)] = await outbox(harness)
    assert chat == f"telegram:{WORKER.id}" and key.startswith("reminders:revision:1:")
    assert "remind.revision" in payload and "SK-2026-000001" in payload and "v1:revise:1" in payload


async def test_the_same_scheduled_run_happens_once(tg: TelegramDriver, harness: Harness) -> None:
    assert harness.runtime is not None
    moment = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert await harness.runtime.jobs.run("reminders", moment) is not None
    assert await harness.runtime.jobs.run("reminders", moment) is None
    assert await harness.query("select count(*) from job_run") == [(1,)]


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(tg: TelegramDriver, harness: Harness) -> None:
    await start_draft(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # 22:30 in Hà Nội
    await harness.runtime.jobs.run("reminders")
    [(_key, _chat, due, _payload)] = await outbox(harness)
    assert due.replace(tzinfo=UTC) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 local


async def test_people_who_turned_reminders_off_get_none(tg: TelegramDriver, harness: Harness) -> None:
    await start_draft(tg, LAN)
    calls = await tg.text(LAN, "/reminders")
    assert "sắp kết thúc): <b>đang bật</b>" in texts(calls)[0]
    calls = await tg.press(LAN, button(calls, "Tắt nhắc nhở"))
    assert "sắp kết thúc): <b>đang tắt</b>" in texts(calls)[0]
    assert await harness.query("select reminders_off from app_user where external_id = :e", e=str(LAN.id)) == [(1,)]
    assert harness.runtime is not None
    harness.clock.now += timedelta(hours=25)
    report = await harness.runtime.jobs.run("reminders")
    assert report is not None and report["queued"] == 0 and await outbox(harness) == []


async def test_a_run_missed_while_down_is_made_up_once_within_its_grace_time(
    tg: TelegramDriver, harness: Harness
) -> None:
    assert harness.runtime is not None
    harness.clock.now = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # Thursday 09:30 local
    made_up = await harness.runtime.jobs.catch_up()  # missed: reminders 09:00, reviewer digest 08:00
    assert sorted(r["job"] for r in made_up) == ["reminders", "reviewer_digest"]
    assert await harness.runtime.jobs.catch_up() == []
    rows = await harness.query("select job, scheduled_for from job_run order by job")
    assert [(job, str(at)[:16]) for job, at in rows] == [
        ("reminders", "2026-11-26 02:00"),
        ("reviewer_digest", "2026-11-26 01:00"),
    ]


async def test_a_run_missed_beyond_its_grace_time_is_not_made_up(tg: TelegramDriver, harness: Harness) -> None:
    assert harness.runtime is not None
    harness.clock.now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 13:00 local, 4 h after 09:00 > 2 h grace
    assert await harness.runtime.jobs.catch_up() == []


async def test_deadline_countdown_reaches_everyone_seven_days_before_the_end(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now = datetime(2027, 12, 24, 2, 0, tzinfo=UTC)  # campaign ends 31/12/2027
    await harness.runtime.jobs.run("reminders")
    rows = await outbox(harness)
    assert [k for k, *_ in rows] == [f"reminders:deadline:c2026:7:telegram:{LAN.id}"]
    assert "remind.deadline" in rows[0][3]


async def test_reviewer_digest_lists_what_waits_and_escalates_old_items(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, HUNG, name="Trần Văn Hùng")
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    calls = await tg.text(ADMIN, "/grant @hung")
    await tg.press(ADMIN, button(calls, "May 10"))
    calls = await tg.text(ADMIN, "/grant @hung")
    await tg.press(ADMIN, button(calls, "Khu công nghiệp"))
    await register(tg, LAN)
    await submit(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now += timedelta(days=15)
    report = await harness.runtime.jobs.run("reviewer_digest")
    assert report is not None
    rows = await outbox(harness)
    digest = [r for r in rows if ":escalate:" not in r[0]]
    escalations = [r for r in rows if ":escalate:" in r[0]]
    assert digest and "digest.text" in digest[0][3] and "SK-2026-000001" in digest[0][3]
    assert escalations and escalations[0][1] == f"telegram:{HUNG.id}" and "digest.escalated" in escalations[0][3]


async def test_admin_report_counts_progress_against_targets(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    calls = await tg.text(ADMIN, "/campaign c2026 target 10 MAY10")
    assert "Chỉ tiêu của Công đoàn Công ty May 10" in texts(calls)[0]
    await register(tg, LAN)
    await submit(tg, LAN)
    assert harness.runtime is not None
    await harness.runtime.jobs.run("admin_report")
    [(_key, chat, _due, payload)] = await outbox(harness)
    assert chat == f"telegram:{ADMIN_ID}" and "report.text" in payload
    calls = await tg.text(ADMIN, "/campaigns")
    assert any("Công đoàn Công ty May 10: gửi 1 / 10 (10%)" in t for t in texts(calls))


async def test_only_admins_change_campaigns_and_changes_apply_at_once(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    calls = await tg.text(LAN, "/campaign c2026 end 31/12/2028")
    assert "quản trị viên" in texts(calls)[0]
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    calls = await tg.text(ADMIN, "/campaign c2026 end 30/06/2027")
    assert "Đã cập nhật" in texts(calls)[0]
    assert await harness.query("select \"end\" from campaign where key = 'c2026'") == [("2027-06-30",)]
    calls = await tg.text(ADMIN, "/campaign c2026 end 01/01/2020")
    assert "Ngày kết thúc phải sau ngày bắt đầu" in texts(calls)[0]


async def test_someone_who_blocked_the_bot_gets_messages_again_after_writing_to_it(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, LAN)
    assert harness.runtime is not None
    async with harness.runtime.store.transaction() as tx:
        await tx.conn.execute(
            text("update app_user set blocked_at = '2026-11-25 03:00:00' where external_id = :e"), {"e": str(LAN.id)}
        )
    harness.clock.now = datetime(2027, 12, 24, 2, 0, tzinfo=UTC)
    await harness.runtime.jobs.run("reminders")
    assert await outbox(harness) == []
    await tg.text(LAN, "/help")
    assert await harness.query("select blocked_at from app_user where external_id = :e", e=str(LAN.id)) == [(None,)]
    harness.clock.now += timedelta(days=6)  # the 1-day countdown
    await harness.runtime.jobs.run("reminders")
    assert [key for key, *_ in await outbox(harness)] == [f"reminders:deadline:c2026:1:telegram:{LAN.id}"]


async def test_a_run_interrupted_half_way_is_finished_by_the_next_attempt_without_repeats(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, LAN)
    await register(tg, HUNG, name="Trần Văn Hùng")
    assert harness.runtime is not None
    harness.clock.now = datetime(2027, 12, 24, 2, 0, tzinfo=UTC)
    moment = harness.clock.now
    first = await harness.runtime.jobs.run("reminders", moment)
    assert first is not None and first["queued"] == 2
    # Pretend the process died before the run was closed, with one message already in the outbox.
    await _reopen_run_and_drop_one_message(harness)
    resumed = await harness.runtime.jobs.run("reminders", moment)
    assert resumed is not None and (resumed["queued"], resumed["repeated"]) == (1, 1)
    assert await harness.runtime.jobs.run("reminders", moment) is None
    assert len(await outbox(harness)) == 2


async def _reopen_run_and_drop_one_message(harness: Harness) -> None:
    """Mark the latest run unfinished and delete its newest outbox row, as a crash mid-run would leave it."""
    assert harness.runtime is not None
    async with harness.runtime.store.transaction() as tx:
        await tx.conn.execute(text("update job_run set finished_at = null, report = null"))
        await tx.conn.execute(text("delete from outbox where id = (select max(id) from outbox)"))


async def test_campaigns_list_every_unit_with_submissions_in_hierarchy_then_alphabetical_order(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    await tg.text(ADMIN, "/campaign c2026 target 5 MAYDUC")
    for number, (person, unit) in enumerate([(LAN, "may 10"), (Person(502), "duc giang"), (Person(503), "dien co")]):
        await register(tg, person, unit_query=unit, name=f"Nguyễn Văn {'ABC'[number]}")
        await submit(tg, person)
    calls = await tg.text(ADMIN, "/campaigns")
    report = next(t for t in texts(calls) if "Phong trào 2026" in t)
    names = [line.split("•")[1].split(":")[0].strip() for line in report.splitlines() if "•" in line]
    assert names == [
        "Liên đoàn Lao động thành phố Hà Nội",
        "Công đoàn các Khu công nghiệp Hà Nội",
        "Công đoàn Công ty Điện cơ Thống Nhất",  # Đ comes after D and before M
        "Công đoàn Công ty May 10",
        "Công đoàn Công ty May Đức Giang",
    ]
    assert "\n    • Công đoàn Công ty May 10: gửi 1, công nhận 0" in report  # indented under its upper unit
    assert harness.runtime is not None
    await harness.runtime.jobs.run("admin_report")
    [(_key, _chat, _due, payload)] = await outbox(harness)
    assert payload.count('"indent"') == 5


async def test_a_run_another_process_holds_is_not_run_again_until_its_lease_ends(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now = at = datetime(2027, 12, 24, 2, 0, tzinfo=UTC)  # the 7-day countdown
    async with harness.runtime.store.transaction() as tx:  # another process claimed it, then died
        assert await tx.claim_run("reminders", at, now=at, owner="elsewhere:1", lease_until=at + RUN_LEASE)
    assert await harness.runtime.jobs.run("reminders", at) is None
    harness.clock.now = at + RUN_LEASE + timedelta(seconds=1)
    report = await harness.runtime.jobs.run("reminders", at)
    assert report is not None and report["queued"] == 1
    assert await harness.runtime.jobs.run("reminders", at) is None
