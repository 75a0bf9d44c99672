"""Several replies to one update: a plain text leads the next new message, but never an edit."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.fake_telegram import TelegramDriver, button, messages, one_message
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, initiative, sent_to, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

EMPTY = "Câu trả lời đang trống. Hãy gõ nội dung."


async def test_a_plain_reply_leads_the_next_new_message_and_stays_apart_before_an_edit_or_alone(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)

    # Alone (the last reply), a plain text is its own message, without any keyboard.
    await tg.press(REVIEWER, button(card, "Yêu cầu bổ sung"))
    cancelled = one_message(await tg.text(REVIEWER, "/cancel"))
    assert (cancelled.method, cancelled.text) == ("sendMessage", "Đã huỷ, không có gì thay đổi.")
    assert "reply_markup" not in cancelled.params

    # Refused: the error leads the question asked again, in one message with the question's buttons.
    question = one_message(await tg.press(REVIEWER, button(card, "Không công nhận")))
    assert question.buttons
    refusal = one_message(await tg.text(REVIEWER, "   "))
    assert refusal.method == "sendMessage"
    assert refusal.text == f"{EMPTY}\n\n{question.text}"
    assert refusal.text.index(EMPTY) < refusal.text.index("Vì sao không công nhận SK-2026-000001?")
    assert refusal.buttons == question.buttons

    # Followed by an edit (the card refreshed in place), the confirmation is a message of its own.
    calls = await tg.press(REVIEWER, button([refusal], "Không mới"))
    mine = [c for c in messages(calls) if int(c.params["chat_id"]) == REVIEWER.id]
    assert [c.method for c in mine] == ["sendMessage", "editMessageText"]
    done, refreshed = mine
    assert done.text == "Đã ghi nhận: SK-2026-000001 không được công nhận. Tác giả đã được báo."
    assert "reply_markup" not in done.params
    assert refreshed.text.startswith("📋 <b>SK-2026-000001</b> · Không được công nhận")
    assert len(sent_to(calls, WORKER)) == 1  # the author is told apart, in his own chat
    assert await initiative(harness, "status") == "rejected"
