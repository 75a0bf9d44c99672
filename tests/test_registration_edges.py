"""Edges of registration and the profile through real dispatch: /privacy before registering, a deep
link at the unit step, names that are not names, the share-contact keyboard, stale buttons, unit search noise."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.conftest import Harness, open_phone_edit, person_row, register
from tests.fake_telegram import Call, Person, TelegramDriver, button, in_order, one_message, refused, texts
from tests.test_registration import ASK_NAME, ASK_PHONE, ASK_UNIT, CHOOSE_LANGUAGE, to_name, to_phone

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

STORED = ("u.reg_step", "u.full_name", "u.phone", "n.code", "u.pending_unit_code")
REMOVE = {"remove_keyboard": True}
MENU_TEXT = "Bạn muốn làm gì?"
MENU = ("💡 Gửi sáng kiến mới", "v1:menu:new")


def removals(calls: list[Call]) -> list[Call]:
    """The messages sent that take the reply keyboard away."""
    return [c for c in calls if c.method == "sendMessage" and c.keyboard == REMOVE]


async def test_unregistered_person_exports_what_is_stored_from_privacy(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(1101)
    await to_phone(tg, lan)
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Tải dữ liệu"))
    assert "Bạn hãy hoàn tất đăng ký trước (gõ /start)." not in "".join(texts(calls))
    assert "Đây là toàn bộ dữ liệu bot lưu về bạn." in texts(calls)
    (document,) = [c for c in calls if c.method == "sendDocument"]
    person = json.loads(document.files["document"][1].decode())["person"]
    assert (person["full_name"], person["phone"], person["reg_step"]) == ("Nguyễn Thị Lan", None, "phone")
    assert (await person_row(harness, lan, *STORED))[:2] == ("phone", "Nguyễn Thị Lan")


async def test_unregistered_person_deletes_the_account_and_start_begins_afresh(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(1102)
    await to_phone(tg, lan)
    await tg.text(lan, "0912 345 678")  # now at the unit step: name and phone are stored
    calls = await tg.text(lan, "/privacy")
    calls = await tg.press(lan, button(calls, "Xoá tài khoản"))
    assert [label for label, _ in calls[-1].buttons] == ["Có, xoá tài khoản", "Không, giữ lại"]
    kept = await tg.press(lan, button(calls, "Không, giữ lại"))
    assert texts(kept)[0].startswith("<b>Dữ liệu của bạn</b>")
    calls = await tg.press(lan, button(calls, "Có, xoá tài khoản"))
    assert texts(calls) == ["Đã xoá tài khoản của bạn. Gõ /start nếu muốn đăng ký lại."]
    assert await harness.query("select full_name, phone, deleted from app_user") == [(None, None, 1)]
    assert await harness.query("select count(*) from app_user where external_id = :e", e=str(lan.id)) == [(0,)]
    welcome = one_message(await tg.text(lan, "/start"))
    in_order(welcome.text, "Sáng kiến bot", "\n\n" + CHOOSE_LANGUAGE)
    assert await person_row(harness, lan, *STORED) == ("language", None, None, None, None)


async def test_deep_link_at_the_unit_step_binds_the_unit_and_finishes(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(1103)
    await to_phone(tg, lan)
    await tg.text(lan, "0912 345 678")
    calls = await tg.text(lan, "/start MAY10")
    done = one_message(calls)
    assert done.text == "Đăng ký xong! Chào Nguyễn Thị Lan, đơn vị: <b>Công đoàn Công ty May 10</b>.\n\n" + MENU_TEXT
    assert MENU in done.buttons
    assert ASK_UNIT not in done.text
    assert await person_row(harness, lan, *STORED) == ("done", "Nguyễn Thị Lan", "+84912345678", "MAY10", None)


NOT_A_NAME = "Họ tên chỉ gồm chữ cái (2–100 ký tự)"
EMPTY = "Câu trả lời đang trống."


@pytest.mark.parametrize(
    ("typed", "refusal", "stored"),
    [
        *[(t, NOT_A_NAME, None) for t in ["--", "😀😀", "Nguyễn\nThị Lan", "..", "L.", "Lan ☺", "Lan_Anh", "Ⅻ Ⅻ"]],
        *[(t, EMPTY, None) for t in ["\u200b\u200b", "\ufeff \u200e", "\u2060"]],  # invisible characters only
        ("O'Brien-Lan", None, "O'Brien-Lan"),
        ("Mary-Jane O’Neil", None, "Mary-Jane O’Neil"),
        (unicodedata.normalize("NFD", "Nguyễn Thị Lan"), None, "Nguyễn Thị Lan"),
        ("\u200bPhạm Thị Ngọc Ánh\u200f", None, "Phạm Thị Ngọc Ánh"),
        ("Lê Văn A.", None, "Lê Văn A."),
    ],
)
async def test_a_name_of_letters_apostrophes_hyphens_and_stops_is_taken_in_nfc_anything_else_refused(
    tg: TelegramDriver, harness: Harness, typed: str, refusal: str | None, stored: str | None
) -> None:
    lan = Person(1104)
    await to_name(tg, lan)
    calls = await tg.text(lan, typed)
    if refusal is None:
        assert texts(calls)[-1].startswith(ASK_PHONE)
    else:
        refused(calls, refusal, ASK_NAME)
    assert (await person_row(harness, lan, *STORED))[:2] == ("name" if refusal else "phone", stored)


@pytest.mark.parametrize(
    ("action", "first", "buttons"),
    [
        ("/my", "Không thay đổi gì.", ["💡 Gửi sáng kiến mới"]),
        ("/new", "Bắt đầu sáng kiến mới", []),
        ("/language", "Không thay đổi gì.", ["Tiếng Việt", "English"]),
        ("/start", "Không thay đổi gì.", ["💡 Gửi sáng kiến mới", "📋 Sáng kiến của tôi"]),
        ("v1:menu:help", "<b>Sáng kiến bot làm được gì</b>", []),
        ("v1:menu:profile", "Không thay đổi gì.", ["Sửa họ tên", "Sửa số điện thoại", "Đổi đơn vị", "Đổi ngôn ngữ"]),
    ],
)
async def test_phone_edit_left_without_saving_takes_the_share_contact_keyboard_away(
    tg: TelegramDriver, harness: Harness, action: str, first: str, buttons: list[str]
) -> None:
    lan = Person(1107)
    await open_phone_edit(tg, lan)
    calls = await (tg.text(lan, action) if action.startswith("/") else tg.press(lan, action))
    (removal,) = removals(calls)
    assert removal.text.startswith(first)
    labels = " | ".join(label for label, _ in calls[-1].buttons)
    assert all(b in labels for b in buttons), labels  # no inline keyboard lost to the removal
    assert await person_row(harness, lan, "u.reg_step", "u.phone", "u.editing_profile") == (
        "done",
        "+84912345678",
        0,
    )


async def test_phone_edit_left_by_an_edit_only_answer_gets_no_invented_message(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(1108)
    await open_phone_edit(tg, lan)
    calls = await tg.press(lan, "v1:rem:off")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert (await person_row(harness, lan, "u.reg_step", "u.reminders_off")) == ("done", 1)


async def test_phone_answered_in_registration_takes_the_keyboard_away_once(tg: TelegramDriver) -> None:
    lan = Person(1109)
    await to_phone(tg, lan, start="/start MAY10")
    calls = await tg.text(lan, "0912 345 678")
    (removal,) = removals(calls)
    assert removal.text.startswith("Đăng ký xong!")
    assert calls[-1].buttons[0] == MENU


async def test_stale_button_without_a_step_to_show_promises_none(tg: TelegramDriver) -> None:
    lan = Person(1110)
    await register(tg, lan)
    calls = await tg.press(lan, "v1:cancel:99")
    assert one_message(calls).text == "Nút này đã hết hiệu lực."


@pytest.mark.parametrize(
    ("query", "units"),
    [
        ("công ty may 10.", ["Công đoàn Công ty May 10"]),
        ("cong-ty may", ["Công đoàn Công ty May 10", "Công đoàn Công ty May Đức Giang"]),
        ("Ðức Giang", ["Công đoàn Công ty May Đức Giang"]),
        ("ðiện cơ", ["Công đoàn Công ty Điện cơ Thống Nhất"]),
        ("  MAY,10! ", ["Công đoàn Công ty May 10"]),
    ],
)
async def test_unit_search_ignores_punctuation_and_a_misdecoded_d(
    tg: TelegramDriver, harness: Harness, query: str, units: list[str]
) -> None:
    lan = Person(1111)
    await to_phone(tg, lan)
    await tg.text(lan, "0912 345 678")
    calls = await tg.text(lan, query)
    assert texts(calls)[0] == "Chọn đơn vị của bạn:"
    assert [label for label, _ in calls[-1].buttons] == units
    assert (await person_row(harness, lan, *STORED))[0] == "unit"


async def test_unit_query_of_punctuation_only_is_too_short(tg: TelegramDriver) -> None:
    lan = Person(1112)
    await to_phone(tg, lan)
    await tg.text(lan, "0912 345 678")
    calls = await tg.text(lan, "...")
    refused(calls, "Hãy gõ ít nhất 2 chữ cái của tên đơn vị.", ASK_UNIT)
