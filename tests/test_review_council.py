"""Council mode (MAY10: quorum 2, three members): votes shown as they arrive, the decision at ≥ 2/3
of the votes cast once the quorum is reached, one vote per member."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import Config
from tests.conftest import Harness
from tests.fake_telegram import Call, TelegramDriver, button, texts
from tests.review_support import (
    REVIEWER,
    SECOND,
    THIRD,
    WORKER,
    alert,
    audit,
    cards,
    edits,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

NO_VOTES = "🗳 <b>Phiếu của Hội đồng</b> (cần ít nhất 2 phiếu; thông qua khi đạt từ 2/3 số phiếu):\n(chưa có phiếu)"


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 decides as a council of its reviewers, with a quorum of two."""
    return config.model_copy(update={"units": units_with("MAY10", review_mode="council", quorum=2)})


async def council_cards(tg: TelegramDriver) -> dict[int, list[Call]]:
    """Three council members, one English-speaking author who submits; each member's card."""
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    await enroll(tg, WORKER, english=True)
    calls = await submit_as(tg, WORKER, english=True)
    return {p.id: cards(calls, p) for p in (REVIEWER, SECOND, THIRD)}


async def test_every_member_gets_the_card_with_the_council_votes(tg: TelegramDriver) -> None:
    got = await council_cards(tg)
    for member_cards in got.values():
        assert len(member_cards) == 1 and NO_VOTES in member_cards[0].text


async def test_first_vote_shows_on_the_card_and_decides_nothing(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    calls = await tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận"))
    assert texts(calls)[0] == "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001."
    card = edits(calls)[0]
    assert "✅ Trần Văn Hùng" in card.text and "· Đang xét duyệt ·" in card.text
    assert sent_to(calls, WORKER) == []
    assert await initiative(harness, "status", "decided_at") == ("in_review", None)
    assert await harness.query("select vote from review_vote") == [("approve",)]
    assert [row[:3] for row in await audit(harness)] == [("approve", "submitted", "in_review")]
    calls = await tg.text(THIRD, "/review SK-2026-000001")  # another member sees the vote too
    assert "✅ Trần Văn Hùng" in texts(calls)[0]


async def test_two_approvals_of_two_votes_cast_recognise_it_and_the_author_is_told_once(
    tg: TelegramDriver, harness: Harness
) -> None:
    got = await council_cards(tg)
    first = await tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận"))
    # the second member presses the card he received at submission
    second = await tg.press(SECOND, button(got[SECOND.id], "✅ Công nhận"))
    result = (
        "🗳 Hội đồng sáng kiến Công đoàn Công ty May 10 đã quyết định về <b>SK-2026-000001</b>"
        " “Máy cắt vải tự động”: <b>Đã công nhận</b> — 2/2 phiếu tán thành."
    )
    assert texts(second)[0] == f"Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.\n\n{result}"
    assert [c.text for c in sent_to(second, REVIEWER) + sent_to(second, THIRD)] == [result, result]
    card = edits(second)[0]
    assert (
        "· Đã công nhận ·" in card.text
        and "🏅 Đã được công nhận ở cấp cơ sở ngày 25/11/2026"
        " (Hội đồng sáng kiến Công đoàn Công ty May 10 — 2/2 phiếu tán thành)" in card.text
    )
    assert card.text.endswith("(chưa có phiếu)")  # the votes on its next decision (forwarding it up)
    told = sent_to(first + second, WORKER)
    assert [t.text for t in told] == [
        "🎉 Congratulations! Your initiative <b>SK-2026-000001</b> “Máy cắt vải tự động” is <b>recognised</b>"
        " (grassroots level, Công đoàn Công ty May 10).\nBy: Initiative council of Công đoàn Công ty May 10"
        " — 2/2 votes in favour"
    ]
    assert await initiative(harness, "status", "recognised_level") == ("approved", "grassroots")
    assert await audit(harness) == [
        ("approve", "submitted", "in_review", "Trần Văn Hùng"),
        ("approve", "in_review", "in_review", "Lê Văn Minh"),
        ("approve", "in_review", "approved", None),  # the council's decision, no one person's
    ]
    # the third member comes late: the decision is made
    late = await tg.press(THIRD, button(got[THIRD.id], "✅ Công nhận"))
    assert alert(late)["text"] == "Phiếu đã cũ: sáng kiến đã được người khác xử lý."
    assert "Sáng kiến này đã được Hội đồng sáng kiến Công đoàn Công ty May 10 xử lý lúc" in texts(late)[0]
    assert len(await audit(harness)) == 3
    assert await harness.query("select count(*) from review_vote") == [(2,)]


async def test_a_member_cannot_vote_twice(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    calls = await tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận"))
    for data in (button(edits(calls), "✅ Công nhận"), button(got[REVIEWER.id], "✅ Công nhận")):
        again = await tg.press(REVIEWER, data)
        assert alert(again)["text"] == "Anh/chị đã bỏ phiếu cho sáng kiến này rồi."
        assert "Anh/chị đã bỏ phiếu cho sáng kiến này rồi." in texts(again)
    for label in ("Không công nhận", "chấm điểm", "Yêu cầu bổ sung"):  # told before being asked why
        again = await tg.press(REVIEWER, button(edits(calls), label))
        assert texts(again) == ["Anh/chị đã bỏ phiếu cho sáng kiến này rồi."]
    again = await tg.press(REVIEWER, f"v1:rr:1:{button(edits(calls), 'Không công nhận').rsplit(':', 1)[1]}:0")
    assert "Anh/chị đã bỏ phiếu cho sáng kiến này rồi." in texts(again)
    assert await harness.query("select vote from review_vote") == [("approve",)]
    assert await initiative(harness, "status") == "in_review"


async def test_rejected_once_two_thirds_is_out_of_reach(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    asked = await tg.press(REVIEWER, button(got[REVIEWER.id], "Không công nhận"))
    calls = await tg.press(REVIEWER, button(asked, "Không mới"))
    assert texts(calls)[0] == "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001."
    assert "❌ Trần Văn Hùng" in edits(calls)[0].text or "❌ Trần Văn Hùng" in texts(calls)[1]
    assert await initiative(harness, "status") == "in_review"
    await tg.press(SECOND, button(got[SECOND.id], "Không công nhận"))
    calls = await tg.text(SECOND, "Chưa áp dụng thử")
    assert texts(calls)[0].startswith("Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.\n\n🗳 Hội đồng")
    told = sent_to(calls, WORKER)
    assert len(told) == 1 and "<b>Not recognised</b>" in told[0].text
    # both reasons of the council's decision, the first in the author's language
    assert "Comment: Not new within the unit\nChưa áp dụng thử" in told[0].text
    assert await initiative(harness, "status") == "rejected"
    assert sorted(v for (v,) in await harness.query("select vote from review_vote")) == [
        "reject",
        "reject",
    ]


async def test_one_approval_and_one_rejection_wait_for_the_third_member(tg: TelegramDriver, harness: Harness) -> None:
    got = await council_cards(tg)
    await tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận"))
    asked = await tg.press(SECOND, button(got[SECOND.id], "Không công nhận"))
    await tg.press(SECOND, button(asked, "Trùng"))
    assert await initiative(harness, "status") == "in_review"
    calls = await tg.press(THIRD, button(got[THIRD.id], "✅ Công nhận"))
    assert await initiative(harness, "status") == "approved"  # 2 of 3 = 2/3
    assert len(sent_to(calls, WORKER)) == 1


async def test_two_members_voting_at_the_same_moment_both_count_and_decide_once(
    tg: TelegramDriver, harness: Harness
) -> None:
    got = await council_cards(tg)
    before = len(tg.api.calls)
    await asyncio.gather(
        tg.press(REVIEWER, button(got[REVIEWER.id], "✅ Công nhận")),
        tg.press(SECOND, button(got[SECOND.id], "✅ Công nhận")),
    )
    assert await harness.query("select count(*) from review_vote") == [(2,)]
    assert await initiative(harness, "status") == "approved"
    assert [row[2] for row in await audit(harness)] == ["in_review", "in_review", "approved"]
    assert len(sent_to(tg.api.calls[before:], WORKER)) == 1


async def test_a_member_who_is_the_author_does_not_count_toward_the_council(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    calls = await submit_as(tg, THIRD)  # a member's own initiative: two members may vote
    assert cards(calls, THIRD) == []
    await tg.press(REVIEWER, button(cards(calls, REVIEWER), "✅ Công nhận"))
    assert await initiative(harness, "status") == "in_review"
    asked = await tg.press(SECOND, button(cards(calls, SECOND), "Không công nhận"))
    calls = await tg.press(SECOND, button(asked, "Không mới"))
    assert await initiative(harness, "status") == "rejected"  # 1 of 2 votes: below 2/3, nobody left
    assert len(sent_to(calls, THIRD)) == 1
