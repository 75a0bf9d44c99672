"""What an update tells others goes through the outbox, written with the change: a crash or flood
control only delays it; receipts are kept there until Telegram took them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot import review
from bot.app import telegram_sender
from bot.receipts import RECEIPT_GRACE
from handlers.telegram import outbound
from handlers.telegram.limiter import RateLimiter
from tests.conftest import UNPACED, Harness, answer_until, press_submit
from tests.fake_telegram import Person, TelegramDriver, button, texts
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, sent_to, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

COLLEAGUE = Person(502, first_name="Cúc")
FILED = "đã được gửi lúc"


async def test_a_decisions_notice_is_committed_with_it_and_sent_after_a_restart(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)[0]
    tg.settle = None  # the process dies right after the commit: its sender never runs
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    assert sent_to(calls, WORKER) == []
    chat = f"telegram:{WORKER.id}"
    rows = await harness.query("select status from outbox where key like 'notice:%' and chat = :chat", chat=chat)
    assert rows == [("pending",)]  # the decision's notice, committed with it
    await harness.stop()
    await harness.start()
    assert harness.sender is not None
    before = len(harness.api.calls)
    await harness.sender.drain()
    (notice,) = sent_to(harness.api.calls[before:], WORKER)
    assert "SK-2026-000001" in notice.text and "đã được công nhận" in notice.text


async def test_a_submit_rolled_back_tells_nobody_and_leaves_no_phantom_look_alike(
    tg: TelegramDriver, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    await enroll(tg, COLLEAGUE, name="Trần Thị Cúc")
    routed = review.route

    async def route_then_fail(turn: Any, item: Any) -> None:
        await routed(turn, item)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(review, "route", route_then_fail)
    calls = await press_submit(tg, WORKER, await answer_until(tg, WORKER, "summary"))
    assert any("bot gặp lỗi" in text for text in texts(calls))
    assert cards(calls, REVIEWER) == []
    monkeypatch.undo()
    calls = await tg.press(COLLEAGUE, button(await answer_until(tg, COLLEAGUE, "summary"), "Gửi sáng kiến"))
    assert not any("Vẫn gửi" in label for call in calls for label, _ in call.buttons)  # no look-alike to show
    assert "SK-2026-000001" in sent_to(calls, COLLEAGUE)[-1].text
    assert len(cards(calls, REVIEWER)) == 1


async def test_a_receipt_telegram_refused_is_mentioned_by_my_and_new_then_sent_from_the_outbox(
    tg: TelegramDriver, harness: Harness, waits: list[float]
) -> None:
    await enroll(tg, WORKER)
    calls = await answer_until(tg, WORKER, "summary")
    for _ in range(outbound.FLOOD_TRIES):
        harness.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await press_submit(tg, WORKER, calls)  # the receipt is given up after three floods
    for command in ("/my", "/new"):
        first = texts(await tg.text(WORKER, command))[0]
        assert "SK-2026-000001" in first and FILED in first
    harness.clock.now += RECEIPT_GRACE
    calls = await tg.text(WORKER, "/help")  # the outbox is drained after it: the receipt is due now
    assert [c for c in sent_to(calls, WORKER) if "Biên nhận sáng kiến" in c.text]
    assert FILED not in texts(await tg.text(WORKER, "/my"))[0]


async def test_a_receipt_that_went_out_is_not_sent_again(tg: TelegramDriver, harness: Harness) -> None:
    await enroll(tg, WORKER)
    calls = await press_submit(tg, WORKER, await answer_until(tg, WORKER, "summary"))
    assert [c for c in sent_to(calls, WORKER) if "Biên nhận sáng kiến" in c.text]
    assert FILED not in texts(await tg.text(WORKER, "/new"))[0]
    harness.clock.now += RECEIPT_GRACE
    calls = await tg.text(WORKER, "/help")
    assert not [c for c in sent_to(calls, WORKER) if "Biên nhận sáng kiến" in c.text]
    assert await harness.query("select status from outbox where key like 'receipt:%'") == [("sent",)]


async def test_the_card_reaches_the_reviewer_at_once_without_waiting_for_the_poll(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    summary = await answer_until(tg, WORKER, "summary")
    assert harness.runtime is not None
    tg.settle = None  # no drain after the update: only the sender woken by the commit sends
    sender = telegram_sender(harness.runtime, tg.app.bot, limiter=RateLimiter(UNPACED))
    before = len(harness.api.calls)
    await tg.press(WORKER, button(summary, "Gửi sáng kiến"))
    for _ in range(500):  # the poll is not running in tests: without the wake nothing would come
        if cards(harness.api.calls[before:], REVIEWER):
            break
        await asyncio.sleep(0.01)
    assert len(cards(harness.api.calls[before:], REVIEWER)) == 1
    await sender.drain()  # waits for the drain the wake started to end
