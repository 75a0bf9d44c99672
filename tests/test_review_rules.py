"""Who may press what: no reviewing one's own work, outsiders and forged or stale buttons refused,
and nothing changes when a press is refused."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, answer_until
from tests.fake_telegram import Call, Person, TelegramDriver, button, refused, texts
from tests.review_support import (
    OUTSIDER,
    REVIEWER,
    SECOND,
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
)

STALE = "Phiếu đã cũ: sáng kiến đã được người khác xử lý."
NOT_REVIEWER = "Anh/chị không phải người xét duyệt của đơn vị này."
OWN = "Anh/chị không thể xét duyệt sáng kiến của chính mình."
DEAD_BUTTON = "Nút này đã hết hiệu lực."


def approve_data(card: list[Call]) -> str:
    """The callback data of the card's Approve button."""
    return button(card, "✅ Công nhận")


async def two_reviewers_and_a_card(tg: TelegramDriver) -> list[Call]:
    """REVIEWER and SECOND review MAY10; WORKER submits; the calls of the submission."""
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await enroll(tg, WORKER)
    return await submit_as(tg, WORKER)


async def assert_untouched(harness: Harness) -> None:
    """The initiative is still waiting and nobody acted on it."""
    assert await initiative(harness, "status", "decided_by") == ("submitted", None)
    assert await audit(harness) == []


async def test_a_reviewer_never_gets_nor_decides_his_own_initiative(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    calls = await submit_as(tg, REVIEWER)
    assert cards(calls, REVIEWER) == [] and len(cards(calls, SECOND)) == 1
    calls = await tg.press(REVIEWER, approve_data(cards(calls, SECOND)))
    assert alert(calls) | {"callback_query_id": ""} == {
        "callback_query_id": "",
        "text": OWN,
        "show_alert": True,
    }
    assert texts(calls) == [OWN]
    await assert_untouched(harness)
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    assert texts(calls) == [OWN]


async def test_a_co_author_named_on_the_initiative_does_not_review_it(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await enroll(tg, WORKER)
    calls = await answer_until(tg, WORKER, "summary", coauthors="50\nTrần văn Hùng – 30\nTrần Thị Cúc – 20")
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    assert cards(calls, REVIEWER) == []
    card = cards(calls, SECOND)
    assert "Trần Văn Hùng" in card[0].text  # a co-author typed "Trần văn Hùng" is shown in title case
    calls = await tg.press(REVIEWER, approve_data(card))
    assert alert(calls)["text"] == OWN and texts(calls) == [OWN]
    await assert_untouched(harness)


@pytest.mark.parametrize("act", ["ap", "rj", "ch", "fw", "as", "dt"])
async def test_an_outsider_pressing_a_forged_review_button_is_refused(
    tg: TelegramDriver, harness: Harness, act: str
) -> None:
    calls = await two_reviewers_and_a_card(tg)
    await enroll(tg, OUTSIDER, unit_query="may duc", phone="0912 000 801")
    version = approve_data(cards(calls, REVIEWER)).rsplit(":", 1)[1]
    calls = await tg.press(OUTSIDER, f"v1:rv:{act}:1:{version}")
    assert alert(calls)["text"] == NOT_REVIEWER and alert(calls)["show_alert"] is True
    assert texts(calls) == [NOT_REVIEWER]
    assert sent_to(calls, WORKER) == []
    await assert_untouched(harness)
    calls = await tg.text(OUTSIDER, "/review SK-2026-000001")
    assert texts(calls) == [NOT_REVIEWER]


async def test_a_stranger_who_never_registered_is_refused(tg: TelegramDriver, harness: Harness) -> None:
    calls = await two_reviewers_and_a_card(tg)
    stranger = Person(990, first_name="Lạ")
    calls = await tg.press(stranger, approve_data(cards(calls, REVIEWER)))
    refusal = refused(calls, "Bạn hãy hoàn tất đăng ký trước (gõ /start).", "Chọn ngôn ngữ / Choose your language:")
    assert refusal.text.startswith("Bạn hãy hoàn tất đăng ký trước (gõ /start).\n\n")
    assert [label for label, _ in refusal.buttons] == ["✅ Tiếng Việt", "English"]
    await assert_untouched(harness)


async def test_a_stale_card_says_who_decided_when_and_refreshes_the_card(tg: TelegramDriver, harness: Harness) -> None:
    calls = await two_reviewers_and_a_card(tg)
    old = cards(calls, SECOND)
    await tg.press(REVIEWER, approve_data(cards(calls, REVIEWER)))
    for label in ("✅ Công nhận", "Không công nhận", "Yêu cầu bổ sung", "Chuyển lên cấp trên"):
        calls = await tg.press(SECOND, button(old, label))
        assert alert(calls) | {"callback_query_id": ""} == {
            "callback_query_id": "",
            "text": STALE,
            "show_alert": True,
        }
        assert texts(calls)[0] == (
            "Sáng kiến này đã được Trần Văn Hùng xử lý lúc 10:00 25/11/2026"
            " (trạng thái: Đã công nhận). Đây là phiếu mới nhất."
        )
        fresh = edits(calls)
        assert len(fresh) == 1 and "· Đã công nhận ·" in fresh[0].text
        assert fresh[0].message_id == old[0].message_id  # the pressed card itself is refreshed
        assert button(fresh, "Ghi nhận đã áp dụng")
    assert await audit(harness) == [("approve", "submitted", "approved", "Trần Văn Hùng")]
    assert await initiative(harness, "status") == "approved"


async def test_a_question_answered_after_someone_else_decided_changes_nothing(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await two_reviewers_and_a_card(tg)
    old = cards(calls, SECOND)
    asked = await tg.press(SECOND, button(old, "Không công nhận"))
    await tg.press(REVIEWER, approve_data(cards(calls, REVIEWER)))
    calls = await tg.press(SECOND, button(asked, "Không mới"))  # a reason of the old card
    assert texts(calls)[0].startswith("Sáng kiến này đã được Trần Văn Hùng xử lý lúc")
    calls = await tg.text(SECOND, "Đã có ở phân xưởng khác")
    assert texts(calls)[0].startswith("Sáng kiến này đã được Trần Văn Hùng xử lý lúc")
    assert sent_to(calls, WORKER) == []
    assert [row[0] for row in await audit(harness)] == ["approve"]


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ("v1:rv:ap:1:999", "stale"),  # a version the card never had
        ("v1:rv:ap:1:0", "stale"),
        ("v1:rv:ap:1:abc", DEAD_BUTTON),
        ("v1:rv:zz:1:{v}", DEAD_BUTTON),  # unknown act
        ("v1:rv:ap:999:{v}", DEAD_BUTTON),  # no such initiative
        ("v1:rv:ap:1", DEAD_BUTTON),  # an argument missing
        ("v1:rv:ap:1:{v}:7", DEAD_BUTTON),  # one too many
        ("v2:rv:ap:1:{v}", DEAD_BUTTON),  # another format version
        ("v1:rv:ap:-1:{v}", DEAD_BUTTON),
        ("v1:rr:1:{v}:9", DEAD_BUTTON),  # a reason that does not exist
        ("v1:card:999", DEAD_BUTTON),
    ],
)
async def test_forged_callback_data_is_refused_and_nothing_changes(
    tg: TelegramDriver, harness: Harness, data: str, answer: str
) -> None:
    calls = await two_reviewers_and_a_card(tg)
    version = approve_data(cards(calls, REVIEWER)).rsplit(":", 1)[1]
    calls = await tg.press(REVIEWER, data.format(v=version))
    if answer == "stale":
        assert alert(calls)["text"] == STALE
        assert "· Đã gửi ·" in edits(calls)[0].text
    else:
        assert texts(calls) == [answer]
    assert sent_to(calls, WORKER) == []
    await assert_untouched(harness)


async def test_a_card_of_another_units_initiative_is_refused(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, OUTSIDER, unit_query="may duc", phone="0912 000 801")
    await submit_as(tg, OUTSIDER)
    calls = await tg.press(REVIEWER, "v1:rv:ap:1:1")
    assert texts(calls) == [NOT_REVIEWER]
    calls = await tg.press(REVIEWER, "v1:card:1")
    assert texts(calls) == [NOT_REVIEWER]
    await assert_untouched(harness)


async def test_a_draft_cannot_be_reviewed_through_a_forged_button(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    await answer_until(tg, WORKER, "problem")
    (version,) = (await harness.query("select version from initiative"))[0]
    calls = await tg.press(REVIEWER, f"v1:rv:ap:1:{version}")
    assert texts(calls) == [DEAD_BUTTON]
    assert await harness.query("select status from initiative") == [("draft",)]
