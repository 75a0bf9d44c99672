"""The unit's review group: cards go there too; only the unit's reviewers may press, everyone
else is told privately (a callback alert) and nothing changes."""

from __future__ import annotations

import pytest

from bot.config import Config
from tests.conftest import Harness
from tests.fake_telegram import Call, Person, TelegramDriver, button, texts
from tests.review_support import (
    ADMIN,
    GROUP_ID,
    OUTSIDER,
    REVIEWER,
    WORKER,
    alert,
    audit,
    cards,
    enroll,
    enroll_admin,
    grant,
    initiative,
    press_in_group,
    sent_to,
    submit_as,
    text_in_group,
    units_with,
)
from tests.zalo_support import ZaloDriver, code_on_telegram, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures
HUNG_ZALO = "zl-601"

NOT_REVIEWER = "Anh/chị không phải người xét duyệt của đơn vị này."


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10's council works in the group -100500."""
    return config.model_copy(update={"units": units_with("MAY10", review_chat=f"telegram:{GROUP_ID}")})


async def group_card(tg: TelegramDriver) -> list[Call]:
    """A reviewer of MAY10, a submission; the card posted in the group."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await submit_as(tg, WORKER)
    assert len(cards(calls, REVIEWER)) == 1
    posted = cards(calls, GROUP_ID)
    assert len(posted) == 1
    return posted


def group_messages(calls: list[Call]) -> list[Call]:
    """Messages sent to or edited in the group."""
    return [c for c in calls if int(c.params.get("chat_id", 0)) == GROUP_ID]


async def assert_untouched(harness: Harness) -> None:
    """Nothing was decided."""
    assert await initiative(harness, "status") == "submitted"
    assert await audit(harness) == []


async def unbind(harness: Harness) -> None:
    """Start without a review group (as if bot.toml named none)."""
    assert harness.runtime is not None
    async with harness.runtime.store.transaction() as tx:
        unit = await tx.unit_by_code("MAY10")
        assert unit is not None
        await tx.set_review_chat(unit.id, None)


async def test_the_card_is_posted_in_the_review_group_too(tg: TelegramDriver) -> None:
    posted = await group_card(tg)
    assert "SK-2026-000001" in posted[0].text and "Máy cắt vải tự động" in posted[0].text
    assert button(posted, "✅ Công nhận").startswith("v1:rv:ap:1:")


async def test_a_reviewer_approves_in_the_group(tg: TelegramDriver, harness: Harness) -> None:
    posted = await group_card(tg)
    calls = await press_in_group(tg, REVIEWER, button(posted, "✅ Công nhận"))
    assert alert(calls) == {"callback_query_id": alert(calls)["callback_query_id"]}  # answered, no popup
    assert "Đã công nhận sáng kiến SK-2026-000001" in texts(group_messages(calls))[0]
    edited = [c for c in group_messages(calls) if c.method == "editMessageText"]
    assert len(edited) == 1 and "· Đã công nhận ·" in edited[0].text
    assert len(sent_to(calls, WORKER)) == 1
    assert await audit(harness) == [("approve", "submitted", "approved", "Trần Văn Hùng")]


@pytest.mark.parametrize("label", ["✅ Công nhận", "Không công nhận", "Lịch sử xử lý", "Chuyển lên cấp"])
async def test_an_outsider_pressing_in_the_group_is_told_privately_and_nothing_changes(
    tg: TelegramDriver, harness: Harness, label: str
) -> None:
    posted = await group_card(tg)
    await enroll(tg, OUTSIDER, phone="0912 000 801")  # same unit, but not a reviewer
    calls = await press_in_group(tg, OUTSIDER, button(posted, label))
    assert alert(calls) | {"callback_query_id": ""} == {
        "callback_query_id": "",
        "text": NOT_REVIEWER,
        "show_alert": True,
    }
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    await assert_untouched(harness)


async def test_a_stranger_pressing_in_the_group_is_told_privately(tg: TelegramDriver, harness: Harness) -> None:
    posted = await group_card(tg)
    calls = await press_in_group(tg, Person(991, first_name="Khách"), button(posted, "Công nhận"))
    assert alert(calls)["text"] == NOT_REVIEWER and alert(calls)["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    await assert_untouched(harness)


async def test_a_reviewer_of_another_unit_cannot_act_in_this_group(tg: TelegramDriver, harness: Harness) -> None:
    posted = await group_card(tg)
    await grant(tg, OUTSIDER, "May Đức Giang", unit_query="may duc", phone="0912 000 801")
    calls = await press_in_group(tg, OUTSIDER, button(posted, "✅ Công nhận"))
    assert alert(calls)["text"] == NOT_REVIEWER
    await assert_untouched(harness)


async def test_reject_in_the_group_asks_for_the_reason_in_private(tg: TelegramDriver, harness: Harness) -> None:
    posted = await group_card(tg)
    calls = await press_in_group(tg, REVIEWER, button(posted, "Không công nhận"))
    assert alert(calls)["text"] == "Bot đã nhắn riêng cho anh/chị để nhập ý kiến."
    assert group_messages(calls) == []
    asked = sent_to(calls, REVIEWER)
    assert len(asked) == 1 and asked[0].text.startswith("Vì sao không công nhận SK-2026-000001?")
    assert await initiative(harness, "status") == "submitted"
    calls = await tg.text(REVIEWER, "Chưa có số liệu kiểm chứng")
    assert texts(calls)[0].startswith("Đã ghi nhận: SK-2026-000001 không được công nhận")
    assert await initiative(harness, "status") == "rejected"
    assert "Chưa có số liệu kiểm chứng" in sent_to(calls, WORKER)[0].text


async def test_request_changes_in_the_group_asks_for_the_comment_in_private(
    tg: TelegramDriver, harness: Harness
) -> None:
    posted = await group_card(tg)
    calls = await press_in_group(tg, REVIEWER, button(posted, "Yêu cầu bổ sung"))
    assert sent_to(calls, REVIEWER)[0].text.startswith("Anh/chị đề nghị tác giả bổ sung hoặc sửa những gì")
    await tg.text(REVIEWER, "Thêm ảnh chụp máy")
    assert await initiative(harness, "status") == "changes_requested"


async def test_chatter_in_the_group_gets_one_notice_and_changes_nothing(tg: TelegramDriver, harness: Harness) -> None:
    await group_card(tg)
    calls = await text_in_group(tg, REVIEWER, "Mọi người xem phiếu mới nhé")
    assert texts(calls) == ["Bot chỉ trả lời trong tin nhắn riêng. Hãy nhắn riêng cho bot để gửi sáng kiến."]
    assert await text_in_group(tg, WORKER, "ok") == []
    await assert_untouched(harness)


async def test_admin_binds_the_review_group_with_a_command(
    tg: TelegramDriver, harness: Harness, config: Config
) -> None:
    await unbind(harness)
    await enroll_admin(tg)
    calls = await text_in_group(tg, ADMIN, "/reviewgroup MAY10")
    assert texts(calls) == [
        "Nhóm này từ nay nhận phiếu xét duyệt sáng kiến của Công đoàn Công ty May 10."
        " Chỉ người xét duyệt của đơn vị mới bấm được các nút."
    ]
    assert int(calls[-1].params["chat_id"]) == GROUP_ID
    rows = await harness.query("select review_chat from unit where code = 'MAY10'")
    assert rows == [(f"telegram:{GROUP_ID}",)]
    await group_card(tg)


async def test_reviewgroup_is_refused_to_non_admins_and_needs_a_unit_code(tg: TelegramDriver, harness: Harness) -> None:
    await unbind(harness)
    await enroll(tg, WORKER)
    calls = await text_in_group(tg, WORKER, "/reviewgroup MAY10")
    assert texts(calls) == ["Lệnh này chỉ dành cho quản trị viên."]
    await enroll_admin(tg)
    calls = await text_in_group(tg, ADMIN, "/reviewgroup")
    usage = "Cách dùng (trong nhóm của Hội đồng sáng kiến): /reviewgroup MÃ_ĐƠN_VỊ"
    assert texts(calls) == [usage]
    calls = await text_in_group(tg, ADMIN, "/reviewgroup KHONGCO")
    assert texts(calls) == [usage]
    assert await harness.query("select count(*) from unit where review_chat is not null") == [(0,)]


async def test_an_admin_not_yet_registered_is_answered_in_the_group(tg: TelegramDriver, harness: Harness) -> None:
    await unbind(harness)
    calls = await text_in_group(tg, ADMIN, "/reviewgroup MAY10")
    assert texts(calls) == ["Bạn hãy hoàn tất đăng ký trước (gõ /start)."]
    assert await harness.query("select review_chat from unit where code = 'MAY10'") == [(None,)]


async def test_a_group_bound_in_chat_stays_bound_across_restarts(tg: TelegramDriver, harness: Harness) -> None:
    """bot.toml names -100500; an admin moves the council to another group: a restart (which seeds
    the units from the file again, as every `sangkien` command does) keeps the chat's choice."""
    other = {"id": -100600, "type": "supergroup", "title": "Hội đồng mới"}
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    await tg.text(ADMIN, "/reviewgroup MAY10", chat=other)
    await harness.stop()
    tg = await harness.start()
    assert await harness.query("select review_chat from unit where code = 'MAY10'") == [("telegram:-100600",)]
    calls = await submit_as(tg, WORKER)
    assert len(cards(calls, -100600)) == 1 and cards(calls, GROUP_ID) == []


async def test_the_file_seeds_a_review_group_where_none_is_bound(tg: TelegramDriver, harness: Harness) -> None:
    await unbind(harness)
    await harness.stop()
    await harness.start()
    assert await harness.query("select review_chat from unit where code = 'MAY10'") == [(f"telegram:{GROUP_ID}",)]


async def test_a_press_in_the_group_makes_telegram_the_app_a_linked_reviewer_is_written_to(
    tg: TelegramDriver, zalo: ZaloDriver
) -> None:
    posted = await group_card(tg)
    zalo.with_telegram(tg.app.bot)
    code = await code_on_telegram(tg, REVIEWER)
    await zalo.say(HUNG_ZALO, f"/link {code}", "/my")  # Hùng links his Zalo and uses it
    assert await zalo.query("select last_channel from app_user where external_id = '601'") == [("zalo",)]
    await press_in_group(tg, REVIEWER, button(posted, "✅ Công nhận"))
    assert await zalo.query("select status from initiative") == [("approved",)]
    assert await zalo.query("select last_channel from app_user where external_id = '601'") == [("telegram",)]
