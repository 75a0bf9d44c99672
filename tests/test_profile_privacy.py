"""The profile (show, edit) and personal data (notice, export, deletion) through real dispatch."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Harness, open_phone_edit, person_row, register, submit
from tests.fake_telegram import Call, Person, TelegramDriver, button, in_order, one_message, refused, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

CARD = """<b>Hồ sơ của bạn</b>
Họ tên: {name}
Điện thoại: {phone}
Đơn vị: {unit}
Ngôn ngữ: Tiếng Việt"""
MAY10 = "Công đoàn Công ty May 10"
PROFILE_BUTTONS = ["Sửa họ tên", "Sửa số điện thoại", "Đổi đơn vị", "Đổi ngôn ngữ"]
PROFILE = ("u.full_name", "u.phone", "n.code", "u.reg_step")  # what the profile stores, as person_row reads it


def card(name: str = "Nguyễn Thị Lan", phone: str = "+84912345678", unit: str = MAY10) -> str:
    """The profile card as the worker should see it."""
    return CARD.format(name=name, phone=phone, unit=unit)


async def test_worker_profile_shows_name_phone_and_unit(tg: TelegramDriver) -> None:
    lan = Person(701)
    await register(tg, lan)
    calls = await tg.text(lan, "/profile")
    assert texts(calls) == [card()]
    assert [label for label, _ in calls[-1].buttons] == PROFILE_BUTTONS


async def test_worker_edits_name_from_profile_and_returns_to_it(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(702)
    await register(tg, lan)
    calls = await tg.text(lan, "/profile")
    calls = await tg.press(lan, button(calls, "Sửa họ tên"))
    assert texts(calls)[-1].startswith("Họ và tên đầy đủ của bạn là gì?")
    calls = await tg.text(lan, "Lan 99")
    assert refused(calls, "Họ tên chỉ gồm chữ cái", "Họ và tên đầy đủ của bạn là gì?").text.startswith("Họ tên chỉ gồm")
    calls = await tg.text(lan, "Trần Thị Lan")
    assert texts(calls) == ["Đã lưu thay đổi.\n\n" + card(name="Trần Thị Lan")]
    assert [label for label, _ in one_message(calls).buttons] == PROFILE_BUTTONS  # back at the profile card
    assert await person_row(harness, lan, *PROFILE) == ("Trần Thị Lan", "+84912345678", "MAY10", "done")


async def test_worker_edits_phone_from_profile_by_sharing_contact(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(703)
    await open_phone_edit(tg, lan)
    calls = await tg.contact(lan, "+84 987 654 321")
    assert texts(calls) == ["Đã lưu thay đổi.", card(phone="+84987654321")]
    assert calls[0].keyboard == {"remove_keyboard": True}
    assert await person_row(harness, lan, *PROFILE) == ("Nguyễn Thị Lan", "+84987654321", "MAY10", "done")


async def test_worker_changes_unit_from_profile(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(704)
    await register(tg, lan)
    calls = await tg.text(lan, "/profile")
    calls = await tg.press(lan, button(calls, "Đổi đơn vị"))
    calls = await tg.text(lan, "duc giang")
    calls = await tg.press(lan, button(calls, "May Đức Giang"))
    assert texts(calls) == ["Đã lưu thay đổi.\n\n" + card(unit="Công đoàn Công ty May Đức Giang")]
    assert [label for label, _ in one_message(calls).buttons] == PROFILE_BUTTONS
    assert await person_row(harness, lan, *PROFILE) == ("Nguyễn Thị Lan", "+84912345678", "MAYDUC", "done")


async def test_worker_cancel_during_profile_edit_leaves_profile_unchanged(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(705)
    await open_phone_edit(tg, lan)
    calls = await tg.text(lan, "/cancel")
    assert texts(calls) == ["Không thay đổi gì.", card()]
    assert calls[0].keyboard == {"remove_keyboard": True}  # the share-contact keyboard goes with the question
    assert [label for label, _ in calls[-1].buttons] == PROFILE_BUTTONS
    assert await person_row(harness, lan, *PROFILE) == ("Nguyễn Thị Lan", "+84912345678", "MAY10", "done")
    calls = await tg.text(lan, "0987 654 321")  # no longer an answer to the phone question
    assert texts(calls)[0].startswith("Để gửi sáng kiến")
    assert (await person_row(harness, lan, *PROFILE))[1] == "+84912345678"


async def test_worker_command_during_profile_edit_is_not_told_to_register_first(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(711)
    await open_phone_edit(tg, lan)
    calls = await tg.text(lan, "/my")
    assert "Bạn hãy hoàn tất đăng ký trước (gõ /start)." not in texts(calls)
    assert (await person_row(harness, lan, *PROFILE))[1] == "+84912345678"


async def test_worker_privacy_notice_explains_what_is_stored(tg: TelegramDriver) -> None:
    lan = Person(706)
    await register(tg, lan)
    calls = await tg.text(lan, "/privacy")
    text = texts(calls)[0]
    assert "Bot lưu: họ tên, số điện thoại, đơn vị, ngôn ngữ" in text
    assert "sáng kiến đã gửi vẫn được giữ" in text
    assert [label for label, _ in calls[-1].buttons] == [
        "📥 Tải dữ liệu của tôi",
        "🗑 Xoá tài khoản",
    ]


def exported(calls: list[Call]) -> dict[str, object]:
    """The JSON of the one document the bot sent."""
    docs = [c for c in calls if c.method == "sendDocument"]
    assert len(docs) == 1
    filename, content = docs[0].files["document"]
    assert filename is not None and filename.endswith(".json")
    data: dict[str, object] = json.loads(content.decode())
    return data


async def test_worker_export_sends_json_with_name_phone_and_initiatives(
    tg: TelegramDriver,
) -> None:
    lan = Person(707)
    await register(tg, lan)
    await submit(tg, lan, title="Máy cắt vải tự động")
    await submit(tg, lan, title="Khuôn may túi nhanh")
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Tải dữ liệu"))
    assert "Đây là toàn bộ dữ liệu bot lưu về bạn." in texts(calls)
    data = exported(calls)
    person = data["person"]
    assert isinstance(person, dict)
    assert person["full_name"] == "Nguyễn Thị Lan"
    assert person["phone"] == "+84912345678"
    assert person["unit"] == "Công đoàn Công ty May 10"  # by name, not only its id
    initiatives = data["initiatives"]
    assert isinstance(initiatives, list)
    assert sorted((i["code"], i["title"]) for i in initiatives) == [
        ("SK-2026-000001", "Máy cắt vải tự động"),
        ("SK-2026-000002", "Khuôn may túi nhanh"),
    ]
    assert all(i["benefit_vnd"] == 50_000_000 for i in initiatives)


async def test_worker_delete_asks_for_confirmation_before_anything_is_erased(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(708)
    await register(tg, lan)
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Xoá tài khoản"))
    assert texts(calls) == [
        "Xoá tài khoản? Thông tin cá nhân sẽ bị xoá vĩnh viễn; sáng kiến đã gửi được giữ lại ở dạng ẩn danh."
    ]
    assert [label for label, _ in calls[-1].buttons] == ["Có, xoá tài khoản", "Không, giữ lại"]
    calls = await tg.press(lan, button(calls, "Không, giữ lại"))
    assert texts(calls)[0].startswith("<b>Dữ liệu của bạn</b>")
    assert await person_row(harness, lan, *PROFILE) == ("Nguyễn Thị Lan", "+84912345678", "MAY10", "done")


async def test_worker_deleting_account_anonymises_but_keeps_initiatives(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(709)
    await register(tg, lan)
    await submit(tg, lan)
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Xoá tài khoản"))
    calls = await tg.press(lan, button(calls, "Có, xoá tài khoản"))
    assert texts(calls) == ["Đã xoá tài khoản của bạn. Gõ /start nếu muốn đăng ký lại."]
    users = await harness.query("select id, full_name, phone, username, consent_at, deleted from app_user")
    assert len(users) == 1
    author_id = users[0][0]
    assert users[0][1:] == (None, None, None, None, 1)
    assert await harness.query("select author_id, code, status, title from initiative") == [
        (author_id, "SK-2026-000001", "submitted", "Máy cắt vải tự động")
    ]
    assert await harness.query("select count(*) from app_user where external_id = :ext", ext=str(lan.id)) == [(0,)]


async def test_worker_start_after_deletion_begins_a_fresh_registration(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(710)
    await register(tg, lan)
    await submit(tg, lan)
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Xoá tài khoản"))
    await tg.press(lan, button(calls, "Có, xoá tài khoản"))
    calls = await tg.text(lan, "/start")
    welcome = one_message(calls)  # the greeting leads the language question
    in_order(welcome.text, "Sáng kiến bot", "\n\nChọn ngôn ngữ / Choose your language:")
    assert welcome.text.endswith("Chọn ngôn ngữ / Choose your language:")
    assert [label for label, _ in welcome.buttons] == ["✅ Tiếng Việt", "English"]
    assert await person_row(harness, lan, *PROFILE) == (
        None,
        None,
        None,
        "language",
    )
    calls = await tg.text(lan, "/my")
    refusal = refused(calls, "Bạn hãy hoàn tất đăng ký trước (gõ /start).", "Chọn ngôn ngữ / Choose your language:")
    assert refusal.text.startswith("Bạn hãy hoàn tất đăng ký trước (gõ /start).\n\n")
    await register(tg, lan)
    calls = await tg.text(lan, "/my")
    assert texts(calls) == ["Bạn chưa gửi sáng kiến nào."]
