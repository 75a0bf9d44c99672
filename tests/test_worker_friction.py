"""What workers really type and do on a cheap phone: estimates, monthly amounts, months, double taps,
labels typed instead of pressed, drafts left open; each through real dispatch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Harness, answer_until, draft_row, register
from tests.fake_telegram import Person, TelegramDriver, button, last_buttons, texts
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, sent_to, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(651)


@pytest.fixture
async def lan(tg: TelegramDriver) -> Person:
    """A registered worker."""
    await register(tg, LAN)
    return LAN


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("khoảng 2 tỷ rưỡi", 2_500_000_000, "<b>Giá trị làm lợi:</b> 2.500.000.000 đ"),
        ("~50tr", 50_000_000, "<b>Giá trị làm lợi:</b> 50.000.000 đ"),
        ("hơn 100 triệu", 100_000_000, "<b>Giá trị làm lợi:</b> 100.000.000 đ"),
        ("không rõ", None, "<b>Giá trị làm lợi:</b> không xác định được"),
    ],
)
async def test_estimated_amounts_are_read_as_workers_write_them(
    tg: TelegramDriver, harness: Harness, lan: Person, typed: str, stored: Any, shown: str
) -> None:
    calls = await answer_until(tg, lan, "summary", benefit_vnd=typed)
    assert shown in texts(calls)[-1]
    assert await draft_row(harness, "benefit_vnd") == (stored,)


async def test_a_monthly_amount_is_converted_to_a_year_and_the_worker_is_told(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "benefit_vnd")
    calls = await tg.text(lan, "100.000đ/tháng")
    assert texts(calls)[0].startswith(
        "Bot đã quy ra giá trị một năm: 100.000 đ/tháng × 12 = <b>1.200.000 đ</b>."
        " Nếu chưa đúng, sửa lại ở bản tóm tắt.\n\nBước 8/12."
    )
    assert await draft_row(harness, "benefit_vnd", "step") == (1_200_000, "applied_since")


async def test_the_benefit_step_has_a_cannot_be_quantified_button(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "benefit_vnd")
    assert "Không xác định được" in next(label for label, _ in last_buttons(calls))
    calls = await tg.press(lan, button(calls, "Không xác định được"))
    assert "Bước 8/12" in texts(calls)[-1]
    assert await draft_row(harness, "benefit_vnd", "step") == (None, "applied_since")
    calls = await tg.press(lan, button(calls, "Quay lại"))
    calls = await tg.text(lan, "50 triệu")  # an answer typed after all replaces it
    assert await draft_row(harness, "benefit_vnd") == (50_000_000,)


@pytest.mark.parametrize("typed", ["tháng 3/2025", "3/2025", "Tháng 03/2025"])
async def test_a_month_is_enough_for_the_date_applied(
    tg: TelegramDriver, harness: Harness, lan: Person, typed: str
) -> None:
    calls = await answer_until(tg, lan, "summary", applied_since=typed)
    assert "<b>Áp dụng từ:</b> tháng 3/2025" in texts(calls)[-1]
    assert await draft_row(harness, "applied_since", "applied_month_only") == ("2025-03-01", 1)


async def test_a_full_date_is_still_shown_as_a_day(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    calls = await answer_until(tg, lan, "summary", applied_since="01/03/2025")
    assert "<b>Áp dụng từ:</b> 01/03/2025" in texts(calls)[-1]
    assert await draft_row(harness, "applied_since", "applied_month_only") == ("2025-03-01", 0)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("31/02/2025", "Không có ngày 31/2/2025: tháng 2/2025 chỉ có 28 ngày."),
        ("15/13/2025", "Không có tháng 13: tháng chỉ từ 1 đến 12."),
    ],
)
async def test_an_impossible_date_says_why(
    tg: TelegramDriver, harness: Harness, lan: Person, typed: str, said: str
) -> None:
    await answer_until(tg, lan, "applied_since")
    calls = await tg.text(lan, typed)
    assert texts(calls)[0].startswith(said)
    assert "Bước 8/12" in texts(calls)[-1]  # the question again
    assert await draft_row(harness, "step") == ("applied_since",)


async def test_editing_a_field_from_the_summary_shows_its_current_value_and_no_step_number(
    tg: TelegramDriver, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "summary")
    calls = await tg.press(lan, button(calls, "Sửa một mục"))
    calls = await tg.press(lan, button(calls, "Hiệu quả"))
    assert texts(calls)[-1] == (
        "✏️ Sửa mục <b>Hiệu quả</b>. Hiện tại: Năng suất tăng 20 %\n"
        "Sáng kiến mang lại <b>hiệu quả</b> gì? (tiết kiệm thời gian, vật tư, an toàn hơn…)"
    )
    calls = await tg.press(lan, button(calls, "Về bản tóm tắt"))
    calls = await tg.press(lan, button(calls, "Sửa một mục"))
    calls = await tg.press(lan, button(calls, "Đồng tác giả"))
    assert "Hiện tại: bạn 50%\n• Nguyễn Văn Bình: 30%\n• Trần Thị Cúc: 20%" in texts(calls)[-1]
    assert "Bước" not in texts(calls)[-1]


async def test_a_revision_shows_the_reviewers_request_beside_the_fields(tg: TelegramDriver) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    [card] = cards(await submit_as(tg, WORKER), REVIEWER)
    await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    told = sent_to(await tg.text(REVIEWER, "Cần thêm số liệu năng suất trước và sau"), WORKER)
    calls = await tg.press(WORKER, button(told, "Sửa và gửi lại"))
    request = "📝 Người xét duyệt đề nghị: <i>Cần thêm số liệu năng suất trước và sau</i>"
    assert request in texts(calls)[0]
    calls = await tg.press(WORKER, button(calls, "Sửa một mục"))
    assert texts(calls)[-1] == f"Chọn mục muốn sửa:\n{request}"
    calls = await tg.press(WORKER, button(calls, "Hiệu quả"))
    assert texts(calls)[-1].startswith(f"✏️ Sửa mục <b>Hiệu quả</b>. Hiện tại: Năng suất tăng 20 %\n{request}\n")


async def test_my_lists_the_open_draft_first(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    await answer_until(tg, lan, "solution")
    calls = await tg.text(lan, "/my")
    assert texts(calls)[-1].startswith("Bạn chưa gửi sáng kiến nào, nhưng có một bản nháp đang soạn dở.")
    assert [label for label, _ in last_buttons(calls)] == ["✍️ Bản nháp: Máy cắt vải tự động (bước 5/12)"]
    calls = await tg.press(lan, button(calls, "Bản nháp"))
    assert "Bước 5/12" in texts(calls)[-1] and "<b>Giải pháp</b>" in texts(calls)[-1]


async def test_my_lists_the_draft_before_the_submitted_initiatives(tg: TelegramDriver, lan: Person) -> None:
    calls = await answer_until(tg, lan, "summary")
    await tg.press(lan, button(calls, "Gửi sáng kiến"))
    await answer_until(tg, lan, "problem", title="Đèn tiết kiệm điện")
    labels = [label for label, _ in last_buttons(await tg.text(lan, "/my"))]
    assert labels[0] == "✍️ Bản nháp: Đèn tiết kiệm điện (bước 4/12)"
    assert labels[1].startswith("SK-2026-000001 · Máy cắt vải tự động")


@pytest.mark.parametrize("how", ["/start", "/new"])
async def test_start_and_new_offer_to_continue_the_open_draft(tg: TelegramDriver, lan: Person, how: str) -> None:
    await answer_until(tg, lan, "solution")
    calls = await tg.text(lan, how)
    assert "(“Máy cắt vải tự động”, đang ở bước 5/12)" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Tiếp tục"))
    assert "Bước 5/12" in texts(calls)[-1]


async def test_starting_over_asks_before_discarding_the_draft(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "solution")
    calls = await tg.press(lan, button(await tg.text(lan, "/new"), "Làm lại từ đầu"))
    assert texts(calls)[-1] == (
        "Làm lại từ đầu? Bản nháp “Máy cắt vải tự động” (đang ở bước 5/12) sẽ bị xoá cùng mọi câu trả lời."
    )
    assert await draft_row(harness, "step") == ("solution",)  # asking deletes nothing
    calls = await tg.press(lan, button(calls, "Không, làm tiếp bản nháp"))
    assert "Bước 5/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "title") == ("solution", "Máy cắt vải tự động")


async def test_help_inside_a_step_repeats_the_question_afterwards(tg: TelegramDriver, lan: Person) -> None:
    await answer_until(tg, lan, "benefit_vnd")
    [said] = texts(await tg.text(lan, "/help"))
    help_text, _, question = said.rpartition("\n\n")
    assert help_text.startswith("<b>Sáng kiến bot làm được gì</b>")
    assert question.startswith("Bước 7/12. <b>Giá trị làm lợi</b>")


@pytest.mark.parametrize(
    ("typed", "category"),
    [
        ("Tăng năng suất lao động", "productivity"),
        ("tang nang suat lao dong", "productivity"),
        ("phòng chống dịch", "pandemic"),
    ],
)
async def test_typing_a_category_label_instead_of_pressing_it_is_accepted(
    tg: TelegramDriver, harness: Harness, lan: Person, typed: str, category: str
) -> None:
    await answer_until(tg, lan, "category")
    calls = await tg.text(lan, typed)
    assert "Bước 3/12" in texts(calls)[-1]
    assert await draft_row(harness, "category", "step") == (category, "kind")


async def test_typing_a_type_label_without_diacritics_is_accepted_and_an_ambiguous_one_is_not(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "kind")
    calls = await tg.text(lan, "ky thuat")  # "Giải pháp kỹ thuật" or "Ứng dụng tiến bộ kỹ thuật"?
    assert "Hãy chọn một trong các lựa chọn bên dưới" in texts(calls)[0]
    assert await draft_row(harness, "step") == ("kind",)
    await tg.text(lan, "giai phap ky thuat")
    assert await draft_row(harness, "kind", "step") == ("technical", "problem")


async def test_a_pressed_step_keyboard_is_replaced_by_the_answer_and_cannot_be_pressed_again(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    asked = await answer_until(tg, lan, "category")
    calls = await tg.press(lan, button(asked, "Tăng năng suất lao động"))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.text == "Bước 2/12. Sáng kiến thuộc <b>lĩnh vực</b> nào?\n👉 <b>Tăng năng suất lao động</b>"
    assert edit.buttons == []
    calls = await tg.press(lan, button(asked, "Phòng, chống dịch"))  # the old keyboard, pressed anyway
    assert "Nút này đã hết hiệu lực" in str([c.params for c in calls])
    assert await draft_row(harness, "category", "step") == ("productivity", "kind")


async def test_a_name_is_stored_as_typed_and_shown_in_title_case(tg: TelegramDriver, harness: Harness) -> None:
    tuan = Person(652)
    calls = await register(tg, tuan, name="lê văn TUẤN")
    assert "Chào Lê Văn Tuấn" in texts(calls)[0]
    assert "Họ tên: Lê Văn Tuấn" in texts(await tg.text(tuan, "/profile"))[0]
    assert await harness.query("select full_name from app_user where external_id = '652'") == [("lê văn TUẤN",)]
    calls = await answer_until(tg, tuan, "summary", coauthors="50\nnguyễn văn bình – 50")
    assert "• Nguyễn Văn Bình: 50%" in texts(calls)[-1]


async def test_the_reviewer_sees_the_author_and_the_author_the_reviewer_in_title_case(tg: TelegramDriver) -> None:
    await grant(tg, REVIEWER, name="TRẦN VĂN HÙNG")
    await enroll(tg, WORKER, name="nguyễn thị lan")
    [card] = cards(await submit_as(tg, WORKER), REVIEWER)
    assert "<b>Tác giả:</b> Nguyễn Thị Lan" in card.text
    [told] = sent_to(await tg.press(REVIEWER, button([card], "✅ Công nhận")), WORKER)
    assert "Trần Văn Hùng" in told.text


async def test_the_same_text_sent_twice_is_confirmed_before_it_fills_the_next_field(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "problem")
    await tg.text(lan, "Cắt thủ công, chậm")
    calls = await tg.text(lan, "Cắt thủ công, chậm")  # the double tap
    assert texts(calls) == [
        "Bạn vừa gửi đúng nội dung này cho mục “Hiện trạng”. Có phải bạn muốn dùng nó cho cả mục “Giải pháp”"
        " không? (Nếu mạng chập chờn, tin nhắn có thể bị gửi hai lần.)"
    ]
    assert await draft_row(harness, "step", "solution") == ("solution", None)
    calls = await tg.press(lan, button(calls, "Không, tôi sẽ gõ lại"))
    assert "Bước 5/12" in texts(calls)[-1]
    await tg.text(lan, "Gắn cảm biến quang")
    assert await draft_row(harness, "step", "solution") == ("benefit", "Gắn cảm biến quang")


async def test_a_repeated_answer_meant_for_both_fields_is_taken_when_confirmed(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "conditions")
    await tg.text(lan, "Không có")
    calls = await tg.press(lan, button(await tg.text(lan, "Không có"), "Có, dùng cho mục này"))
    assert "Bước 12/12" in texts(calls)[-1]
    assert await draft_row(harness, "conditions", "confidential", "step") == ("Không có", "Không có", "attachments")
