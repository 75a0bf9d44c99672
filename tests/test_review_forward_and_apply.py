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
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển cấp trên"))
    assert texts(calls)[0] == "Đã chuyển SK-2026-000001 lên Công đoàn các Khu công nghiệp Hà Nội để xét công nhận."
    told = sent_to(calls, WORKER)
    assert len(told) == 1
    assert "<b>Submitted</b> (Công đoàn các Khu công nghiệp Hà Nội)" in told[0].text
    upper_card = cards(calls, UPPER)
    assert len(upper_card) == 1 and cards(calls, REVIEWER) == []
    assert "· Đã gửi · cấp trên trực tiếp" in upper_card[0].text
    assert await initiative(harness, "status", "review_level", "recognised_level", "review_round") == (
        "submitted",
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
    assert "<b>recognised</b> (upper level, Công đoàn các Khu công nghiệp Hà Nội)" in told[0].text
    assert "By: Đỗ Văn Dũng" in told[0].text
    assert await initiative(harness, "status", "recognised_level") == ("approved", "upper")
    assert await audit(harness) == [
        ("approve", "submitted", "approved", "Trần Văn Hùng"),
        ("forward", "approved", "submitted", "Trần Văn Hùng"),
        ("approve", "submitted", "approved", "Đỗ Văn Dũng"),
    ]
    levels = await harness.query("select level from review_action where action <> 'submit' order by id")
    assert levels == [("grassroots",), ("upper",), ("upper",)]


async def test_an_undecided_initiative_can_be_forwarded_when_the_unit_cannot_decide(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc")
    await enroll(tg, WORKER)
    card = cards(await submit_as(tg, WORKER), REVIEWER)
    calls = await tg.press(REVIEWER, button(card, "Chuyển cấp trên"))
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
    calls = await tg.press(CITY_REVIEWER, button(edits(calls), "Chuyển cấp trên"))
    assert texts(calls) == ["Đơn vị này không có cấp trên để chuyển."]
    assert await initiative(harness, "status", "review_level") == ("approved", "city")
    assert [row[0] for row in await audit(harness)] == ["approve"]


async def test_mark_applied_records_the_measured_benefit_and_tells_the_author(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await approved_card(tg)
    calls = await tg.press(REVIEWER, button(edits(calls), "Ghi nhận đã áp dụng"))
    assert texts(calls)[0].startswith("Giá trị làm lợi đo được của SK-2026-000001")
    calls = await tg.text(REVIEWER, "nhiều lắm")
    again = refused(calls, "Chưa đọc được số tiền", "Giá trị làm lợi đo được của SK-2026-000001")
    assert again.text.startswith("Chưa đọc được số tiền")
    calls = await tg.text(REVIEWER, "120 triệu")
    mine = sent_to(calls, REVIEWER)
    assert len(mine) == 1  # the confirmation leads the refreshed card
    assert mine[0].text.startswith("Đã cập nhật: SK-2026-000001 đã được áp dụng.\n\n📋 <b>SK-2026-000001</b>")
    in_order(mine[0].text, "đã được áp dụng.", "\n\n", "✅ Đã áp dụng từ 25/11/2026")
    buttons = mine[0].buttons
    assert [label for label, _ in buttons] == ["⬆️ Chuyển cấp trên", "ℹ️ Chi tiết"]
    told = sent_to(calls, WORKER)
    assert len(told) == 1
    assert "recorded as applied" in told[0].text and "Measured benefit: 120.000.000 ₫" in told[0].text
    status, benefit, applied_at = await initiative(harness, "status", "applied_benefit_vnd", "applied_at")
    assert (status, benefit) == ("approved", 120_000_000)
    assert applied_at.startswith("2026-11-25")
    assert await harness.query(
        "select action, from_status, to_status, comment from review_action where action <> 'submit' order by id"
    ) == [
        ("approve", "submitted", "approved", None),
        ("mark_applied", "approved", "approved", "120000000"),
    ]


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
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển cấp trên"))
    asked = await tg.press(UPPER, button(cards(calls, UPPER), "Không công nhận"))
    calls = await tg.press(UPPER, button(asked, "Không mới"))
    assert texts(calls)[0].startswith("Đã ghi nhận cấp này không công nhận SK-2026-000001; sáng kiến vẫn")
    assert await initiative(harness, "status", "recognised_level", "decided_at") == ("approved", "grassroots", decided)
    [told] = sent_to(calls, WORKER)
    assert "was not recognised again by Công đoàn các Khu công nghiệp Hà Nội" in told.text
    assert "stays recognised at the grassroots level" in told.text
    assert (await audit(harness))[-1][:3] == ("decline", "submitted", "approved")
    calls = await tg.press(UPPER, button(edits(calls), "Ghi nhận đã áp dụng"))  # still counts once applied
    calls = await tg.text(UPPER, "120 triệu")
    assert await initiative(harness, "applied_benefit_vnd") == 120_000_000
