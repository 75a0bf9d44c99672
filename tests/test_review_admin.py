"""Admins grant and revoke reviewer rights in chat: by reply, @username, phone or name search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import run_reviewers
from bot.config import Config
from handlers.telegram.sender import OutboxSender
from tests.conftest import Harness
from tests.fake_telegram import Person, TelegramDriver, button, texts
from tests.review_support import (
    ADMIN,
    GROUP,
    OUTSIDER,
    REVIEWER,
    SECOND,
    THIRD,
    WORKER,
    cards,
    enroll,
    enroll_admin,
    grant,
    sent_to,
    submit_as,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

MAY10_LABEL = "Công đoàn Công ty May 10 (cấp cơ sở)"


def reply_update(
    tg: TelegramDriver, sender: Person, text: str, to: Person, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`sender` answers one of `to`'s messages with a command."""
    chat = chat or {"id": sender.id, "type": "private", "first_name": sender.first_name}
    original = {
        "message_id": 3,
        "date": 1764000000,
        "from": to.as_dict(),
        "chat": chat,
        "text": "Em gửi sáng kiến rồi ạ",
    }
    return tg._message(
        sender,
        chat,
        text=text,
        entities=[{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        reply_to_message=original,
    )


async def reviewer_units(harness: Harness) -> list[tuple[Any, ...]]:
    """(name, unit code) of every active reviewer right."""
    return await harness.query(
        "select u.full_name, n.code from reviewer r join app_user u on u.id = r.user_id"
        " join unit n on n.id = r.unit_id where r.revoked_at is null order by r.id"
    )


async def test_grant_by_replying_to_the_persons_message(tg: TelegramDriver, harness: Harness) -> None:
    await enroll_admin(tg)
    await enroll(tg, WORKER)
    calls = await tg.deliver(reply_update(tg, ADMIN, "/grant", WORKER))
    assert texts(calls) == ["Nguyễn Thị Lan sẽ xét duyệt sáng kiến của đơn vị nào?"]
    assert [label for label, _ in calls[-1].buttons] == [
        MAY10_LABEL,
        "Công đoàn các Khu công nghiệp Hà Nội (cấp trên trực tiếp)",
        "Liên đoàn Lao động thành phố Hà Nội (cấp thành phố)",
    ]
    calls = await tg.press(ADMIN, button(calls, "May 10"))
    assert texts(calls)[0] == "Đã cấp quyền xét duyệt cho Nguyễn Thị Lan: Công đoàn Công ty May 10 (cấp cơ sở)."
    assert "/pending" in sent_to(calls, WORKER)[0].text
    assert await reviewer_units(harness) == [("Nguyễn Thị Lan", "MAY10")]


async def test_grant_by_replying_in_a_group_picks_the_unit_in_private(tg: TelegramDriver, harness: Harness) -> None:
    await enroll_admin(tg)
    await enroll(tg, WORKER)
    calls = await tg.deliver(reply_update(tg, ADMIN, "/grant@sangkien_test_bot", WORKER, GROUP))
    assert [c for c in calls if c.params.get("chat_id") == GROUP["id"]] == []
    asked = sent_to(calls, ADMIN)
    assert asked[0].text == "Nguyễn Thị Lan sẽ xét duyệt sáng kiến của đơn vị nào?"
    await tg.press(ADMIN, button(asked, "May 10"))
    assert await reviewer_units(harness) == [("Nguyễn Thị Lan", "MAY10")]
    calls = await tg.deliver(reply_update(tg, WORKER, "/grant", ADMIN, GROUP))
    assert texts(calls) == ["Lệnh này chỉ dành cho quản trị viên."]


async def test_grant_by_phone_number(tg: TelegramDriver, harness: Harness) -> None:
    await enroll_admin(tg)
    await enroll(tg, WORKER, phone="0987 654 321")
    await enroll(tg, OUTSIDER, phone="0912 000 801")
    calls = await tg.text(ADMIN, "/grant +84 987 654 321")
    assert texts(calls) == ["Nguyễn Thị Lan sẽ xét duyệt sáng kiến của đơn vị nào?"]
    await tg.press(ADMIN, button(calls, "May 10"))
    assert await reviewer_units(harness) == [("Nguyễn Thị Lan", "MAY10")]


async def test_grant_by_name_with_several_matches_offers_a_choice(tg: TelegramDriver, harness: Harness) -> None:
    await enroll_admin(tg)
    await enroll(tg, SECOND, phone="0912 000 602")  # Lê Văn Minh
    await enroll(tg, THIRD, phone="0912 000 603", name="Lê Thị Minh")
    await enroll(tg, OUTSIDER, phone="0912 000 801")
    calls = await tg.text(ADMIN, "/grant le minh")
    assert texts(calls) == ["Chọn người được cấp quyền xét duyệt:"]
    assert sorted(label for label, _ in calls[-1].buttons) == [
        "Lê Thị Minh …603",
        "Lê Văn Minh …602",
    ]
    calls = await tg.press(ADMIN, button(calls, "Lê Thị Minh"))
    assert texts(calls) == ["Lê Thị Minh sẽ xét duyệt sáng kiến của đơn vị nào?"]
    await tg.press(ADMIN, button(calls, "Khu công nghiệp"))
    assert await reviewer_units(harness) == [("Lê Thị Minh", "CD-KCN")]


async def test_grant_finds_nobody_or_needs_an_argument(tg: TelegramDriver) -> None:
    await enroll_admin(tg)
    calls = await tg.text(ADMIN, "/grant Không Ai Cả")
    assert texts(calls) == ["Không tìm thấy người đã đăng ký phù hợp."]
    calls = await tg.text(ADMIN, "/grant")
    assert texts(calls)[0].startswith("Cách dùng: trả lời (reply) một tin nhắn của người đó bằng /grant")


async def test_granting_twice_says_so(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    calls = await tg.text(ADMIN, "/grant @hung_cd")
    calls = await tg.press(ADMIN, button(calls, "May 10"))
    assert texts(calls) == ["Trần Văn Hùng đã là người xét duyệt của Công đoàn Công ty May 10."]
    assert len(await reviewer_units(harness)) == 1


async def test_a_non_admin_cannot_grant(tg: TelegramDriver, harness: Harness) -> None:
    await enroll(tg, WORKER)
    await enroll(tg, OUTSIDER, phone="0912 000 801")
    calls = await tg.text(WORKER, "/grant @tu_out")
    assert texts(calls) == ["Lệnh này chỉ dành cho quản trị viên."]
    for forged in ("v1:gp:1", "v1:gu:1:3", "v1:rk:1"):
        calls = await tg.press(WORKER, forged)
        assert texts(calls) == ["Lệnh này chỉ dành cho quản trị viên."]
    calls = await tg.text(WORKER, "/reviewers")
    assert texts(calls) == ["Lệnh này chỉ dành cho quản trị viên."]
    assert await reviewer_units(harness) == []


async def test_a_unit_outside_the_persons_hierarchy_cannot_be_granted(tg: TelegramDriver, harness: Harness) -> None:
    await enroll_admin(tg)
    await enroll(tg, WORKER)  # MAY10 (unit 3): May Đức Giang (unit 4) is not above it
    (user_id,) = (await harness.query("select id from app_user where full_name = 'Nguyễn Thị Lan'"))[0]
    calls = await tg.press(ADMIN, f"v1:gu:{user_id}:4")
    assert texts(calls) == ["Nút này đã hết hiệu lực."]
    assert await reviewer_units(harness) == []


async def test_reviewers_lists_who_reviews_what(tg: TelegramDriver) -> None:
    await enroll_admin(tg)
    calls = await tg.text(ADMIN, "/reviewers")
    assert texts(calls) == ["<b>Người xét duyệt</b>\n(chưa có ai)"]
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, "Khu công nghiệp", phone="0912 000 602")
    calls = await tg.text(ADMIN, "/reviewers")
    assert texts(calls) == [
        "<b>Người xét duyệt</b>\n"
        "• Lê Văn Minh: Công đoàn các Khu công nghiệp Hà Nội\n"
        "• Trần Văn Hùng: Công đoàn Công ty May 10"
    ]
    assert calls[-1].buttons == []


async def test_revoke_lists_grants_and_revoking_stops_the_cards(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await enroll(tg, WORKER)
    first = await submit_as(tg, WORKER)
    calls = await tg.text(ADMIN, "/revoke")
    labels = [label for label, _ in calls[-1].buttons]
    assert labels == ["Thu hồi: Lê Văn Minh (MAY10)", "Thu hồi: Trần Văn Hùng (MAY10)"]
    revoke_hung = button(calls, "Trần Văn Hùng")
    calls = await tg.press(ADMIN, revoke_hung)
    assert texts(calls)[0] == "Đã thu hồi quyền xét duyệt của Trần Văn Hùng tại Công đoàn Công ty May 10."
    assert sent_to(calls, REVIEWER)[0].text == (
        "Anh/chị không còn quyền xét duyệt sáng kiến của Công đoàn Công ty May 10."
    )
    assert await reviewer_units(harness) == [("Lê Văn Minh", "MAY10")]
    calls = await tg.press(ADMIN, revoke_hung)  # the same button again
    assert texts(calls) == ["Nút này đã hết hiệu lực."]
    calls = await tg.press(REVIEWER, button(cards(first, REVIEWER), "✅ Công nhận"))
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]
    assert await harness.query("select status from initiative") == [("submitted",)]
    calls = await submit_as(tg, WORKER, "Đèn LED tiết kiệm")
    assert cards(calls, REVIEWER) == [] and len(cards(calls, SECOND)) == 1
    calls = await tg.text(REVIEWER, "/pending")
    assert texts(calls) == ["Anh/chị không phải người xét duyệt của đơn vị này."]


async def test_the_cli_tells_the_person_through_the_outbox_as_grant_and_revoke_do(
    tg: TelegramDriver, harness: Harness, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    await enroll(tg, REVIEWER)
    assert await run_reviewers(config, "grant", "@hung_cd", "MAY10") == 0
    assert capsys.readouterr().out.startswith("Đã cấp quyền xét duyệt cho Trần Văn Hùng: Công đoàn Công ty May 10")
    assert await run_reviewers(config, "revoke", "@hung_cd", "MAY10") == 0
    rows = await harness.query("select chat, status from outbox order by id")
    assert rows == [(f"telegram:{REVIEWER.id}", "pending")] * 2  # written by the CLI, sent by the running bot
    assert harness.runtime is not None
    harness.clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the CLI wrote them on the real clock
    sender = OutboxSender(tg.app.bot, harness.runtime.catalog, harness.runtime.delivery, sleep=_no_wait)
    before = len(harness.api.calls)
    await sender.drain()
    told = [c.text for c in harness.api.calls[before:] if c.method == "sendMessage"]
    assert told == [
        "Anh/chị vừa được giao xét duyệt sáng kiến của <b>Công đoàn Công ty May 10</b> (cấp cơ sở)."
        " Gõ /pending để xem danh sách sáng kiến đang chờ.",
        "Anh/chị không còn quyền xét duyệt sáng kiến của Công đoàn Công ty May 10.",
    ]


async def _no_wait(_seconds: float) -> None:
    """Sleep that returns at once."""
