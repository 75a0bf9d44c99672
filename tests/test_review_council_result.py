"""A council of three that needs all three votes (quorum 3, review group -100500): the result names
the council and its tally, carries no dissenting reason, and reaches every member; requesting
changes and forwarding are votes too, and the group follows the tally."""

from __future__ import annotations

import pytest

from bot.config import Config
from tests.conftest import Harness
from tests.fake_telegram import Call, TelegramDriver, button, texts
from tests.review_support import (
    GROUP_ID,
    REVIEWER,
    SECOND,
    THIRD,
    UPPER,
    WORKER,
    audit,
    cards,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

CODE = "<b>SK-2026-000001</b> “Máy cắt vải tự động”"
COUNCIL = "Hội đồng sáng kiến Công đoàn Công ty May 10"


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 decides as a council of three with a quorum of three, in its review group."""
    units = units_with("MAY10", review_mode="council", quorum=3, review_chat=f"telegram:{GROUP_ID}")
    return config.model_copy(update={"units": units})


async def council_cards(tg: TelegramDriver) -> dict[int, list[Call]]:
    """Three members, an upper reviewer, a Vietnamese author who submits; each member's card."""
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc", phone="0912 000 701")
    await enroll(tg, WORKER)
    calls = await submit_as(tg, WORKER)
    return {p.id: cards(calls, p) for p in (REVIEWER, SECOND, THIRD)}


async def test_a_dissenter_completing_the_vote_is_not_named_as_the_decider(
    tg: TelegramDriver, harness: Harness
) -> None:
    got = await council_cards(tg)
    first = await tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận"))
    assert sent_to(first, GROUP_ID) == []  # the group's card shows the vote instead of a line of its own
    [live] = sent_to(first, GROUP_ID, "editMessageText")
    assert live.text.endswith("(cần ít nhất 3 phiếu; thông qua khi đạt từ 2/3 số phiếu):\n✅ Trần Văn Hùng")
    await tg.press(SECOND, button(got[SECOND.id], "✅ Công nhận"))
    await tg.press(THIRD, button(got[THIRD.id], "Không công nhận"))
    calls = await tg.text(THIRD, "Phân xưởng 2 đã làm từ năm 2024")
    result = f"🗳 {COUNCIL} đã quyết định về {CODE}: <b>Đã công nhận</b> — 2/3 phiếu tán thành."
    assert texts(calls)[0] == f"Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.\n\n{result}"
    for member in (REVIEWER, SECOND):
        assert [c.text for c in sent_to(calls, member)] == [result]
    assert [c.text for c in sent_to(calls, GROUP_ID)] == [result]
    assert [c.text for c in sent_to(calls, WORKER)] == [
        f"🎉 Chúc mừng! Sáng kiến {CODE} của bạn <b>đã được công nhận</b> (cấp cơ sở, Công đoàn Công ty May 10)."
        f"\nNgười xử lý: {COUNCIL} — 2/3 phiếu tán thành"
    ]
    assert await initiative(harness, "status", "recognised_level") == ("approved", "grassroots")
    assert (await audit(harness))[-2:] == [
        ("reject", "in_review", "in_review", "Phạm Thị Hoa"),
        ("approve", "in_review", "approved", None),
    ]


async def test_the_councils_scores_are_the_mean_of_the_approving_votes_that_gave_scores(
    tg: TelegramDriver, harness: Harness
) -> None:
    got = await council_cards(tg)
    await tg.press(REVIEWER, button(got[REVIEWER.id], "chấm điểm"))
    await tg.text(REVIEWER, "4 4 3")
    await tg.press(SECOND, button(got[SECOND.id], "chấm điểm"))
    await tg.text(SECOND, "5 5 3")
    calls = await tg.press(THIRD, button(got[THIRD.id], "✅ Công nhận"))  # approves without scores: left out
    scored = (
        "\n⭐ <b>Điểm của Hội đồng:</b> tính mới 4,5/5, khả năng áp dụng 4,5/5, hiệu quả 3/5"
        " (trung bình của 2 phiếu tán thành có chấm điểm, làm tròn đến 0,1)"
    )
    result = f"🗳 {COUNCIL} đã quyết định về {CODE}: <b>Đã công nhận</b> — 3/3 phiếu tán thành.{scored}"
    assert [c.text for c in sent_to(calls, GROUP_ID)] == [result]
    assert [c.text for c in sent_to(calls, WORKER)] == [
        f"🎉 Chúc mừng! Sáng kiến {CODE} của bạn <b>đã được công nhận</b> (cấp cơ sở, Công đoàn Công ty May 10)."
        f"\nNgười xử lý: {COUNCIL} — 3/3 phiếu tán thành{scored}"
    ]
    assert await harness.query(
        "select scores, votes_for, votes_cast, votes_scored from review_action where to_status = 'approved'"
    ) == [("4.5/4.5/3", 3, 3, 2)]


async def test_requesting_changes_is_a_vote_of_the_council(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    await tg.press(REVIEWER, button(got[REVIEWER.id], "Yêu cầu bổ sung"))
    calls = await tg.text(REVIEWER, "Bổ sung ảnh trước và sau khi lắp")
    assert texts(calls)[0] == "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001."
    assert "✏️ Trần Văn Hùng (đề nghị bổ sung)" in sent_to(calls, REVIEWER)[-1].text
    assert sent_to(calls, WORKER) == []  # one member does not send it back to the author
    assert await initiative(harness, "status") == "in_review"
    await tg.press(SECOND, button(got[SECOND.id], "Yêu cầu bổ sung"))
    await tg.text(SECOND, "Ghi rõ số giờ tiết kiệm")
    assert await initiative(harness, "status") == "in_review"  # quorum 3: the third member decides too
    calls = await tg.press(THIRD, button(got[THIRD.id], "✅ Công nhận"))
    assert await initiative(harness, "status") == "changes_requested"  # 2 of 3 votes: 2/3
    [told] = sent_to(calls, WORKER)
    assert told.text == (
        f"🔔 Sáng kiến {CODE} của bạn: <b>Cần bổ sung</b> (Công đoàn Công ty May 10).\n"
        f"Người xử lý: {COUNCIL} — 2/3 phiếu đề nghị bổ sung\n"
        "Ý kiến: Bổ sung ảnh trước và sau khi lắp\nGhi rõ số giờ tiết kiệm"
    )
    assert [label for label, _ in told.buttons] == ["✏️ Sửa và gửi lại", "Xem sáng kiến"]


async def test_forwarding_is_a_vote_of_the_council(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    calls = await tg.press(REVIEWER, button(got[REVIEWER.id], "Chuyển lên cấp trên"))
    assert texts(calls)[0] == "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001."
    assert cards(calls, UPPER) == [] and sent_to(calls, WORKER) == []
    await tg.press(SECOND, button(got[SECOND.id], "Chuyển lên cấp trên"))
    calls = await tg.press(THIRD, button(got[THIRD.id], "Chuyển lên cấp trên"))
    assert len(cards(calls, UPPER)) == 1
    assert await initiative(harness, "status", "review_level", "recognised_level") == ("submitted", "upper", None)
    assert [c.text for c in sent_to(calls, WORKER)] == [
        f"📤 Sáng kiến {CODE} của bạn đã được chuyển lên Công đoàn các Khu công nghiệp Hà Nội để xét công nhận."
        f"\nNgười chuyển: {COUNCIL} — 3/3 phiếu đề nghị chuyển lên cấp trên"
    ]
