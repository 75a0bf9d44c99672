"""A step's buttons (Back, Skip, the options…) stop being live once the step is answered by typing:
the bot takes them off before it answers, also after a restart (the message is known to the
database, not to the process)."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, answer_until, register
from tests.fake_telegram import Call, Person, TelegramDriver

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501, first_name="Lan")


def question(calls: list[Call]) -> Call:
    """The last message sent with buttons (the step asked)."""
    return [c for c in calls if c.method == "sendMessage" and c.buttons][-1]


def shown(calls: list[Call]) -> list[str]:
    """What the person saw happen, in order: buttons taken off a message, messages sent."""
    return [
        f"bỏ nút #{c.message_id}" if c.method == "editMessageReplyMarkup" and not c.buttons else c.text
        for c in calls
        if c.method in ("sendMessage", "editMessageReplyMarkup")
    ]


async def test_typing_the_answer_takes_the_steps_buttons_off_before_the_next_question(tg: TelegramDriver) -> None:
    await register(tg, LAN)
    asked = question(await answer_until(tg, LAN, "category"))  # the categories as buttons, and Back
    calls = await tg.text(LAN, "năng suất lao động")  # typed instead of pressed
    seen = shown(calls)
    assert seen[0] == f"bỏ nút #{asked.message_id}"
    assert "Loại giải pháp" in seen[1] or "loại" in seen[1].lower()
    asked = question(calls)
    calls = await tg.text(LAN, "Giải pháp kỹ thuật")
    assert shown(calls)[0] == f"bỏ nút #{asked.message_id}"


async def test_a_refused_answer_takes_the_old_buttons_off_and_the_question_asked_again_keeps_its_own(
    tg: TelegramDriver,
) -> None:
    await register(tg, LAN)
    asked = question(await answer_until(tg, LAN, "benefit_vnd"))
    calls = await tg.text(LAN, "nhiều lắm")  # not an amount: refused, asked again
    again = question(calls)
    assert shown(calls)[0] == f"bỏ nút #{asked.message_id}" and again.buttons
    calls = await tg.text(LAN, "50 triệu")
    assert shown(calls)[0] == f"bỏ nút #{again.message_id}"


async def test_the_buttons_go_after_a_restart_too(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    asked = question(await answer_until(tg, LAN, "problem"))  # Back under the question
    await harness.stop()
    tg = await harness.start()
    calls = await tg.text(LAN, "Cắt thủ công, chậm và lệch đường may")
    assert shown(calls)[0] == f"bỏ nút #{asked.message_id}"
    assert await harness.query("select step_keyboard from app_user where external_id = '501'") == [
        (f"telegram:{LAN.id}:{question(calls).message_id}",)
    ]


async def test_a_button_pressed_on_the_step_changes_that_message_and_takes_nothing_else_off(
    tg: TelegramDriver,
) -> None:
    await register(tg, LAN)
    calls = await answer_until(tg, LAN, "category")
    asked = question(calls)
    calls = await tg.press(LAN, asked.buttons[2][1])
    assert [c.method for c in calls if c.method.startswith("edit")] == ["editMessageText"]
    assert [c.message_id for c in calls if c.method == "editMessageText"] == [asked.message_id]
