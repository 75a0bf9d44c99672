"""Telegram failing after the core committed: the reply is waited out or dropped, the others are still
told; double taps, edited messages and bursts of one person's updates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from handlers.telegram import outbound
from tests.conftest import Harness, answer_until, draft_row, press_submit, register
from tests.fake_telegram import FakeBotApi, Person, TelegramDriver, button, texts
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, initiative, sent_to, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501)
APOLOGY = "bot gặp lỗi"
FLOOD = (429, "Too Many Requests: retry after 1")


@pytest.mark.parametrize(("status", "description"), [FLOOD, (502, "Bad Gateway")])
async def test_a_card_that_cannot_be_edited_after_a_decision_still_tells_the_author(
    tg: TelegramDriver, harness: Harness, waits: list[float], status: int, description: str
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)[0]
    harness.api.fail("editMessageText", status, description, retry_after=1)
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    assert await initiative(harness, "status") == "approved"
    assert not any(APOLOGY in c.text for c in calls)
    assert any("Đã công nhận" in c.text for c in sent_to(calls, REVIEWER))  # the card, as a new message
    assert len(sent_to(calls, WORKER)) == 1


async def test_flood_control_is_waited_out_and_the_message_is_sent(
    tg: TelegramDriver, harness: Harness, waits: list[float]
) -> None:
    await register(tg, LAN)
    await answer_until(tg, LAN, "problem")
    harness.api.fail("sendMessage", *FLOOD, retry_after=1)
    calls = await tg.text(LAN, "Cắt thủ công")
    assert waits == [1.0]
    first, second = [c for c in calls if c.method == "sendMessage"]
    assert first.text == second.text
    assert "Bước 5/12" in second.text
    assert not any(APOLOGY in c.text for c in calls)
    assert await draft_row(harness, "step") == ("solution",)


@pytest.mark.parametrize("floods", [1, outbound.FLOOD_TRIES])
async def test_flood_control_on_the_receipt_is_waited_out_or_gives_up_and_the_reviewers_get_the_card(
    tg: TelegramDriver, harness: Harness, waits: list[float], floods: int
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await answer_until(tg, WORKER, "summary")
    for _ in range(floods):
        harness.api.fail("sendMessage", *FLOOD, retry_after=1)
    calls = await press_submit(tg, WORKER, calls)
    assert await initiative(harness, "status") == "submitted"
    tries = [c for c in sent_to(calls, WORKER) if "Biên nhận sáng kiến" in c.text]
    assert len(tries) == min(floods + 1, outbound.FLOOD_TRIES)  # sent at last, or given up
    assert waits == [1.0] * min(floods, outbound.FLOOD_TRIES - 1)
    assert len(cards(calls, REVIEWER)) == 1
    assert not any(APOLOGY in c.text for c in calls)


async def test_a_double_tap_on_an_edited_message_sends_nothing_new(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    data = button(await answer_until(tg, LAN, "summary"), "Sửa một mục")
    await tg.press(LAN, data, message_id=42)
    harness.api.fail("editMessageText", 400, "Bad Request: message is not modified: specified new message content")
    calls = await tg.press(LAN, data, message_id=42)
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]


async def test_an_edited_answer_is_answered_and_the_first_answer_stands(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    await answer_until(tg, LAN, "title")
    raw = tg._message(LAN, text="Máy cắt vải tự đọng")
    await tg.deliver(raw)
    edited = {**raw["message"], "text": "Máy cắt vải tự động", "edit_date": 1764000060}
    calls = await tg.deliver({"update_id": next(tg.update_ids), "edited_message": edited})
    assert texts(calls)[0].startswith("Bot không đọc tin nhắn đã sửa.")
    assert "Bước 2/12" in texts(calls)[0]  # the current question follows
    assert await draft_row(harness, "step", "title") == ("category", "Máy cắt vải tự đọng")


async def test_an_answer_that_starts_with_a_slash_but_is_no_command_is_an_answer(
    tg: TelegramDriver, harness: Harness
) -> None:
    await register(tg, LAN)
    await answer_until(tg, LAN, "problem")
    await tg.deliver(tg._message(LAN, text="/ tháng mất 3 ngày cắt tay"))  # Telegram marks no command
    assert await draft_row(harness, "step", "problem") == ("solution", "/ tháng mất 3 ngày cắt tay")


async def test_a_burst_of_one_persons_updates_is_handled_strictly_in_order(
    tg: TelegramDriver, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(tg, LAN)
    category = button(await answer_until(tg, LAN, "category"), "Tăng năng suất")
    draft = category.split(":")[2]
    real = FakeBotApi.do_request

    async def jittery(self: FakeBotApi, url: str, method: str, request_data: Any = None, *a: Any, **k: Any) -> Any:
        if url.endswith("/sendMessage"):  # the second reply takes longest to go out
            text = str(dict(request_data.parameters).get("text", ""))
            await asyncio.sleep(0.1 if "Bước 4/12" in text else 0.05)
        return await real(self, url, method, request_data, *a, **k)

    monkeypatch.setattr(FakeBotApi, "do_request", jittery)

    def fetched(raw: dict[str, Any]) -> asyncio.Task[Any]:
        """What the Application's update fetcher does with an update: hand it to the processor."""
        update = Update.de_json(raw, tg.app.bot)
        return asyncio.create_task(tg.app.update_processor.process_update(update, tg.app.process_update(update)))

    before = len(harness.api.calls)
    first = fetched(press_raw(tg, LAN, category))
    second = fetched(press_raw(tg, LAN, f"v1:type:{draft}:technical"))
    await first
    await asyncio.sleep(0.01)
    third = fetched(tg._message(LAN, text="Cắt thủ công"))
    await asyncio.gather(second, third)
    replies = [c.text[:9] for c in harness.api.calls[before:] if c.method == "sendMessage"]
    assert replies == ["Bước 3/12", "Bước 4/12", "Bước 5/12"]
    assert await draft_row(harness, "step", "category", "kind", "problem") == (
        "solution",
        "productivity",
        "technical",
        "Cắt thủ công",
    )


def press_raw(tg: TelegramDriver, person: Person, data: str) -> dict[str, Any]:
    """A raw callback-query update, as `TelegramDriver.press` delivers it."""
    message = {"message_id": 1, "date": 1764000000, "chat": {"id": person.id, "type": "private"}, "text": "…"}
    query = {"id": str(next(tg.update_ids)), "from": person.as_dict(), "chat_instance": "ci", "data": data}
    return {"update_id": next(tg.update_ids), "callback_query": {**query, "message": message}}
