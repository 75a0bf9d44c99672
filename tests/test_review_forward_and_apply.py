"""Forwarding upward (recognised again at the next level) and marking a recognised initiative
applied with the benefit measured."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.fake_telegram import Call, Person, TelegramDriver, button, in_order, refused, texts
from tests.review_support import (
    REVIEWER,
    UPPER,
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

CITY_WORKER = Person(521, first_name="Cúc")
CITY_REVIEWER = Person(621, first_name="Sơn", username="son_ldld")


async def approved_card(tg: TelegramDriver) -> list[Call]:
    """MAY10 reviewer, CD-KCN reviewer (from May Đức Giang), an English author; recognised."""
    await grant(tg, REVIEWER)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc")
    await enroll(tg, WORKER, english=True)
    calls = await submit_as(tg, WORKER, english=True)
    assert cards(calls, UPPER) == []  # the upper unit does not cover MAY10
    return await tg.press(REVIEWER, button(cards(calls, REVIEWER), "✅ Công nhận"))


async def test_recognised_initiative_is_forwarded_up_and_recognised_again(tg: TelegramDriver, harness: Harness) -> None:
    calls = await approved_card(tg)
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển lên cấp trên"))
    assert texts(calls)[0] == "Đã chuyển SK-2026-000001 lên Công đoàn các Khu công nghiệp Hà Nội để xét công nhận."
    told = sent_to(calls, WORKER)
    assert [t.text for t in told] == [
        "📤 Your initiative <b>SK-2026-000001</b> “Máy cắt vải tự động” was forwarded to Công đoàn các Khu"
        " công nghiệp Hà Nội to be considered for recognition.\nIt stays recognised at the grassroots level."
        "\nForwarded by: Trần Văn Hùng"
    ]
    upper_card = cards(calls, UPPER)
    assert len(upper_card) == 1 and cards(calls, REVIEWER) == []
    text = upper_card[0].text
    assert "· Đã công nhận, đang xét ở cấp trên · cấp trên trực tiếp (Công đoàn các Khu công nghiệp Hà Nội)" in text
    assert "<b>Tác giả:</b> Nguyễn Thị Lan (100%) · ☎ +84912345678 · Công đoàn Công ty May 10" in text
    assert "🏅 Đã được công nhận ở cấp cơ sở ngày 25/11/2026 (Trần Văn Hùng, Công đoàn Công ty May 10)" in text
    assert await initiative(harness, "status", "review_level", "recognised_level", "review_round") == (
        "nominated",
        "upper",
        "grassroots",
        1,
    )
    # the grassroots reviewer no longer acts on it
    calls = await tg.press(REVIEWER, button(upper_card, "✅ Công nhận"))
    assert texts(calls)[0] == "Anh/chị không phải người xét duyệt của đơn vị này."
    calls = await tg.press(UPPER, button(upper_card, "✅ Công nhận"))
    assert "Đã công nhận sáng kiến SK-2026-000001" in texts(calls)[0]
    told = sent_to(calls, WORKER)
    assert told[0].text.startswith(
        "🎉 Congratulations! Your initiative <b>SK-2026-000001</b> “Máy cắt vải tự động” is <b>recognised</b>"
        " (upper level, Công đoàn các Khu công nghiệp Hà Nội).\nBy: Đỗ Văn Dũng"
    )
    # the reviewer who forwarded it learns the upper unit's decision
    assert [c.text for c in sent_to(calls, REVIEWER)] == [
        "🔔 Công đoàn các Khu công nghiệp Hà Nội đã xét sáng kiến <b>SK-2026-000001</b> “Máy cắt vải tự động”"
        " do anh/chị chuyển lên: <b>công nhận ở cấp trên trực tiếp</b>.\nNgười xử lý: Đỗ Văn Dũng"
    ]
    assert await initiative(harness, "status", "recognised_level") == ("approved", "upper")
    assert await audit(harness) == [
        ("approve", "submitted", "approved", "Trần Văn Hùng"),
        ("forward", "approved", "nominated", "Trần Văn Hùng"),
        ("approve", "nominated", "approved", "Đỗ Văn Dũng"),
    ]
    levels = await harness.query("select level from review_action where action <> 'submit' order by id")
    assert levels == [("grassroots",), ("upper",), ("upper",)]


async def test_a_forwarded_recognition_cannot_be_withdrawn_and_stays_readable_below(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await approved_card(tg)
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển lên cấp trên"))
    upper_card = cards(calls, UPPER)
    version = await initiative(harness, "version")
    mine = await tg.text(WORKER, "/my")
    status = "Recognised, under review at the upper level"
    assert mine[-1].buttons[0][0] == f"SK-2026-000001 · Máy cắt vải tự động · {status}"
    opened = await tg.press(WORKER, mine[-1].buttons[0][1])
    assert texts(opened)[0].startswith(f"<b>SK-2026-000001</b> · {status}")
    assert "Withdraw" not in [label for label, _ in opened[-1].buttons]
    for forged in ("v1:wd:1", f"v1:wdok:1:{version}"):
        calls = await tg.press(WORKER, forged)
        assert texts(calls) == [f"An initiative that is “{status}” cannot be withdrawn."]
    assert await initiative(harness, "status", "recognised_level") == ("nominated", "grassroots")
    assert [label for label, _ in upper_card[0].buttons] == [
        "✅ Công nhận",
        "📝 Công nhận, chấm điểm",
        "❌ Không công nhận",  # declines to recognise it again: never a rejection, never sent back
        "⬆️ Chuyển lên cấp trên",
        "🏭 Ghi nhận đã áp dụng",
        "🕘 Lịch sử xử lý",
    ]
    # the grassroots reviewer still opens it, to read
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    [shown] = sent_to(calls, REVIEWER)
    assert "· Đã công nhận, đang xét ở cấp trên ·" in shown.text
    assert [label for label, _ in shown.buttons] == ["🕘 Lịch sử xử lý"]
    calls = await tg.press(REVIEWER, shown.buttons[0][1])
    assert texts(calls)[0].startswith("<b>Lịch sử xử lý SK-2026-000001</b>")
    assert await initiative(harness, "status") == "nominated"


async def test_an_undecided_initiative_can_be_forwarded_when_the_unit_cannot_decide(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc")
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)
    calls = await tg.press(REVIEWER, button(card, "Chuyển lên cấp trên"))
    assert len(cards(calls, UPPER)) == 1
    assert await initiative(harness, "status", "review_level", "recognised_level") == (
        "submitted",
        "upper",
        None,
    )


async def test_forward_is_refused_where_there_is_no_upper_unit(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, CITY_REVIEWER, "Liên đoàn", unit_query="lien doan lao dong", name="Hà Văn Sơn")
    await enroll(tg, CITY_WORKER, unit_query="lien doan lao dong", phone="0913 000 521", name="Lý Thị Cúc")
    card = cards(await submit_as(tg, CITY_WORKER), CITY_REVIEWER)
    calls = await tg.press(CITY_REVIEWER, button(card, "✅ Công nhận"))
    calls = await tg.press(CITY_REVIEWER, button(edits(calls), "Chuyển lên cấp trên"))
    assert texts(calls) == ["Đơn vị này không có cấp trên để chuyển."]
    assert await initiative(harness, "status", "review_level") == ("approved", "city")
    assert [row[0] for row in await audit(harness)] == ["approve"]


async def test_mark_applied_records_the_measured_benefit_and_tells_the_author(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await approved_card(tg)
    calls = await tg.press(REVIEWER, button(edits(calls), "Ghi nhận đã áp dụng"))
    assert texts(calls) == [
        "SK-2026-000001 được áp dụng từ ngày nào? Tác giả ghi 01/02/2026: bấm nút để xác nhận, hoặc gõ ngày khác"
        " (ngày/tháng/năm, ví dụ 15/03/2026)."
    ]
    assert [label for label, _ in calls[-1].buttons] == ["✅ Từ 01/02/2026, như tác giả ghi", "↩️ Huỷ, về phiếu"]
    calls = await tg.press(REVIEWER, button(calls, "như tác giả ghi"))
    assert texts(calls)[0].startswith("Giá trị làm lợi đo được khi áp dụng SK-2026-000001")
    calls = await tg.text(REVIEWER, "nhiều lắm")
    again = refused(calls, "Chưa đọc được số tiền", "Giá trị làm lợi đo được khi áp dụng SK-2026-000001")
    assert again.text.startswith("Chưa đọc được số tiền")
    calls = await tg.text(REVIEWER, "120 triệu")
    mine = sent_to(calls, REVIEWER)
    assert len(mine) == 1  # the confirmation leads the refreshed card
    assert mine[0].text.startswith("Đã cập nhật: SK-2026-000001 đã được áp dụng.\n\n📋 <b>SK-2026-000001</b>")
    in_order(
        mine[0].text,
        "đã được áp dụng.",
        "\n\n",
        "🏭 Đơn vị xác nhận đã áp dụng từ 01/02/2026; giá trị làm lợi đo được: 120.000.000 đ",
    )
    buttons = mine[0].buttons
    assert [label for label, _ in buttons] == ["⬆️ Chuyển lên cấp trên", "🕘 Lịch sử xử lý"]
    told = sent_to(calls, WORKER)
    assert len(told) == 1
    assert told[0].text == (
        "🏭 Updated: your initiative <b>SK-2026-000001</b> “Máy cắt vải tự động” has been applied since 01/02/2026"
        " (Công đoàn Công ty May 10).\nMeasured benefit: 120.000.000 đ\nRecorded by: Trần Văn Hùng"
    )
    status, benefit, applied_at = await initiative(harness, "status", "applied_benefit_vnd", "applied_at")
    assert (status, benefit) == ("approved", 120_000_000)
    assert applied_at.startswith("2026-11-25")
    assert await harness.query(
        "select action, from_status, to_status, comment from review_action where action <> 'submit' order by id"
    ) == [
        ("approve", "submitted", "approved", None),
        ("mark_applied", "approved", "approved", "2026-02-01;120000000"),
    ]

    assert await initiative(harness, "applied_since") == "2026-02-01"


async def test_mark_applied_takes_the_date_the_unit_found_and_can_be_cancelled(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await approved_card(tg)
    asked = await tg.press(REVIEWER, button(edits(calls), "Ghi nhận đã áp dụng"))
    back = await tg.press(REVIEWER, button(asked, "Huỷ, về phiếu"))
    assert texts(back)[0].startswith("Đã huỷ, không có gì thay đổi.\n\n📋 <b>SK-2026-000001</b> · Đã công nhận")
    await tg.text(REVIEWER, "15/03/2026")  # the question was cancelled: not an answer
    assert await initiative(harness, "applied_at", "applied_since") == (None, "2026-02-01")
    await tg.press(REVIEWER, button(back, "Ghi nhận đã áp dụng"))
    calls = await tg.text(REVIEWER, "31/02/2026")
    assert texts(calls)[0].startswith("Không có ngày 31/2/2026")
    calls = await tg.text(REVIEWER, "15/03/2026")
    assert texts(calls)[0].startswith("Giá trị làm lợi đo được khi áp dụng SK-2026-000001")
    calls = await tg.text(REVIEWER, "không xác định được")
    assert (
        "🏭 Đơn vị xác nhận đã áp dụng từ 15/03/2026; giá trị làm lợi đo được: không xác định được" in texts(calls)[0]
    )
    assert await initiative(harness, "applied_since", "applied_benefit_vnd") == ("2026-03-15", None)
    told = sent_to(calls, WORKER)
    assert "has been applied since 15/03/2026" in told[0].text


async def test_an_open_initiative_cannot_be_marked_applied(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)
    version = card[0].buttons[0][1].rsplit(":", 1)[1]
    calls = await tg.press(REVIEWER, f"v1:rv:apl:1:{version}")
    assert texts(calls) == ["Không thể “ghi nhận đã áp dụng” khi sáng kiến đang ở trạng thái “Đã gửi”."]
    calls = await tg.text(REVIEWER, "120 triệu")  # no question is pending: a plain message
    assert "Không thể" not in " ".join(texts(calls))
    assert await initiative(harness, "status", "applied_benefit_vnd") == ("submitted", None)
    assert await audit(harness) == []


async def test_refused_upstairs_a_forwarded_initiative_stays_recognised_below(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await approved_card(tg)
    decided = await initiative(harness, "decided_at")
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển lên cấp trên"))
    asked = await tg.press(UPPER, button(cards(calls, UPPER), "Không công nhận"))
    calls = await tg.press(UPPER, button(asked, "Không mới"))
    assert texts(calls)[0].startswith("Đã ghi nhận: cấp này không công nhận SK-2026-000001; sáng kiến vẫn")
    assert await initiative(harness, "status", "recognised_level", "decided_at") == ("approved", "grassroots", decided)
    [told] = sent_to(calls, WORKER)
    assert "Công đoàn các Khu công nghiệp Hà Nội did not recognise your initiative" in told.text
    assert "stays recognised at the grassroots level" in told.text
    assert (await audit(harness))[-1][:3] == ("decline", "nominated", "approved")
    calls = await tg.press(UPPER, button(edits(calls), "Ghi nhận đã áp dụng"))  # still counts once applied
    calls = await tg.press(UPPER, button(calls, "như tác giả ghi"))
    calls = await tg.text(UPPER, "120 triệu")
    assert await initiative(harness, "applied_benefit_vnd") == 120_000_000
