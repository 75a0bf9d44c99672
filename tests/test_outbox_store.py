"""The outbox rows: written once per key, handed out when due, outcomes and reports recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.delivery import QuietHours
from bot.messages import FileOut, Reply
from tests.outbox_support import hello, notice, open_outbox, tiny_catalog
from tests.virtual_time import run_virtual

LATE_EVENING = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 22:30 in Hà Nội


def test_the_same_key_twice_makes_one_row(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        first = await box.enqueue([notice(1001)], prefix="leaderboard:7")
        again = await box.enqueue([notice(1001), notice(1002)], prefix="leaderboard:7")
        assert (first.added, first.repeated) == (1, 0)
        assert (again.added, again.repeated) == (1, 1)
        assert await box.rows("chat, status") == [("telegram:1001", "pending"), ("telegram:1002", "pending")]
        async with box.store.transaction() as tx:
            key, now = "leaderboard:7:telegram:1001", box.now()
            assert not await tx.enqueue(key, "telegram:1001", None, "vi", "{}", now, None, now)
        await box.close()

    run_virtual(main())


def test_due_is_pending_and_timely_oldest_first_minus_excluded(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        await box.enqueue([notice(1), notice(2)], prefix="a")
        await box.enqueue([notice(3)], prefix="b", quiet=QuietHours(time(0, 0), time(23, 59, 59), "UTC"))
        due = await box.due()
        assert [i.chat for i in due] == ["telegram:1", "telegram:2"]
        assert [i.chat for i in await box.delivery.next_batch(10, exclude=[due[0].id])] == ["telegram:2"]
        assert len(await box.delivery.next_batch(1)) == 1
        await box.delivery.sent(due[0].id)
        assert [i.chat for i in await box.due()] == ["telegram:2"]
        await box.close()

    run_virtual(main())


def test_failures_back_off_then_give_up_after_three_tries(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        await box.enqueue([notice(1)])
        (item,) = await box.due()
        assert await box.delivery.failed(item.id, "NetworkError: Bad Gateway", 0) == box.now() + timedelta(seconds=30)
        assert await box.due() == []
        await asyncio.sleep(30)
        (item,) = await box.due()
        assert item.attempts == 1
        assert await box.delivery.failed(item.id, "NetworkError: Bad Gateway", 1) == box.now() + timedelta(seconds=60)
        await asyncio.sleep(60)
        (item,) = await box.due()
        assert await box.delivery.failed(item.id, "NetworkError: Bad Gateway", 2) is None
        assert await box.rows("status, attempts, last_error") == [("failed", 3, "NetworkError: Bad Gateway")]
        await box.close()

    run_virtual(main())


def test_blocked_people_are_remembered_and_skipped_next_time(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        ids = await box.users(1001, 1002)
        await box.enqueue([notice(1001), notice(1002)], prefix="run1")
        item = (await box.due())[0]
        assert item.user_id == ids[1001]
        await box.delivery.blocked(item.id, item.user_id)
        again = await box.enqueue([notice(1001), notice(1002)], prefix="run2")
        assert (again.added, again.blocked) == (1, 1)
        assert await box.rows("chat, status") == [
            ("telegram:1001", "blocked"),
            ("telegram:1002", "pending"),
            ("telegram:1002", "pending"),
        ]
        await box.close()

    run_virtual(main())


def test_people_who_turned_reminders_off_are_skipped_when_asked(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        ids = await box.users(1001, 1002)
        async with box.store.transaction() as tx:
            from sqlalchemy import text

            await tx.conn.execute(text("update app_user set reminders_off = 1 where id = :id"), {"id": ids[1001]})
            done = await box.delivery.enqueue_notices(
                tx, [notice(1001), notice(1002)], job_run_id=None, key_prefix="nudge", respect_opt_out="reminders"
            )
        assert (done.added, done.opted_out) == (1, 1)
        await box.close()

    run_virtual(main())


def test_the_report_counts_a_job_runs_messages_by_status(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        run = await box.job_run()
        await box.enqueue([notice(c) for c in (1, 2, 3, 4, 5)], run=run, prefix=f"lb:{run}")
        await box.enqueue([notice(9)], prefix="other")
        items = await box.due()
        await box.delivery.sent(items[0].id)
        await box.delivery.sent(items[1].id)
        await box.delivery.blocked(items[2].id, None)
        await box.delivery.failed(items[3].id, "BadRequest: chat not found", 0, permanent=True)
        assert await box.delivery.report(run) == {"pending": 1, "sent": 2, "failed": 1, "blocked": 1}
        await box.close()

    run_virtual(main())


def test_a_picture_for_many_is_stored_once(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        chart = FileOut("chart.png", b"\x89PNG" + b"x" * 50_000)
        await box.enqueue([notice(c, Reply("t.chart", {"rank": c}, file=chart)) for c in range(1, 101)])
        async with box.store.transaction() as tx:
            from sqlalchemy import text

            size = (await tx.conn.execute(text("select sum(length(payload)) from outbox"))).scalar_one()
        assert 66_000 < size < 100_000  # one base64 copy, not a hundred
        items = await box.due()
        assert (await box.delivery.replies(items[41]))[0] == Reply("t.chart", {"rank": 42}, file=chart)
        await box.close()

    run_virtual(main())


QUIET = QuietHours()  # 21:00–07:00 in Hà Nội


@pytest.mark.parametrize(
    ("local_time", "released_local"),
    [
        ("2026-11-25 20:59", "2026-11-25 20:59"),
        ("2026-11-25 21:00", "2026-11-26 07:00"),
        ("2026-11-25 22:30", "2026-11-26 07:00"),
        ("2026-11-26 00:10", "2026-11-26 07:00"),
        ("2026-11-26 06:59", "2026-11-26 07:00"),
        ("2026-11-26 07:00", "2026-11-26 07:00"),
        ("2026-11-26 12:00", "2026-11-26 12:00"),
    ],
)
def test_quiet_hours_hold_reminders_until_seven(local_time: str, released_local: str) -> None:
    hanoi = timedelta(hours=7)
    moment = datetime.fromisoformat(local_time).replace(tzinfo=UTC) - hanoi
    expected = datetime.fromisoformat(released_local).replace(tzinfo=UTC) - hanoi
    assert QUIET.release(moment) == expected


def test_quiet_hours_within_one_day_and_none() -> None:
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert QuietHours(time(11), time(13), "UTC").release(noon) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert QuietHours(time(13), time(15), "UTC").release(noon) == noon
    assert QuietHours(time(7), time(7), "UTC").release(noon) == noon


def test_a_reminder_enqueued_at_half_past_ten_waits_for_the_morning(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path), epoch=LATE_EVENING)
        await box.enqueue([notice(1001)], prefix="remind", quiet=QUIET)
        await box.enqueue([notice(1002)], prefix="status")
        assert [i.chat for i in await box.due()] == ["telegram:1002"]
        await asyncio.sleep(8 * 3600 + 29 * 60)  # 06:59
        assert [i.chat for i in await box.due()] == ["telegram:1002"]
        await asyncio.sleep(60)  # 07:00
        assert [i.chat for i in await box.due()] == ["telegram:1002", "telegram:1001"]
        await box.close()

    run_virtual(main())


def test_an_overlong_key_is_refused(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        with pytest.raises(ValueError):
            await box.enqueue([notice(1)], prefix="x" * 120)
        await box.close()

    run_virtual(main())


def test_hello_renders(tmp_path: Path) -> None:
    catalog = tiny_catalog(tmp_path)
    reply = hello("Lan", 1204)
    assert catalog.render("vi", reply.key, reply.args) == "Chào Lan, bạn đứng thứ 1.204"
