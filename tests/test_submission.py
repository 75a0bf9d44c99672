"""The guided submission flow: answers stored at once, navigation, summary, receipt."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FLOW_ANSWERS, Harness, answer_until, draft_row, register, submit
from tests.fake_telegram import Person, TelegramDriver, button, last_buttons, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501)


@pytest.fixture
async def lan(tg: TelegramDriver) -> Person:
    """A registered worker."""
    await register(tg, LAN)
    return LAN


async def test_full_submission_stores_every_answer_and_gives_a_receipt(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "attachments")
    await tg.photo(lan, "ph1", size=54321)
    await tg.photo(lan, "ph2", size=65432)
    calls = await tg.document(lan, "doc1", name="ban-ve.pdf")
    assert "Đã nhận 3 tệp" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Xong"))

    summary = texts(calls)[-1]
    for shown in (
        "Máy cắt vải tự động",
        "Tăng năng suất lao động",
        "Giải pháp kỹ thuật",
        "Cắt thủ công, chậm và lệch đường may",
        "Gắn cảm biến quang và bàn trượt",
        "Năng suất tăng 20 %",
        "50.000.000 đ",
        "01/02/2026",
        "<b>Tác giả (bạn):</b> 50%",
        "• Nguyễn Văn Bình: 30%",
        "• Trần Thị Cúc: 20%",
        "Cần khí nén 6 bar",
        "Sơ đồ mạch cảm biến",
        "<b>Tệp đính kèm:</b> 3",
    ):
        assert shown in summary
    assert [label for label, _ in last_buttons(calls)] == [
        "📨 Gửi sáng kiến",
        "✏️ Sửa một mục",
        "🗑 Huỷ",
    ]

    calls = await tg.press(lan, button(calls, "Gửi sáng kiến"))
    receipt = texts(calls)[-1]
    assert "SK-2026-000001" in receipt
    assert "25/02/2027" in receipt
    assert "Máy cắt vải tự động" in receipt

    rows = await harness.query(
        "select id, code, status, submitted_at, decision_due, author_percent, category, kind,"
        " benefit_vnd, applied_since, conditions, confidential from initiative"
    )
    assert len(rows) == 1
    (ident, code, status, submitted_at, due, percent, *rest) = rows[0]
    assert (code, status, due, percent) == ("SK-2026-000001", "submitted", "2027-02-25", 50)
    assert str(submitted_at).startswith("2026-11-25 03:00")
    assert rest == [
        "productivity",
        "technical",
        50_000_000,
        "2026-02-01",
        "Cần khí nén 6 bar",
        "Sơ đồ mạch cảm biến",
    ]
    assert await harness.query("select position, name, percent from coauthor where initiative_id = :i", i=ident) == [
        (0, "Nguyễn Văn Bình", 30),
        (1, "Trần Thị Cúc", 20),
    ]
    assert await harness.query(
        "select kind, file_id, size, mime_type, file_name from attachment where initiative_id = :i order by id",
        i=ident,
    ) == [
        ("photo", "ph1-id", 54321, "image/jpeg", None),
        ("photo", "ph2-id", 65432, "image/jpeg", None),
        ("document", "doc1-id", 120000, "application/pdf", "ban-ve.pdf"),
    ]
    assert await harness.query("select kind, initiative_id from domain_event") == [("initiative_submitted", ident)]


async def test_second_submission_gets_the_next_code(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    await submit(tg, lan)
    calls = await submit(tg, lan, title="Khuôn gá hàn nhanh")
    assert "SK-2026-000002" in texts(calls)[-1]
    rows = await harness.query("select code, title from initiative order by id")
    assert rows == [
        ("SK-2026-000001", "Máy cắt vải tự động"),
        ("SK-2026-000002", "Khuôn gá hàn nhanh"),
    ]
    assert len(await harness.query("select id from domain_event")) == 2


# (step just answered, column that holds the answer, stored value, step the draft moves to)
STORED_AT_ONCE = [
    ("title", "title", "Máy cắt vải tự động", "category"),
    ("category", "category", "productivity", "kind"),
    ("kind", "kind", "technical", "problem"),
    ("problem", "problem", FLOW_ANSWERS["problem"], "solution"),
    ("solution", "solution", FLOW_ANSWERS["solution"], "benefit"),
    ("benefit", "benefit", FLOW_ANSWERS["benefit"], "benefit_vnd"),
    ("benefit_vnd", "benefit_vnd", 50_000_000, "applied_since"),
    ("applied_since", "applied_since", "2026-02-01", "coauthors"),
    ("coauthors", "author_percent", 50, "conditions"),
    ("conditions", "conditions", FLOW_ANSWERS["conditions"], "confidential"),
    ("confidential", "confidential", FLOW_ANSWERS["confidential"], "attachments"),
]


async def test_every_answer_is_stored_the_moment_it_is_accepted(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "title")
    assert await draft_row(harness, "step", "title") == ("title", None)
    for answered, column, value, following in STORED_AT_ONCE:
        answer = FLOW_ANSWERS[answered]
        if answered in ("category", "kind"):
            calls = await tg.press(lan, button(calls, answer))
        else:
            calls = await tg.text(lan, answer)
        assert await draft_row(harness, "step", column) == (following, value), answered
    await tg.photo(lan, "ph1")
    assert await draft_row(harness, "step") == ("attachments",)
    assert await harness.query("select file_id from attachment") == [("ph1-id",)]
    assert len(await harness.query("select id from coauthor")) == 2


async def test_back_goes_one_step_back_keeping_answers(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    calls = await answer_until(tg, lan, "solution")
    calls = await tg.press(lan, button(calls, "Quay lại"))
    assert "Bước 4/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "title", "kind", "problem") == (
        "problem",
        FLOW_ANSWERS["title"],
        "technical",
        FLOW_ANSWERS["problem"],
    )
    calls = await tg.press(lan, button(calls, "Quay lại"))
    assert "loại giải pháp" in texts(calls)[-1]
    assert "Giải pháp kỹ thuật" in [label for label, _ in last_buttons(calls)]
    assert await draft_row(harness, "step", "problem") == ("kind", FLOW_ANSWERS["problem"])
    await tg.press(lan, button(calls, "Giải pháp quản lý"))
    await tg.text(lan, "Vấn đề viết lại")
    assert await draft_row(harness, "step", "kind", "problem", "title") == (
        "solution",
        "management",
        "Vấn đề viết lại",
        FLOW_ANSWERS["title"],
    )


@pytest.mark.parametrize(
    ("label", "answer", "column", "stored", "shown"),
    [
        ("Tên", "Bàn ủi hơi cải tiến", "title", "Bàn ủi hơi cải tiến", "Bàn ủi hơi cải tiến"),
        ("Giá trị làm lợi", "1,5 tỷ", "benefit_vnd", 1_500_000_000, "1.500.000.000 đ"),
        ("Ngày áp dụng", "chưa áp dụng", "applied_since", None, "Áp dụng từ:</b> chưa áp dụng"),
    ],
)
async def test_edit_from_summary_returns_to_summary_with_new_value(
    tg: TelegramDriver,
    harness: Harness,
    lan: Person,
    label: str,
    answer: str,
    column: str,
    stored: Any,
    shown: str,
) -> None:
    calls = await answer_until(tg, lan, "summary")
    calls = await tg.press(lan, button(calls, "Sửa một mục"))
    assert "Chọn mục muốn sửa" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, label))
    assert await draft_row(harness, "step", "editing") == (column, 1)
    assert "Về bản tóm tắt" in [label for label, _ in last_buttons(calls)][-1]
    calls = await tg.text(lan, answer)
    assert "Kiểm tra lại sáng kiến" in texts(calls)[-1]
    assert shown in texts(calls)[-1]
    assert await draft_row(harness, "step", "editing", column, "problem") == (
        "summary",
        0,
        stored,
        FLOW_ANSWERS["problem"],
    )


@pytest.mark.parametrize(
    ("field", "typed", "stored", "shown"),
    [
        ("benefit_vnd", "1,5 tỷ", 1_500_000_000, "<b>Giá trị làm lợi:</b> 1.500.000.000 đ"),
        ("benefit_vnd", "50.000.000đ", 50_000_000, "<b>Giá trị làm lợi:</b> 50.000.000 đ"),
        ("benefit_vnd", "không xác định được", None, "Giá trị làm lợi:</b> không xác định được"),
        ("applied_since", "chưa áp dụng", None, "<b>Áp dụng từ:</b> chưa áp dụng"),
        ("applied_since", "15/03/2026", "2026-03-15", "<b>Áp dụng từ:</b> 15/03/2026"),
    ],
)
async def test_natural_values_are_accepted_and_shown_formatted(
    tg: TelegramDriver,
    harness: Harness,
    lan: Person,
    field: str,
    typed: str,
    stored: Any,
    shown: str,
) -> None:
    calls = await answer_until(tg, lan, "summary", **{field: typed})
    assert shown in texts(calls)[-1]
    assert await draft_row(harness, field) == (stored,)


async def test_cancel_on_summary_asks_then_deletes_the_draft(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    calls = await answer_until(tg, lan, "attachments")
    calls = await tg.photo(lan, "ph1")
    calls = await tg.press(lan, button(calls, "Xong"))
    calls = await tg.press(lan, button(calls, "Huỷ"))
    assert "Huỷ sáng kiến đang soạn?" in texts(calls)[-1]
    assert await draft_row(harness, "step") == ("summary",)  # asking deletes nothing
    calls = await tg.press(lan, button(calls, "Có, huỷ bản nháp"))
    assert "Đã huỷ bản nháp" in texts(calls)[-1]
    for table in ("initiative", "coauthor", "attachment"):
        assert await harness.query(f"select count(*) from {table}") == [(0,)]


async def test_slash_cancel_mid_flow_can_be_kept_or_confirmed(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "solution")
    calls = await tg.text(lan, "/cancel")
    assert "Huỷ sáng kiến đang soạn?" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Không, giữ lại"))
    assert "Bước 5/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "problem") == ("solution", FLOW_ANSWERS["problem"])
    calls = await tg.text(lan, "/cancel")
    calls = await tg.press(lan, button(calls, "Có, huỷ bản nháp"))
    assert "Đã huỷ bản nháp" in texts(calls)[-1]
    assert await harness.query("select count(*) from initiative") == [(0,)]


async def test_new_with_open_draft_offers_to_continue(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    await answer_until(tg, lan, "solution")
    calls = await tg.text(lan, "/new")
    assert "Máy cắt vải tự động" in texts(calls)[-1]
    assert "5/12" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Tiếp tục"))
    assert "Bước 5/12" in texts(calls)[-1] and "Giải pháp" in texts(calls)[-1]
    await tg.text(lan, "Giải pháp mới")
    assert await draft_row(harness, "step", "title", "solution") == (
        "benefit",
        FLOW_ANSWERS["title"],
        "Giải pháp mới",
    )


async def test_new_with_open_draft_can_start_over(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    await answer_until(tg, lan, "attachments")
    await tg.photo(lan, "ph1")
    calls = await tg.text(lan, "/new")
    calls = await tg.press(lan, button(calls, "Làm lại từ đầu"))
    calls = await tg.press(lan, button(calls, "Có, xoá và làm lại"))
    assert "Bước 1/12" in texts(calls)[-1]
    assert await draft_row(harness, "step", "title", "problem") == ("title", None, None)
    assert await harness.query("select count(*) from initiative") == [(1,)]
    assert await harness.query("select count(*) from coauthor") == [(0,)]
    assert await harness.query("select count(*) from attachment") == [(0,)]


async def attached(harness: Harness) -> list[str]:
    """The file ids stored for the open draft, in the order they were sent."""
    rows = await harness.query(
        "select a.file_id from attachment a join initiative i on i.id = a.initiative_id"
        " where i.status = 'draft' order by a.id"
    )
    return [file_id for (file_id,) in rows]


async def test_editing_the_attachments_keeps_the_files_until_the_worker_removes_them(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "attachments")
    await tg.photo(lan, "ph1")
    calls = await tg.photo(lan, "ph2")
    calls = await tg.press(lan, button(calls, "Xong"))
    calls = await tg.press(lan, button(calls, "Sửa một mục"))
    calls = await tg.press(lan, button(calls, "Tệp đính kèm"))
    assert "Đã có <b>2 tệp</b> đính kèm" in texts(calls)[-1]
    assert await attached(harness) == ["ph1-id", "ph2-id"]

    calls = await tg.photo(lan, "ph3")
    assert "Đã nhận 3 tệp" in texts(calls)[-1]
    calls = await tg.press(lan, button(calls, "Xong"))
    assert "<b>Tệp đính kèm:</b> 3" in texts(calls)[-1]
    assert await attached(harness) == ["ph1-id", "ph2-id", "ph3-id"]

    calls = await tg.press(lan, button(calls, "Sửa một mục"))
    calls = await tg.press(lan, button(calls, "Tệp đính kèm"))
    calls = await tg.press(lan, button(calls, "Xoá các tệp"))
    assert "Đã xoá 3 tệp đính kèm." in texts(calls)[-1]
    assert "Gửi <b>ảnh hoặc tài liệu</b>" in texts(calls)[-1]
    assert await attached(harness) == []
    await tg.photo(lan, "ph4")
    calls = await tg.press(lan, button(calls, "Về bản tóm tắt"))
    assert "<b>Tệp đính kèm:</b> 1" in texts(calls)[-1]
    assert await attached(harness) == ["ph4-id"]
    assert await draft_row(harness, "step", "editing") == ("summary", 0)
