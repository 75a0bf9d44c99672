"""One reviewer decides: approve (with scores), reject (reason button or typed), request changes;
the author hears of every change of status, in his own language."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.fake_telegram import Call, TelegramDriver, button, refused, texts
from tests.review_support import (
    REVIEWER,
    WORKER,
    audit,
    cards,
    edits,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)


async def first_card(tg: TelegramDriver, *, english_author: bool = True) -> Call:
    """A reviewer of MAY10, an author of MAY10 who submits; the card the reviewer gets."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER, english=english_author)
    calls = await submit_as(tg, WORKER, english=english_author)
    got = cards(calls, REVIEWER)
    assert len(got) == 1
    return got[0]


async def test_the_card_shows_what_a_reviewer_needs_to_decide(tg: TelegramDriver) -> None:
    card = await first_card(tg)
    for part in (
        "SK-2026-000001",
        "Máy cắt vải tự động",
        "Nguyễn Thị Lan",
        "Công đoàn Công ty May 10",
        "Tăng năng suất lao động",
        "Giải pháp kỹ thuật",
        "Cắt thủ công, chậm và lệch đường may",
        "Gắn cảm biến quang và bàn trượt",
        "50.000.000 đ",
        "01/02/2026",
        "25/02/2027",
    ):
        assert part in card.text
    assert "bạn là tác giả duy nhất" not in card.text  # the reader is not the author
    assert [label for label, _ in card.buttons] == [
        "✅ Công nhận",
        "📝 Công nhận, chấm điểm",
        "❌ Không công nhận",
        "✏️ Yêu cầu bổ sung",
        "⬆️ Chuyển lên cấp trên",
        "🕘 Lịch sử xử lý",
    ]


async def test_approve_records_the_decision_and_tells_the_author_in_english(
    tg: TelegramDriver, harness: Harness
) -> None:
    card = await first_card(tg)
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    assert "Đã công nhận sáng kiến SK-2026-000001" in texts(calls)[0]
    refreshed = edits(calls)[0]
    assert "Đã công nhận" in refreshed.text and button([refreshed], "Ghi nhận đã áp dụng")
    told = sent_to(calls, WORKER)
    assert len(told) == 1
    assert told[0].text == (
        "🎉 Congratulations! Your initiative <b>SK-2026-000001</b> “Máy cắt vải tự động” is <b>recognised</b>"
        " (grassroots level, Công đoàn Công ty May 10).\nBy: Trần Văn Hùng"
    )  # no "Comment: (none)"
    assert told[0].buttons == [("Open the initiative", "v1:open:1")]
    status, level, decided_by, decided_at = await initiative(
        harness, "status", "recognised_level", "decided_by", "decided_at"
    )
    assert (status, level) == ("approved", "grassroots")
    assert decided_by is not None and decided_at.startswith("2026-11-25 03:00")
    assert await audit(harness) == [("approve", "submitted", "approved", "Trần Văn Hùng")]


async def test_approve_with_scores_stores_the_scores_and_the_comment(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    calls = await tg.press(REVIEWER, button([card], "chấm điểm"))
    assert texts(calls)[0].startswith("Anh/chị chấm điểm SK-2026-000001 theo thang 1–5")
    assert await initiative(harness, "status") == "submitted"  # nothing decided yet
    calls = await tg.text(REVIEWER, "4 5 3 Tốt")
    assert "Đã công nhận sáng kiến SK-2026-000001" in texts(calls)[0]
    rows = await harness.query("select action, scores, comment from review_action where action <> 'submit'")
    assert rows == [("approve", "4/5/3", "Tốt")]
    told = sent_to(calls, WORKER)
    assert "is <b>recognised</b> (grassroots level" in told[0].text and "Comment: Tốt" in told[0].text
    calls = await tg.press(REVIEWER, button(calls, "Lịch sử xử lý"))
    assert "tính mới 4/5, khả năng áp dụng 5/5, hiệu quả 3/5 · Tốt" in texts(calls)[0]


async def test_reject_with_a_common_reason_button(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    calls = await tg.press(REVIEWER, button([card], "Không công nhận"))
    assert texts(calls) == [
        "Vì sao không công nhận SK-2026-000001? Anh/chị chọn một lý do dưới đây hoặc gõ lý do khác."
    ]
    assert [label for label, _ in calls[-1].buttons] == [
        "Không mới trong phạm vi đơn vị",
        "Chưa được áp dụng hoặc áp dụng thử",
        "Chưa chứng minh được hiệu quả",
        "Trùng với sáng kiến đã có",
        "Không thuộc đối tượng sáng kiến",
        "↩️ Huỷ, về phiếu",
    ]
    calls = await tg.press(REVIEWER, button(calls, "Không mới"))
    assert "Đã ghi nhận: SK-2026-000001 không được công nhận" in texts(calls)[0]
    told = sent_to(calls, WORKER)
    assert "<b>Not recognised</b>" in told[0].text
    assert "Comment: Not new within the unit" in told[0].text  # the reason in his language
    assert await initiative(harness, "status") == "rejected"
    assert await harness.query("select action, comment from review_action where action <> 'submit'") == [
        ("reject", "#not_new")
    ]


async def test_reject_with_a_typed_reason(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "Không công nhận"))
    calls = await tg.text(REVIEWER, "Phân xưởng 2 đã làm từ năm 2024")
    told = sent_to(calls, WORKER)
    assert "Comment: Phân xưởng 2 đã làm từ năm 2024" in told[0].text
    rows = await harness.query(
        "select action, from_status, to_status, comment from review_action where action <> 'submit'"
    )
    assert rows == [("reject", "submitted", "rejected", "Phân xưởng 2 đã làm từ năm 2024")]


async def test_a_rejection_without_a_reason_is_refused_and_the_question_asked_again(
    tg: TelegramDriver, harness: Harness
) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "Không công nhận"))
    calls = await tg.text(REVIEWER, "   ")
    again = refused(calls, "Câu trả lời đang trống. Hãy gõ nội dung.", "Vì sao không công nhận SK-2026-000001?")
    assert again.text.startswith("Câu trả lời đang trống. Hãy gõ nội dung.\n\n")
    assert button([again], "Không mới")  # the reason buttons come again
    calls = await tg.sticker(REVIEWER)
    assert button([refused(calls, "cần câu trả lời bằng chữ", "Vì sao không công nhận SK-2026-000001?")], "Không mới")
    assert await initiative(harness, "status") == "submitted"
    assert await audit(harness) == []
    assert sent_to(calls, WORKER) == []
    calls = await tg.text(REVIEWER, "Chưa có số liệu")
    assert await initiative(harness, "status") == "rejected"


async def test_cancel_drops_the_reviewer_question_and_nothing_changes(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    calls = await tg.text(REVIEWER, "/cancel")
    assert texts(calls) == ["Đã huỷ, không có gì thay đổi."]
    calls = await tg.text(REVIEWER, "Cần thêm số liệu")
    assert await initiative(harness, "status") == "submitted"
    assert sent_to(calls, WORKER) == []


async def test_request_changes_needs_a_comment(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    calls = await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    assert texts(calls) == ["Anh/chị đề nghị tác giả bổ sung hoặc sửa những gì ở SK-2026-000001? Gõ nội dung đề nghị."]
    calls = await tg.text(REVIEWER, " \n ")
    refused(calls, "Câu trả lời đang trống.", "Anh/chị đề nghị tác giả bổ sung hoặc sửa những gì ở SK-2026-000001?")
    assert await initiative(harness, "status") == "submitted"


async def ask_changes(tg: TelegramDriver, card: Call, comment: str) -> list[Call]:
    """The reviewer requests changes on `card` with `comment`; return the calls of the answer."""
    await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    return await tg.text(REVIEWER, comment)


async def revise_field(tg: TelegramDriver, told: list[Call], field: str) -> list[Call]:
    """The (English-speaking) author revises from the notice `told` and opens `field` to edit."""
    calls = await tg.press(WORKER, button(told, "Revise"))
    calls = await tg.press(WORKER, button(calls, "Edit a field"))
    return await tg.press(WORKER, button(calls, field))


async def test_changes_requested_then_revised_and_resubmitted_then_approved(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await ask_changes(tg, await first_card(tg), "Cần số liệu năng suất trước và sau")
    assert "Đã yêu cầu bổ sung SK-2026-000001" in texts(calls)[0]
    told = sent_to(calls, WORKER)
    assert len(told) == 1 and "<b>Changes requested</b>" in told[0].text
    assert "Comment: Cần số liệu năng suất trước và sau" in told[0].text
    assert [label for label, _ in told[0].buttons] == [
        "✏️ Revise and resubmit",
        "Open the initiative",
    ]
    calls = await revise_field(tg, told, "Benefit")
    calls = await tg.text(WORKER, "Năng suất tăng từ 40 lên 52 tấm/giờ")
    calls = await tg.press(WORKER, button(calls, "Submit"))
    assert texts(calls)[0].startswith("Initiative SK-2026-000001 sent back for review.")
    assert sent_to(calls, WORKER)[0].text == texts(calls)[0]
    back = cards(calls, REVIEWER)
    assert len(back) == 1
    assert "Tác giả đã sửa" in back[0].text and "Hiệu quả" in back[0].text
    assert "ngày)\n✏️ <b>Tác giả đã sửa:</b>\n" in back[0].text  # the block starts on its own line
    assert "Năng suất tăng từ 40 lên 52 tấm/giờ" in back[0].text
    assert "Đã gửi lại" in back[0].text
    assert await initiative(harness, "status", "changed_fields", "review_round") == (
        "resubmitted",
        "benefit",
        1,
    )
    calls = await tg.press(REVIEWER, button(back, "✅ Công nhận"))
    told = sent_to(calls, WORKER)
    assert len(told) == 1 and told[0].text.startswith("🎉 Congratulations!")
    assert await initiative(harness, "status") == "approved"
    assert [row[:3] for row in await audit(harness)] == [
        ("request_changes", "submitted", "changes_requested"),
        ("resubmit", "changes_requested", "resubmitted"),
        ("approve", "resubmitted", "approved"),
    ]


async def test_the_old_card_is_stale_after_a_resubmission(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "Yêu cầu bổ sung"))
    told = sent_to(await tg.text(REVIEWER, "Cần ảnh chụp"), WORKER)
    calls = await tg.press(WORKER, button(told, "Revise"))
    calls = await tg.press(WORKER, button(calls, "Submit"))
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    assert texts(calls)[0].startswith("Tác giả Nguyễn Thị Lan đã sửa và gửi lại sáng kiến này lúc")
    assert await initiative(harness, "status") == "resubmitted"


async def test_a_typed_reason_starting_with_a_hash_is_kept_as_written(tg: TelegramDriver, harness: Harness) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "Không công nhận"))
    calls = await tg.text(REVIEWER, "#2 trùng với SK-2025-000017")
    assert await initiative(harness, "status") == "rejected"
    [told] = sent_to(calls, WORKER)
    assert "#2 trùng với SK-2025-000017" in told.text
    details = await tg.press(REVIEWER, f"v1:rv:dt:1:{await initiative(harness, 'version')}")
    assert "#2 trùng với SK-2025-000017" in texts(details)[0]
    assert not any("bot gặp lỗi" in text for text in texts(calls) + texts(details))


@pytest.mark.parametrize("typed", ["6 5 3", "Tốt, nên nhân rộng", "4 5"])
async def test_scores_outside_one_to_five_or_missing_are_refused_and_asked_again(
    tg: TelegramDriver, harness: Harness, typed: str
) -> None:
    card = await first_card(tg)
    await tg.press(REVIEWER, button([card], "chấm điểm"))
    calls = await tg.text(REVIEWER, typed)
    refused(calls, "Hãy bắt đầu bằng ba điểm từ 1 đến 5", "Anh/chị chấm điểm SK-2026-000001")
    assert await initiative(harness, "status") == "submitted"
    calls = await tg.text(REVIEWER, "4 5 3 Giải pháp tốt")
    assert await initiative(harness, "status") == "approved"
    assert await harness.query("select scores, comment from review_action where action <> 'submit'") == [
        ("4/5/3", "Giải pháp tốt")
    ]


async def test_a_withdrawal_is_in_the_audit_log_and_a_stale_card_names_the_author(
    tg: TelegramDriver, harness: Harness
) -> None:
    card = await first_card(tg, english_author=False)
    calls = await tg.press(WORKER, "v1:wd:1")
    await tg.press(WORKER, button(calls, "rút sáng kiến"))
    assert await audit(harness) == [("withdraw", "submitted", "withdrawn", "Nguyễn Thị Lan")]
    calls = await tg.press(REVIEWER, button([card], "✅ Công nhận"))
    assert texts(calls)[0].startswith("Tác giả Nguyễn Thị Lan đã rút sáng kiến này lúc")
    assert await initiative(harness, "status") == "withdrawn"


async def test_changed_co_authors_and_files_are_marked_on_the_resubmitted_card(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await ask_changes(tg, await first_card(tg), "Ghi đúng đồng tác giả, gửi ảnh")
    calls = await revise_field(tg, sent_to(calls, WORKER), "Co-authors")
    calls = await tg.text(WORKER, "50\nTrần Thị Cúc – 50")
    calls = await tg.press(WORKER, button(calls, "Edit a field"))
    calls = await tg.press(WORKER, button(calls, "Attachments"))
    await tg.photo(WORKER, "anh1")
    calls = await tg.press(WORKER, button(calls, "Back to the summary"))
    calls = await tg.press(WORKER, button(calls, "Submit"))
    [back] = cards(calls, REVIEWER)
    assert "Tác giả đã sửa" in back.text and "Đồng tác giả" in back.text and "Tệp đính kèm" in back.text
    assert await initiative(harness, "changed_fields") == "coauthors,attachments"


async def test_cancelling_a_revision_says_it_pauses_and_keeps_what_was_changed(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await ask_changes(tg, await first_card(tg), "Cần số liệu")
    calls = await revise_field(tg, sent_to(calls, WORKER), "Benefit")
    await tg.text(WORKER, "Năng suất tăng từ 40 lên 52 tấm/giờ")
    calls = await tg.text(WORKER, "/cancel")
    assert texts(calls)[0].startswith("Stop revising SK-2026-000001? What you changed is kept")
    calls = await tg.press(WORKER, button(calls, "Yes, stop revising"))
    assert texts(calls) == [
        "Revision of SK-2026-000001 paused; it still waits for your changes. Open it again from /my."
    ]
    assert await initiative(harness, "status", "benefit") == (
        "changes_requested",
        "Năng suất tăng từ 40 lên 52 tấm/giờ",
    )


async def test_the_history_starts_with_the_submission(tg: TelegramDriver, harness: Harness) -> None:
    """Submitting is a transition of the workflow like any other: it opens the audit log."""
    card = await first_card(tg, english_author=False)
    rows = await harness.query(
        "select a.action, a.from_status, a.to_status, u.full_name from review_action a"
        " left join app_user u on u.id = a.actor_id order by a.id"
    )
    assert rows == [("submit", "draft", "submitted", "Nguyễn Thị Lan")]
    details = await tg.press(REVIEWER, button([card], "Lịch sử xử lý"))
    assert "Nguyễn Thị Lan: gửi (Bản nháp → Đã gửi)" in texts(details)[0]
