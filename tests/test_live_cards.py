"""Review cards already sent stay true: each card's message id is kept, the review group's card
follows the council's tally, older and decided cards lose their buttons, and an edit that Telegram
cannot make falls back sensibly (Zalo, which has no edits, sends nothing for one)."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.messages import Notice, strip_buttons
from handlers.zalo.sender import ZaloSender
from tests.conftest import Harness
from tests.fake_telegram import Call, TelegramDriver, button
from tests.review_support import (
    GROUP_ID,
    REVIEWER,
    SECOND,
    THIRD,
    WORKER,
    cards,
    enroll,
    grant,
    press_in_group,
    sent_to,
    submit_as,
    units_with,
)
from tests.zalo_support import REGISTRATION, ZaloDriver, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

GROUP = f"telegram:{GROUP_ID}"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"
)
GONE = "Bad Request: message to edit not found"


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 decides as a council of (up to) three with a quorum of two, in the group -100500."""
    units = units_with("MAY10", review_mode="council", quorum=2, review_chat=GROUP)
    return config.model_copy(update={"units": units})


async def council_with_card(tg: TelegramDriver) -> list[Call]:
    """Three members, a worker, and her submission; returns the calls of the submission."""
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    await enroll(tg, WORKER)
    return await submit_as(tg, WORKER)


def stripped(calls: list[Call], chat: int) -> list[int]:
    """The messages of a chat that lost all their buttons."""
    return [c.message_id for c in sent_to(calls, chat, "editMessageReplyMarkup") if not c.buttons]


async def kept_cards(harness: Harness) -> dict[str, int]:
    """The card message id kept for each chat (initiative 1)."""
    return dict(await harness.query("select chat, message_id from sent_card where initiative_id = 1"))


async def test_the_sender_keeps_the_message_id_of_every_card_it_sends(tg: TelegramDriver, harness: Harness) -> None:
    sent = await council_with_card(tg)
    assert await kept_cards(harness) == {
        f"telegram:{chat}": cards(sent, chat)[0].message_id for chat in (REVIEWER.id, SECOND.id, THIRD.id, GROUP_ID)
    }


async def test_a_vote_in_private_edits_the_group_card_in_place_instead_of_a_line_per_vote(
    tg: TelegramDriver, harness: Harness
) -> None:
    sent = await council_with_card(tg)
    group_card = sent_to(sent, GROUP_ID)[0]
    calls = await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))
    assert sent_to(calls, GROUP_ID) == []  # no line of its own
    [live] = sent_to(calls, GROUP_ID, "editMessageText")
    assert live.message_id == group_card.message_id
    assert live.text.endswith("(cần ít nhất 2 phiếu; thông qua khi đạt từ 2/3 số phiếu):\n✅ Trần Văn Hùng")
    assert [label for label, _ in live.buttons][:2] == ["✅ Công nhận", "📝 Công nhận, chấm điểm"]
    # pressed in the group, the vote edits the pressed card (the answer's own edit): nothing more is sent
    calls = await press_in_group(tg, SECOND, button([live], "Không công nhận"))
    assert sent_to(calls, GROUP_ID) == [] and sent_to(calls, GROUP_ID, "editMessageText") == []


async def test_an_edit_telegram_finds_unchanged_counts_as_done(tg: TelegramDriver, harness: Harness) -> None:
    sent = await council_with_card(tg)
    tg.api.fail("editMessageText", 400, NOT_MODIFIED)
    calls = await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))
    assert [c.method for c in calls if int(c.params.get("chat_id", 0)) == GROUP_ID] == ["editMessageText"]
    assert await harness.query("select status, attempts from outbox where chat = :chat", chat=GROUP) == [
        ("sent", 1),
        ("sent", 1),
    ]


async def test_a_group_card_that_cannot_be_edited_any_more_is_sent_anew_and_kept(
    tg: TelegramDriver, harness: Harness
) -> None:
    sent = await council_with_card(tg)
    old = sent_to(sent, GROUP_ID)[0].message_id
    await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))  # the reviewer's own card is edited
    tg.api.fail("editMessageText", 400, GONE)
    asked = await tg.press(SECOND, button(sent_to(sent, SECOND), "Không công nhận"))
    calls = await tg.text(SECOND, "Đã có ở phân xưởng 2")
    [fresh] = sent_to(calls, GROUP_ID)
    assert fresh.text.endswith("✅ Trần Văn Hùng\n❌ Lê Văn Minh") and fresh.buttons
    assert (await kept_cards(harness))[GROUP] == fresh.message_id != old
    assert asked  # the question was asked in private


async def test_a_card_that_lost_its_message_loses_nothing_more(tg: TelegramDriver, harness: Harness) -> None:
    sent = await council_with_card(tg)
    await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))
    tg.api.fail("editMessageReplyMarkup", 400, GONE)  # Hùng deleted his card
    calls = await tg.press(SECOND, button(sent_to(sent, SECOND), "✅ Công nhận"))  # the council decides
    assert stripped(calls, THIRD.id) == [sent_to(sent, THIRD)[0].message_id]
    assert not any(c.method == "sendMessage" and "📋" in c.text for c in sent_to(calls, REVIEWER))
    failed = await harness.query("select count(*) from outbox where status <> 'sent'")
    assert failed == [(0,)]


async def test_at_the_decision_the_other_members_cards_lose_their_buttons(tg: TelegramDriver, harness: Harness) -> None:
    sent = await council_with_card(tg)
    await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))
    calls = await tg.press(SECOND, button(sent_to(sent, SECOND), "✅ Công nhận"))
    assert stripped(calls, REVIEWER.id) == [sent_to(sent, REVIEWER)[0].message_id]
    assert stripped(calls, THIRD.id) == [sent_to(sent, THIRD)[0].message_id]
    assert stripped(calls, SECOND.id) == []  # the decider's card is edited by the answer itself
    [group_card] = sent_to(calls, GROUP_ID, "editMessageText")
    assert "Đã công nhận" in group_card.text and "⬆️ Chuyển lên cấp trên" in [label for label, _ in group_card.buttons]
    assert set(await kept_cards(harness)) == {GROUP, f"telegram:{SECOND.id}"}  # nothing left to strip elsewhere


async def test_review_showing_a_card_again_takes_the_buttons_off_the_older_one(
    tg: TelegramDriver, harness: Harness
) -> None:
    sent = await council_with_card(tg)
    older = sent_to(sent, THIRD)[0].message_id
    calls = await tg.text(THIRD, "/review SK-2026-000001")
    [card] = cards(calls, THIRD.id)
    assert stripped(calls, THIRD.id) == [older]
    assert (await kept_cards(harness))[f"telegram:{THIRD.id}"] == card.message_id
    calls = await tg.text(THIRD, "/review SK-2026-000001")  # and again: the one just shown goes
    assert stripped(calls, THIRD.id) == [card.message_id]


async def test_a_resubmission_takes_the_buttons_off_the_earlier_cards_still_live(
    tg: TelegramDriver, harness: Harness
) -> None:
    sent = await council_with_card(tg)
    group_card = sent_to(sent, GROUP_ID)[0].message_id
    await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "Yêu cầu bổ sung"))
    await tg.text(REVIEWER, "Cần thêm số liệu năng suất")
    await tg.press(SECOND, button(sent_to(sent, SECOND), "Yêu cầu bổ sung"))
    decided = await tg.text(SECOND, "Cần thêm số liệu năng suất")  # the council asks for changes
    [decider_card] = cards(decided, SECOND.id)
    calls = await tg.press(WORKER, button(sent_to(decided, WORKER), "Sửa và gửi lại"))
    calls = await tg.press(WORKER, button(calls, "Sửa một mục"))
    calls = await tg.press(WORKER, button(calls, "Hiệu quả"))
    calls = await tg.text(WORKER, "Năng suất tăng từ 40 lên 52 tấm/giờ")
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    for member in (REVIEWER, SECOND, THIRD, GROUP_ID):
        [new] = cards(calls, member if isinstance(member, int) else member.id)
        assert "Tác giả đã sửa" in new.text
    assert stripped(calls, SECOND.id) == [decider_card.message_id]  # the decider's card, still live until now
    assert stripped(calls, GROUP_ID) == [group_card]
    assert stripped(calls, REVIEWER.id) == stripped(calls, THIRD.id) == []  # theirs went at the decision


async def test_zalo_sends_nothing_for_an_edit_and_counts_it_done(zalo: ZaloDriver) -> None:
    await zalo.say("zl-1001", *REGISTRATION)
    runtime = zalo.runtime
    async with runtime.store.transaction() as tx:
        notice = Notice("zalo:zl-1001", "vi", (strip_buttons(42),))
        await runtime.delivery.enqueue_notices(tx, [notice], job_run_id=None, key_prefix="edit")
    before = len(zalo.fake.sent)
    stats = await ZaloSender(zalo.channel, runtime.delivery, per_second=1e6).drain()
    assert stats["edit"] == 1 and zalo.fake.sent[before:] == []
    assert await zalo.query("select status from outbox where key like 'edit:%'") == [("sent",)]


async def test_a_withdrawn_initiatives_cards_lose_their_buttons(tg: TelegramDriver, harness: Harness) -> None:
    sent = await council_with_card(tg)
    calls = await tg.text(WORKER, "/my")
    calls = await tg.press(WORKER, button(calls, "SK-2026-000001"))
    calls = await tg.press(WORKER, button(calls, "Rút sáng kiến"))
    calls = await tg.press(WORKER, button(calls, "Có, rút sáng kiến"))
    for member in (REVIEWER, SECOND, THIRD):
        assert stripped(calls, member.id) == [sent_to(sent, member)[0].message_id]
    [group_card] = sent_to(calls, GROUP_ID, "editMessageText")
    assert "Đã rút" in group_card.text
    assert [label for label, _ in group_card.buttons] == ["🕘 Lịch sử xử lý"]
