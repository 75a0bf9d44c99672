"""/pending: what waits for a reviewer, oldest first, with age and the statutory deadline,
paginated and filtered; /review CODE opens a card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from tests.conftest import NOW, FakeClock, Harness
from tests.fake_telegram import Person, TelegramDriver, button, texts
from tests.review_support import (
    ADMIN,
    OUTSIDER,
    REVIEWER,
    UPPER,
    WORKER,
    alert,
    cards,
    edits,
    enroll,
    enroll_admin,
    grant,
    submit_as,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

DUC_WORKER = Person(531, first_name="Giang")
TITLES = ["Máy cắt vải tự động", "Khuôn may túi nhanh", "Đèn LED tiết kiệm", "Sổ tay an toàn"]


@pytest.fixture
def config(config: Config) -> Config:
    """CD-KCN's reviewers also review the grassroots units below it."""
    return config.model_copy(update={"units": units_with("CD-KCN", covers_below=True)})


async def four_waiting(tg: TelegramDriver, clock: FakeClock, days_apart: int = 1) -> None:
    """A reviewer of MAY10 and four initiatives submitted `days_apart` days after each other."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    for index, title in enumerate(TITLES):
        await submit_as(tg, WORKER, title, category=1 if index == 2 else 2)
        clock.now += timedelta(days=days_apart)


async def test_pending_lists_oldest_first_with_age_and_due_date_and_pages(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)
    clock.now = NOW + timedelta(days=10)
    calls = await tg.text(REVIEWER, "/pending")
    assert texts(calls) == [
        "<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2, cũ nhất trước:\n"
        "• SK-2026-000001 · Máy cắt vải tự động · Đã gửi · chờ 10 ngày · hạn 25/02/2027\n"
        "• SK-2026-000002 · Khuôn may túi nhanh · Đã gửi · chờ 9 ngày · hạn 26/02/2027\n"
        "• SK-2026-000003 · Đèn LED tiết kiệm · Đã gửi · chờ 8 ngày · hạn 27/02/2027\n"
        "Bấm mã để mở phiếu."
    ]
    assert [label for label, _ in calls[-1].buttons] == [
        "SK-2026-000001",
        "SK-2026-000002",
        "SK-2026-000003",
        "Sau ▶️",
    ]
    calls = await tg.press(REVIEWER, button(calls, "Sau"))
    assert [c.method for c in calls if c.method == "sendMessage"] == []
    page = edits(calls)
    assert len(page) == 1
    assert page[0].text == (
        "<b>Sáng kiến chờ xét duyệt</b> (4), trang 2/2, cũ nhất trước:\n"
        "• SK-2026-000004 · Sổ tay an toàn · Đã gửi · chờ 7 ngày · hạn 28/02/2027\n"
        "Bấm mã để mở phiếu."
    )
    assert [label for label, _ in page[0].buttons] == ["SK-2026-000004", "◀️ Trước"]
    calls = await tg.press(REVIEWER, button(page, "Trước"))
    assert edits(calls)[0].text.startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2")


async def test_items_within_two_weeks_of_the_deadline_are_flagged(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock, days_apart=3)  # due 25/02, 28/02, 01/03, 04/03/2027
    clock.now = datetime(2027, 2, 16, 3, 0, tzinfo=UTC)
    calls = await tg.text(REVIEWER, "/pending")
    lines = texts(calls)[0].split("\n")[1:4]
    assert lines == [
        "• ⚠️ SK-2026-000001 · Máy cắt vải tự động · Đã gửi · chờ 83 ngày · <b>hạn 25/02/2027</b>",
        "• ⚠️ SK-2026-000002 · Khuôn may túi nhanh · Đã gửi · chờ 80 ngày · <b>hạn 28/02/2027</b>",
        "• ⚠️ SK-2026-000003 · Đèn LED tiết kiệm · Đã gửi · chờ 77 ngày · <b>hạn 01/03/2027</b>",
    ]
    calls = await tg.press(REVIEWER, button(calls, "Sau"))
    assert "• SK-2026-000004 · Sổ tay an toàn · Đã gửi · chờ 74 ngày · hạn 04/03/2027" in edits(calls)[0].text
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    assert "(còn 9 ngày) ⚠️ sắp hết hạn" in texts(calls)[0]


async def test_a_card_past_its_deadline_says_overdue_not_days_left(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)  # SK-2026-000001 due 25/02/2027, SK-2026-000002 on 26/02/2027
    clock.now = datetime(2027, 2, 26, 3, 0, tzinfo=UTC)
    late = texts(await tg.text(REVIEWER, "/review SK-2026-000001"))[0]
    assert "<b>Hạn trả lời:</b> 25/02/2027 (⚠️ đã quá hạn 1 ngày)\n" in late
    today = texts(await tg.text(REVIEWER, "/review SK-2026-000002"))[0]
    assert "<b>Hạn trả lời:</b> 26/02/2027 (⚠️ hết hạn hôm nay)\n" in today
    assert "(còn " not in late + today and "sắp hết hạn" not in late + today


async def test_decided_initiatives_leave_the_queue(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)
    calls = await tg.text(REVIEWER, "/pending")
    calls = await tg.press(REVIEWER, button(calls, "SK-2026-000001"))
    calls = await tg.press(REVIEWER, button(cards(calls, REVIEWER), "✅ Công nhận"))
    calls = await tg.text(REVIEWER, "/pending")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (3), trang 1/1")
    assert "SK-2026-000001" not in texts(calls)[0]


async def test_pending_filters_by_unit_code_and_by_category(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc")
    await enroll(tg, DUC_WORKER, unit_query="may duc", phone="0912 000 531", name="Mai Thị Giang")
    calls = await submit_as(tg, DUC_WORKER, "Bàn là hơi cải tiến")
    assert len(cards(calls, UPPER)) == 1 and cards(calls, REVIEWER) == []  # covers below
    calls = await tg.text(UPPER, "/pending")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (5), trang 1/2")
    calls = await tg.text(UPPER, "/pending mayduc")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (1), trang 1/1")
    assert "SK-2026-000005 · Bàn là hơi cải tiến" in texts(calls)[0]
    calls = await tg.text(UPPER, "/pending MAY10")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2")
    calls = await tg.press(UPPER, button(calls, "Sau"))  # the filter holds on the next page
    assert edits(calls)[0].text.startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 2/2")
    assert "SK-2026-000004" in edits(calls)[0].text
    calls = await tg.text(UPPER, "/pending DIENCO")
    assert texts(calls) == ["Không có sáng kiến nào đang chờ anh/chị xét duyệt. 👍"]
    calls = await tg.text(UPPER, "/pending production")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (1), trang 1/1")
    assert "SK-2026-000003 · Đèn LED tiết kiệm" in texts(calls)[0]
    calls = await tg.text(UPPER, "/pending pandemic")
    assert texts(calls) == ["Không có sáng kiến nào đang chờ anh/chị xét duyệt. 👍"]


async def test_pending_filters_by_unit_name_and_asks_which_when_several_match(
    tg: TelegramDriver, clock: FakeClock
) -> None:
    await four_waiting(tg, clock)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc")
    await enroll(tg, DUC_WORKER, unit_query="may duc", phone="0912 000 531", name="Mai Thị Giang")
    await submit_as(tg, DUC_WORKER, "Bàn là hơi cải tiến")
    calls = await tg.text(UPPER, "/pending Đức Giang")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (1), trang 1/1")
    assert "SK-2026-000005 · Bàn là hơi cải tiến" in texts(calls)[0]
    calls = await tg.text(UPPER, "/pending cong ty may")
    assert texts(calls) == ["Có nhiều đơn vị khớp với “cong ty may”; chọn một:"]
    labels = [label for label, _ in calls[-1].buttons]
    assert labels == ["Công đoàn Công ty May 10", "Công đoàn Công ty May Đức Giang"]
    calls = await tg.press(UPPER, button(calls, "May 10"))
    assert edits(calls)[0].text.startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2")
    calls = await tg.text(REVIEWER, "/pending Đức Giang")  # not his unit: not found among his
    assert texts(calls)[0].startswith("Không hiểu bộ lọc “Đức Giang”")


async def test_an_admin_sees_the_queue_of_any_unit_and_opens_its_cards(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)
    await enroll_admin(tg)
    calls = await tg.text(ADMIN, "/pending")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2")
    calls = await tg.text(ADMIN, "/pending may 10")
    assert texts(calls)[0].startswith("<b>Sáng kiến chờ xét duyệt</b> (4), trang 1/2")
    calls = await tg.press(ADMIN, button(calls, "SK-2026-000002"))
    assert "Khuôn may túi nhanh" in texts(calls)[0]
    assert [label for label, _ in calls[-1].buttons] == ["🕘 Lịch sử xử lý"]  # seeing is not deciding
    approve = button(calls, "Lịch sử xử lý").replace(":dt:", ":ap:")
    calls = await tg.press(ADMIN, approve)
    assert alert(calls)["text"] == "Anh/chị không phải người xét duyệt của đơn vị này."


async def test_a_unit_the_reviewer_does_not_review_is_not_shown_as_his_queue(
    tg: TelegramDriver, clock: FakeClock
) -> None:
    await four_waiting(tg, clock)
    calls = await tg.text(REVIEWER, "/pending MAYDUC")
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]
    calls = await tg.press(REVIEWER, "v1:pq:0:4:all")  # a forged page of MAYDUC
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]


async def test_pending_refuses_unknown_filters_and_non_reviewers(tg: TelegramDriver, clock: FakeClock) -> None:
    await four_waiting(tg, clock)
    calls = await tg.text(REVIEWER, "/pending abc<b>")
    assert texts(calls) == [
        "Không hiểu bộ lọc “abc&lt;b&gt;”. Anh/chị hãy gõ mã đơn vị, tên đơn vị hoặc mã lĩnh vực,"
        " ví dụ /pending MAY10 hoặc /pending may 10."
    ]
    calls = await tg.text(WORKER, "/pending")
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]


async def test_review_by_code_opens_the_card_for_a_reviewer_only(
    tg: TelegramDriver, clock: FakeClock, harness: Harness
) -> None:
    await four_waiting(tg, clock)
    calls = await tg.text(REVIEWER, "/review SK-2026-000002")
    assert len(cards(calls, REVIEWER)) == 1 and "Khuôn may túi nhanh" in texts(calls)[0]
    calls = await tg.text(REVIEWER, "/review sk-2026-000003")
    assert "Đèn LED tiết kiệm" in texts(calls)[0]
    await enroll(tg, OUTSIDER, phone="0912 000 801")
    calls = await tg.text(OUTSIDER, "/review SK-2026-000002")
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]
    calls = await tg.text(REVIEWER, "/review SK-2026-999999")
    assert texts(calls) == ["Không tìm thấy sáng kiến có mã SK-2026-999999. Ví dụ: /review SK-2026-000123"]
    calls = await tg.text(REVIEWER, "/review")
    assert texts(calls)[0].startswith("Không tìm thấy sáng kiến có mã")
    assert await harness.query("select count(*) from review_action where action <> 'submit'") == [(0,)]
