"""The outbox sender through the real python-telegram-bot Bot and the fake Bot API, on virtual time."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery import LEASE, QuietHours
from bot.messages import FileOut, Notice, Reply
from handlers.telegram.limiter import Limits, RateLimiter
from tests.limited_api import LimitedBotApi
from tests.outbox_support import Crash, TimedApi, hello, notice, open_outbox, tiny_catalog
from tests.virtual_time import run_virtual

LATE_EVENING = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 22:30 in Hà Nội


def test_enqueued_twice_with_one_key_is_sent_once(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        await box.enqueue([notice(1001, hello("Lan", 37))], prefix="lb:1")
        await box.enqueue([notice(1001, hello("Lan", 37))], prefix="lb:1")
        stats = await box.sender.drain()
        (call,) = api.sends()
        assert call.params["chat_id"] == 1001
        assert call.text == "Chào Lan, bạn đứng thứ 37"
        assert call.buttons == [("Tiếp tục", "v1:go")]
        assert (stats.sent, stats.floods) == (1, 0)
        assert await box.rows("status, attempts") == [("sent", 1)]
        assert (await box.sender.drain()).taken == 0
        await box.close()

    run_virtual(main())


def test_flood_control_waits_exactly_the_retry_after_telegram_gives(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        api.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        await box.enqueue([notice(1001)])
        stats = await box.sender.drain()
        assert len(api.sends()) == 2
        assert abs(api.times[-1] - api.times[-2] - 3.0) < 0.001  # 3 s, give or take the loop's microseconds
        assert (stats.floods, stats.sent, stats.failed) == (1, 1, 0)
        assert await box.rows("status") == [("sent",)]
        await box.close()

    run_virtual(main())


def test_a_person_who_blocked_the_bot_is_marked_and_skipped_later(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        ids = await box.users(1001, 1002)
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        await box.enqueue([notice(1001), notice(1002)], prefix="run1")
        stats = await box.sender.drain()
        assert (stats.blocked, stats.sent) == (1, 1)
        async with box.store.transaction() as tx:
            first = await tx.user(ids[1001])
            flags = await tx.recipients(["telegram:1001", "telegram:1002"])
        assert first is not None
        assert flags["telegram:1001"].blocked and not flags["telegram:1002"].blocked
        later = await box.enqueue([notice(1001), notice(1002)], prefix="run2")
        assert (later.added, later.blocked) == (1, 1)
        await box.sender.drain()
        assert Counter(c.params["chat_id"] for c in api.sends()) == {1001: 1, 1002: 2}
        await box.close()

    run_virtual(main())


def test_other_errors_are_retried_three_times_then_recorded_failed(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        for _ in range(5):
            api.fail("sendMessage", 502, "Bad Gateway")
        await box.enqueue([notice(1001)])
        assert (await box.sender.drain()).retrying == 1
        await asyncio.sleep(29)
        assert (await box.sender.drain()).taken == 0
        await asyncio.sleep(1)
        assert (await box.sender.drain()).retrying == 1
        await asyncio.sleep(60)
        assert (await box.sender.drain()).failed == 1
        await asyncio.sleep(3600)
        assert (await box.sender.drain()).taken == 0
        assert len(api.sends()) == 3
        assert await box.rows("status, attempts, last_error") == [("failed", 3, "NetworkError: Bad Gateway")]
        await box.close()

    run_virtual(main())


def test_a_refused_request_is_not_retried(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        api.fail("sendMessage", 400, "Bad Request: chat not found")
        await box.enqueue([notice(1001)])
        assert (await box.sender.drain()).failed == 1
        assert await box.rows("status, attempts, last_error") == [("failed", 1, "BadRequest: Chat not found")]
        await box.close()

    run_virtual(main())


def test_a_crash_mid_broadcast_resumes_without_duplicates(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        catalog = tiny_catalog(tmp_path)
        # one call at a time: a kill cuts off the marks of every call in flight (see handlers/telegram/sender.py)
        first = await open_outbox(db_url, catalog, concurrency=1)
        assert isinstance(first.api, TimedApi)
        first.api.crash_after = 500
        chats = range(1, 1001)
        await first.enqueue([notice(c) for c in chats], prefix="lb:1")
        try:
            await first.sender.drain()
        except BaseExceptionGroup as group:
            assert group.subgroup(Crash) is not None
        assert len(first.api.sends()) == 500
        await first.store.close()  # the process is gone; a new one starts on the same file

        second = await open_outbox(db_url, catalog)
        assert isinstance(second.api, TimedApi)
        stats = await second.sender.drain()  # the rows the dead process held wait for its lease to end
        assert 0 < stats.sent < 500
        await asyncio.sleep(LEASE.total_seconds())
        stats = await second.sender.drain()
        assert len(second.api.sends()) == 500
        per_chat = Counter(c.params["chat_id"] for c in first.api.sends() + second.api.sends())
        assert set(per_chat) == set(chats) and set(per_chat.values()) == {1}
        assert {s for (s,) in await second.rows("status")} == {"sent"}
        await second.close()

    run_virtual(main())


def test_a_graceful_stop_after_n_resumes_where_it_stopped(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        catalog = tiny_catalog(tmp_path)
        first = await open_outbox(db_url, catalog)
        await first.enqueue([notice(c) for c in range(1, 101)], prefix="lb:1")
        assert (await first.sender.drain(max_messages=40)).sent == 40
        await first.close()
        second = await open_outbox(db_url, catalog)
        assert (await second.sender.drain()).sent == 60
        assert isinstance(first.api, TimedApi) and isinstance(second.api, TimedApi)
        per_chat = Counter(c.params["chat_id"] for c in first.api.sends() + second.api.sends())
        assert len(per_chat) == 100 and set(per_chat.values()) == {1}
        await second.close()

    run_virtual(main())


def test_the_one_window_a_kill_right_after_telegram_accepted(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        catalog = tiny_catalog(tmp_path)
        first = await open_outbox(db_url, catalog, concurrency=1)
        assert isinstance(first.api, TimedApi)
        first.api.crash_after, first.api.crash_after_accepting = 3, True
        await first.enqueue([notice(c) for c in range(1, 6)], prefix="lb:1")
        with contextlib.suppress(BaseExceptionGroup):
            await first.sender.drain()
        await first.store.close()
        second = await open_outbox(db_url, catalog)
        await asyncio.sleep(LEASE.total_seconds())  # the dead process's claim on 4 ends
        await second.sender.drain()
        assert isinstance(second.api, TimedApi)
        per_chat = Counter(c.params["chat_id"] for c in first.api.sends() + second.api.sends())
        assert per_chat == {1: 1, 2: 1, 3: 1, 4: 2, 5: 1}  # the documented window: confirmed, not marked
        await second.close()

    run_virtual(main())


def test_a_reminder_at_half_past_ten_is_sent_at_seven(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path), epoch=LATE_EVENING)
        api = box.api
        assert isinstance(api, TimedApi)
        await box.enqueue([notice(1001)], prefix="remind:1", quiet=QuietHours())
        while (await box.sender.drain()).sent == 0:
            await asyncio.sleep(60)  # a sender waking every minute
        seven = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
        assert seven <= box.now() < seven + timedelta(minutes=1)
        assert len(api.sends()) == 1
        await box.close()

    run_virtual(main())


def test_the_delivery_report_counts_sent_failed_and_blocked(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path), concurrency=1)
        api = box.api
        assert isinstance(api, TimedApi)
        await box.users(1001, 1002, 1003, 1004)
        run = await box.job_run()
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        api.fail("sendMessage", 400, "Bad Request: chat not found")
        await box.enqueue([notice(c) for c in (1001, 1002, 1003, 1004)], run=run, prefix=f"lb:{run}")
        await box.sender.drain()
        assert await box.delivery.report(run) == {"pending": 0, "sent": 2, "failed": 1, "blocked": 1}
        await box.close()

    run_virtual(main())


def test_a_picture_for_many_is_uploaded_once_then_sent_by_file_id(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        chart = FileOut("chart.png", b"\x89PNG" + b"x" * 30_000)
        await box.enqueue([notice(c, Reply("t.chart", {"rank": c}, file=chart)) for c in range(1, 21)])
        assert (await box.sender.drain()).sent == 20
        photos = api.sends("sendPhoto")
        assert len(photos) == 20 and not api.sends()
        uploads = [p for p in photos if p.files]
        assert len(uploads) == 1 and uploads[0] is photos[0]
        assert {p.params["photo"] for p in photos[1:]} == {"p"}
        captions = sorted(p.params["caption"] for p in photos)
        assert captions == sorted(f"Bảng xếp hạng: bạn thứ {c}" for c in range(1, 21))
        await box.close()

    run_virtual(main())


def test_no_limit_is_broken_for_private_chats_and_a_busy_group(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        api = LimitedBotApi(latency=0.08)
        box = await open_outbox(db_url, tiny_catalog(tmp_path), api)
        group = -100123
        await box.enqueue([notice(c) for c in range(1001, 1091)], prefix="a")
        for run in range(25):
            await box.enqueue([notice(group), notice(7), notice(8)], prefix=f"run{run}")  # 3 busy chats
        started = asyncio.get_running_loop().time()
        stats = await box.sender.drain()
        assert stats.sent == 90 + 75 and api.floods == 0
        verdict = api.audit()
        assert (verdict.overall_breaks, verdict.private_breaks, verdict.group_breaks) == (0, 0, 0)
        assert api.per_chat[group] == 25 and api.per_chat[7] == 25
        sent_to_group = [t for t, c in zip(api.times, api.chats, strict=True) if c == group]
        assert sent_to_group[20] - sent_to_group[0] >= 60 - 1e-6  # the 21st waits the minute (float sums)
        assert sent_to_group[19] - sent_to_group[0] < 5  # the first 20 do not
        assert asyncio.get_running_loop().time() - started < 70
        await box.close()

    run_virtual(main())


def test_a_limiter_set_too_high_gets_429s_and_still_delivers_each_once(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        api = LimitedBotApi(latency=0.05)
        limiter = RateLimiter(Limits(overall=45))
        box = await open_outbox(db_url, tiny_catalog(tmp_path), api, limiter=limiter)
        await box.enqueue([notice(c) for c in range(1, 301)])
        stats = await box.sender.drain()
        assert stats.sent == 300 and stats.floods == api.floods > 0
        assert api.audit().clean and len(api.per_chat) == 300
        await box.close()

    run_virtual(main())


def test_the_telegram_sender_leaves_other_channels_messages_alone(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        box = await open_outbox(db_url, tiny_catalog(tmp_path))
        api = box.api
        assert isinstance(api, TimedApi)
        await box.enqueue([Notice("console:lan", "vi", (hello(),)), notice(1001)])
        assert (await box.sender.drain()).sent == 1
        assert await box.rows("chat, status") == [("console:lan", "pending"), ("telegram:1001", "sent")]
        await box.close()

    run_virtual(main())


def test_stop_lets_calls_in_flight_finish_and_leaves_the_rest_pending(db_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        catalog = tiny_catalog(tmp_path)
        first = await open_outbox(db_url, catalog, LimitedBotApi(latency=0.2))
        await first.enqueue([notice(c) for c in range(1, 301)], prefix="lb:1")
        draining = asyncio.create_task(first.sender.drain())
        await asyncio.sleep(3)
        first.sender.stop()
        stats = await draining
        api = first.api
        assert isinstance(api, LimitedBotApi)
        statuses = Counter(s for (s,) in await first.rows("status"))
        assert stats.sent == statuses["sent"] == sum(api.per_chat.values()) and 60 < stats.sent < 120
        assert statuses["pending"] == 300 - stats.sent
        await first.close()
        second = await open_outbox(db_url, catalog, api)  # the same Telegram, a new process
        assert (await second.sender.drain()).sent == 300 - stats.sent
        assert len(api.per_chat) == 300 and set(api.per_chat.values()) == {1}
        await second.close()

    run_virtual(main())
