"""What reviewers and authors read back: labelled scores on the card, the detail and the history, money as money."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.fake_telegram import TelegramDriver, button, texts
from tests.review_support import REVIEWER, WORKER, cards, edits, enroll, grant, sent_to, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

SCORES_VI = "tính mới 4/5, khả năng áp dụng 5/5, hiệu quả 3/5"


async def scored(tg: TelegramDriver, *, english_author: bool = True) -> None:
    """MAY10's reviewer recognises the worker's initiative with scores 4 5 3."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER, english=english_author)
    calls = await submit_as(tg, WORKER, english=english_author)
    await tg.press(REVIEWER, button(cards(calls, REVIEWER), "chấm điểm"))
    await tg.text(REVIEWER, "4 5 3 Tốt")


async def test_scores_are_labelled_on_the_card_in_the_history_and_in_the_authors_detail(tg: TelegramDriver) -> None:
    await scored(tg)
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    card = texts(calls)[0]
    assert f"\n⭐ <b>Điểm chấm:</b> {SCORES_VI}" in card
    calls = await tg.press(REVIEWER, button(calls, "Lịch sử xử lý"))
    history = texts(calls)[0]
    assert history.splitlines()[1] == "• 10:00 25/11/2026 · Nguyễn Thị Lan: gửi (Bản nháp → Đã gửi)"  # from submission
    assert f"Trần Văn Hùng: công nhận (Đã gửi → Đã công nhận) · {SCORES_VI} · Tốt" in history
    assert "4/5/3" not in history
    calls = await tg.press(WORKER, "v1:open:1")
    assert "\n⭐ <b>Scores:</b> novelty 4/5, applicability 5/5, effectiveness 3/5" in texts(calls)[0]


async def test_an_initiative_without_scores_shows_none(tg: TelegramDriver) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER, english=True)
    calls = await submit_as(tg, WORKER, english=True)
    card = cards(calls, REVIEWER)[0].text
    assert "Điểm chấm" not in card
    calls = await tg.press(WORKER, "v1:open:1")
    assert "Scores" not in texts(calls)[0]


async def test_the_measured_benefit_reads_as_money_in_the_history(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER, english=True)
    calls = await submit_as(tg, WORKER, english=True)
    calls = await tg.press(REVIEWER, button(cards(calls, REVIEWER), "✅ Công nhận"))
    calls = await tg.press(REVIEWER, button(edits(calls), "Ghi nhận đã áp dụng"))
    calls = await tg.press(REVIEWER, button(calls, "như tác giả ghi"))
    calls = await tg.text(REVIEWER, "2,5 tỷ")
    calls = await tg.press(REVIEWER, button(sent_to(calls, REVIEWER), "Lịch sử xử lý"))
    history = texts(calls)[0]
    # the date the unit confirmed and the benefit measured, as money
    assert "ghi nhận đã áp dụng (Đã công nhận → Đã công nhận) · áp dụng từ 01/02/2026, giá trị làm lợi" in history
    assert history.endswith(" 2.500.000.000 đ") and "2500000000" not in history
