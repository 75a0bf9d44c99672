"""The bot survives restarts and Telegram's errors without losing what a worker answered."""

from __future__ import annotations

import re
from typing import Any

import pytest

from storage.store import SqlTx
from tests.conftest import FLOW_ANSWERS, Harness, answer_until, draft_row, register
from tests.fake_telegram import Call, Person, TelegramDriver, button, last_buttons, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501)
INTERNAL_ERROR = "bot gặp lỗi"


@pytest.fixture
async def lan(tg: TelegramDriver) -> Person:
    """A registered worker."""
    await register(tg, LAN)
    return LAN


def sent(calls: list[Call]) -> list[Call]:
    """The sendMessage calls."""
    return [c for c in calls if c.method == "sendMessage"]


async def test_restart_mid_flow_keeps_answers_and_continues_at_the_same_step(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "solution")  # title, category, kind, problem answered
    await harness.stop()
    tg = await harness.start()
    assert await draft_row(harness, "step", "title", "category", "kind", "problem") == (
        "solution",
        FLOW_ANSWERS["title"],
        "productivity",
        "technical",
        FLOW_ANSWERS["problem"],
    )
    calls = await tg.text(lan, FLOW_ANSWERS["solution"])
    assert "Bước 6/12" in texts(calls)[-1]
    for step in ("benefit", "benefit_vnd", "applied_since"):
        calls = await tg.text(lan, FLOW_ANSWERS[step])
    for _optional in ("coauthors", "conditions", "confidential"):
        calls = await tg.press(lan, button(calls, "Bỏ qua"))
    calls = await tg.press(lan, button(calls, "Xong"))
    summary = texts(calls)[-1]
    for answer in ("title", "category", "kind", "problem", "solution", "benefit"):
        assert FLOW_ANSWERS[answer] in summary
    calls = await tg.press(lan, button(calls, "Gửi sáng kiến"))
    assert "SK-2026-000001" in texts(calls)[-1]


async def test_new_after_restart_offers_the_draft_at_its_step(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "benefit_vnd")
    await harness.stop()
    tg = await harness.start()
    calls = await tg.text(lan, "/new")
    assert "7/12" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Tiếp tục"))
    assert "Giá trị làm lợi" in texts(calls)[-1]
    await tg.text(lan, "1,5 tỷ")
    assert await draft_row(harness, "step", "benefit_vnd", "benefit") == (
        "applied_since",
        1_500_000_000,
        FLOW_ANSWERS["benefit"],
    )


async def test_update_redelivered_after_a_restart_is_processed_once(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "problem")
    raw = tg._message(lan, text="Cắt thủ công")
    assert texts(await tg.deliver(raw))
    await harness.stop()
    tg = await harness.start()
    assert texts(await tg.deliver(raw)) == []
    assert await draft_row(harness, "step", "problem", "solution") == (
        "solution",
        "Cắt thủ công",
        None,
    )


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found"),
        (502, "Bad Gateway"),
    ],
)
async def test_telegram_error_on_reply_does_not_crash_and_the_answer_is_stored(
    tg: TelegramDriver, harness: Harness, lan: Person, status: int, description: str
) -> None:
    await answer_until(tg, lan, "problem")
    tg.api.fail("sendMessage", status, description)
    calls = await tg.text(lan, "Cắt thủ công")
    assert len(sent(calls)) == 1  # the failed reply, and no apology after it
    assert not any(INTERNAL_ERROR in c.text for c in calls)
    assert await draft_row(harness, "step", "problem") == ("solution", "Cắt thủ công")
    calls = await tg.text(lan, "Gắn cảm biến")
    assert "Bước 6/12" in texts(calls)[-1]


async def test_stale_callback_query_still_processes_the_press(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "category")
    tg.api.fail(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    calls = await tg.press(lan, button(calls, "Tăng năng suất lao động"))
    assert not any(INTERNAL_ERROR in c.text for c in calls)
    assert "Bước 3/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "category") == ("kind", "productivity")


@pytest.mark.parametrize("filler", ["Dây chuyền may ", "<&> "])
async def test_long_summary_is_split_into_parts_within_telegrams_limit(
    tg: TelegramDriver, harness: Harness, lan: Person, filler: str
) -> None:
    # three long answers, each a little shorter (the same text twice in a row is asked about first)
    fields = ("problem", "solution", "benefit")
    long = {f: (filler * 1000)[: 4000 - 8 * i].strip() for i, f in enumerate(fields)}
    calls = await answer_until(tg, lan, "summary", **long)  # the last call presses Done
    summary = sent(calls)
    assert len(summary) > 1
    assert all(len(c.text) <= 4096 for c in summary)
    assert all(not c.buttons for c in summary[:-1])
    assert summary[-1].buttons[0][0] == "📨 Gửi sáng kiến"
    for part in summary:  # every part is valid HTML on its own: no cut entity or tag
        assert not re.search(r"&(?!(?:lt|gt|amp|quot|#x27);)", part.text), part.text[-20:]
        assert part.text.count("<b>") == part.text.count("</b>")
    whole = "".join(c.text for c in summary)
    escaped = long["problem"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert whole.count(escaped[:50]) >= 3
    assert last_buttons(calls) == summary[-1].buttons


async def test_a_failure_in_the_core_rolls_back_and_apologises_in_the_chosen_language(
    tg: TelegramDriver, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    john = Person(502, first_name="John", language_code="vi")  # Telegram in Vietnamese, the bot in English
    await register(tg, john)
    await answer_until(tg, john, "problem")
    await tg.press(john, button(await tg.text(john, "/language"), "English"))
    original = SqlTx.save_initiative
    failing = [RuntimeError("disk I/O error")]

    async def fails_once(self: SqlTx, *args: Any, **kwargs: Any) -> Any:
        if failing:
            raise failing.pop()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SqlTx, "save_initiative", fails_once)
    calls = await tg.text(john, "Manual cutting")
    assert texts(calls) == [
        "Sorry, the bot failed to handle that message. Your earlier answers are kept; "
        "please try again in a few minutes."
    ]
    assert await draft_row(harness, "step", "problem") == ("problem", None)
    calls = await tg.text(john, "Manual cutting")
    assert "Step 5/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "problem") == ("solution", "Manual cutting")
