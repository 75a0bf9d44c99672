"""Reviewers approve, reject and request changes in chat; the author is told at every step."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_ID, Harness, fill_core, register, submit
from tests.fake_telegram import Call, Person, TelegramDriver, button, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

WORKER = Person(501, first_name="Lan")
REVIEWER = Person(601, first_name="Hùng", username="hung_cd")
ADMIN = Person(ADMIN_ID, first_name="Admin")


def sent_to(calls: list[Call], person: Person) -> list[Call]:
    """The messages the bot sent to one person's private chat."""
    return [c for c in calls if int(c.params.get("chat_id", 0)) == person.id and c.method == "sendMessage"]


async def make_reviewer(tg: TelegramDriver, person: Person) -> list[Call]:
    """Register `person` in MAY10 and have the admin grant them reviewer rights on MAY10."""
    await register(tg, person, name="Trần Văn Hùng")
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị Viên")
    calls = await tg.text(ADMIN, f"/grant @{person.username}")
    return await tg.press(ADMIN, button(calls, "May 10"))


async def test_admin_grants_rights_and_the_reviewer_is_told(tg: TelegramDriver, harness: Harness) -> None:
    calls = await make_reviewer(tg, REVIEWER)
    assert "Trần Văn Hùng" in texts(calls)[0] and "May 10" in texts(calls)[0]
    assert any("/pending" in c.text for c in sent_to(calls, REVIEWER))
    rows = await harness.query(
        "select u.username, n.code from reviewer r join app_user u on u.id = r.user_id join unit n on n.id = r.unit_id"
    )
    assert rows == [("hung_cd", "MAY10")]


async def test_submission_reaches_the_reviewer_who_approves_and_the_author_is_told(
    tg: TelegramDriver, harness: Harness
) -> None:
    await make_reviewer(tg, REVIEWER)
    await register(tg, WORKER)
    calls = await submit(tg, WORKER)
    cards = sent_to(calls, REVIEWER)
    assert cards and "SK-2026-000001" in cards[0].text and "Máy cắt vải tự động" in cards[0].text
    calls = await tg.press(REVIEWER, button(cards, "Công nhận"))
    assert any("Đã công nhận" in t for t in texts(calls))
    told = sent_to(calls, WORKER)
    assert told and told[0].text.startswith("🎉 Chúc mừng! Sáng kiến <b>SK-2026-000001</b>")
    assert "<b>đã được công nhận</b> (cấp cơ sở, Công đoàn Công ty May 10)" in told[0].text
    assert await harness.query("select status, recognised_level from initiative") == [("approved", "grassroots")]
    audit = await harness.query("select action, from_status, to_status from review_action where action <> 'submit'")
    assert audit == [("approve", "submitted", "approved")]


async def test_changes_requested_then_resubmitted_come_back_marked(tg: TelegramDriver, harness: Harness) -> None:
    await make_reviewer(tg, REVIEWER)
    await register(tg, WORKER)
    cards = sent_to(await submit(tg, WORKER), REVIEWER)
    calls = await tg.press(REVIEWER, button(cards, "Yêu cầu bổ sung"))
    calls = await tg.text(REVIEWER, "Cần thêm số liệu năng suất trước và sau")
    told = sent_to(calls, WORKER)
    assert "Cần thêm số liệu" in told[0].text
    calls = await tg.press(WORKER, button(told, "Sửa và gửi lại"))
    calls = await tg.press(WORKER, button(calls, "Sửa một mục"))
    calls = await tg.press(WORKER, button(calls, "Hiệu quả"))
    calls = await tg.text(WORKER, "Năng suất tăng từ 40 lên 52 tấm/giờ")
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    back = sent_to(calls, REVIEWER)
    assert back and "Tác giả đã sửa" in back[0].text and "Hiệu quả" in back[0].text
    assert await harness.query("select status, changed_fields from initiative") == [("resubmitted", "benefit")]


async def test_look_alikes_are_shown_to_the_author_before_submitting_and_on_the_card(
    tg: TelegramDriver, harness: Harness
) -> None:
    await make_reviewer(tg, REVIEWER)
    await register(tg, WORKER)
    await submit(tg, WORKER, title="Máy cắt vải tự động bằng cảm biến quang")
    calls = await fill_core(tg, WORKER, title="May cat vai tu dong dung cam bien quang")
    for _ in range(3):
        calls = await tg.press(WORKER, button(calls, "Bỏ qua"))
    calls = await tg.press(WORKER, button(calls, "Xong"))
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    warning = texts(calls)[-1]
    assert "có vẻ giống" in warning and "SK-2026-000001" in warning
    assert await harness.query("select count(*) from initiative where status = 'submitted'") == [(1,)]
    calls = await tg.press(WORKER, button(calls, "Vẫn gửi"))
    assert "SK-2026-000002" in texts(calls)[0]
    card = sent_to(calls, REVIEWER)[0].text
    assert "Có thể trùng với" in card and "SK-2026-000001" in card
    assert "ngày)\n🔎 <b>Có thể trùng với:</b>\n" in card  # the block starts on its own line
