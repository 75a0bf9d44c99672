"""Registration through real dispatch: language, consent, name, phone, unit, deep links."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, person_row
from tests.fake_telegram import Call, Person, TelegramDriver, button, in_order, one_message, refused, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

ASK_NAME = "Họ và tên đầy đủ của bạn là gì?"
ASK_PHONE = "Số điện thoại của bạn là gì?"
ASK_UNIT = "Bạn công tác ở đơn vị (công đoàn cơ sở) nào?"
CONSENT = "Đồng ý xử lý dữ liệu cá nhân"
CHOOSE_LANGUAGE = "Chọn ngôn ngữ / Choose your language:"
SHARE_CONTACT_KEYBOARD = [[{"text": "📱 Chia sẻ số điện thoại", "request_contact": True}]]


async def to_name(tg: TelegramDriver, person: Person, start: str = "/start") -> list[Call]:
    """/start, keep Vietnamese, agree; return the calls that ask for the name."""
    calls = await tg.text(person, start)
    calls = await tg.press(person, button(calls, "Tiếng Việt"))
    return await tg.press(person, button(calls, "Đồng ý"))


async def to_phone(tg: TelegramDriver, person: Person, start: str = "/start") -> list[Call]:
    """Go through the name; return the calls that ask for the phone."""
    await to_name(tg, person, start)
    return await tg.text(person, "Nguyễn Thị Lan")


STORED = ("u.reg_step", "u.full_name", "u.phone", "n.code", "u.locale")


async def test_worker_sees_languages_with_vietnamese_marked_when_starting(
    tg: TelegramDriver,
) -> None:
    calls = await tg.text(Person(601), "/start")
    welcome = one_message(calls)  # the greeting leads the language question
    in_order(welcome.text, "Sáng kiến bot", "\n\n" + CHOOSE_LANGUAGE)
    assert welcome.text.endswith(CHOOSE_LANGUAGE)
    assert welcome.buttons == [("✅ Tiếng Việt", "v1:lang:vi"), ("English", "v1:lang:en")]


async def test_worker_stays_at_consent_and_is_told_why_when_declining(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(602)
    calls = await tg.text(lan, "/start")
    calls = await tg.press(lan, button(calls, "Tiếng Việt"))
    assert CONSENT in texts(calls)[-1]
    assert "/privacy" in texts(calls)[-1]
    agree = button(calls, "Đồng ý")
    calls = await tg.press(lan, button(calls, "Không đồng ý"))
    assert "Nếu bạn không đồng ý, bot không thể lưu sáng kiến của bạn" in texts(calls)[0]
    assert (await person_row(harness, lan, *STORED))[0] == "consent"
    calls = await tg.text(lan, "/privacy")
    assert "Bot lưu: họ tên, số điện thoại, đơn vị" in texts(calls)[0]
    calls = await tg.press(lan, agree)
    assert texts(calls)[-1].startswith(ASK_NAME)
    assert (await person_row(harness, lan, *STORED))[0] == "name"


async def test_worker_name_with_digits_is_refused_and_step_stays(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(603)
    await to_name(tg, lan)
    calls = await tg.text(lan, "Lan 1990")
    error = "Họ tên chỉ gồm chữ cái (2–100 ký tự), ví dụ: Nguyễn Thị Lan."
    assert refused(calls, error, ASK_NAME).text.startswith(error + "\n\n")
    assert await person_row(harness, lan, *STORED) == ("name", None, None, None, "vi")
    calls = await tg.text(lan, "  Nguyễn   Thị Lan ")
    assert texts(calls)[-1].startswith(ASK_PHONE)
    assert (await person_row(harness, lan, *STORED))[:2] == ("phone", "Nguyễn Thị Lan")


async def test_worker_phone_offers_share_contact_button_when_asked(tg: TelegramDriver) -> None:
    calls = await to_phone(tg, Person(604))
    keyboard = calls[-1].keyboard["keyboard"]
    assert keyboard == SHARE_CONTACT_KEYBOARD


async def test_worker_own_shared_contact_is_normalised_to_plus_84(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(605)
    await to_phone(tg, lan)
    calls = await tg.contact(lan, "84912345678")
    assert texts(calls)[0].startswith(ASK_UNIT)
    assert calls[0].keyboard == {"remove_keyboard": True}
    assert (await person_row(harness, lan, *STORED))[:3] == ("unit", "Nguyễn Thị Lan", "+84912345678")


async def test_worker_someone_elses_contact_is_refused(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(606)
    await to_phone(tg, lan)
    calls = await tg.contact(lan, "84987654321", own=False)
    error = "Đây là số của người khác. Hãy chia sẻ số của chính bạn hoặc gõ số điện thoại."
    message = refused(calls, error, ASK_PHONE)
    assert message.text.startswith(error + "\n\n")
    assert message.keyboard["keyboard"] == SHARE_CONTACT_KEYBOARD  # the share button comes again
    assert (await person_row(harness, lan, *STORED))[:3] == ("phone", "Nguyễn Thị Lan", None)


@pytest.mark.parametrize("typed", ["0912 345 678", "+84 912 345 678", "0912.345.678"])
async def test_worker_typed_vietnamese_phone_is_normalised(tg: TelegramDriver, harness: Harness, typed: str) -> None:
    lan = Person(607)
    await to_phone(tg, lan)
    calls = await tg.text(lan, typed)
    assert texts(calls)[0].startswith(ASK_UNIT)
    assert (await person_row(harness, lan, *STORED))[:3] == ("unit", "Nguyễn Thị Lan", "+84912345678")


async def test_worker_foreign_phone_is_refused_and_step_stays(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(608)
    await to_phone(tg, lan)
    calls = await tg.text(lan, "+1 202 555 0143")
    message = refused(calls, "Đây không phải số điện thoại Việt Nam hợp lệ.", ASK_PHONE)
    assert message.text.startswith("Đây không phải số điện thoại Việt Nam hợp lệ.")
    assert message.keyboard["keyboard"] == SHARE_CONTACT_KEYBOARD
    assert (await person_row(harness, lan, *STORED))[:3] == ("phone", "Nguyễn Thị Lan", None)


async def test_worker_finds_unit_without_diacritics_and_finishes_registration(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(609)
    await to_phone(tg, lan)
    await tg.text(lan, "0912345678")
    calls = await tg.text(lan, "cong ty may")
    assert texts(calls)[0] == "Chọn đơn vị của bạn:"
    labels = [label for label, _ in calls[-1].buttons]
    assert labels == ["Công đoàn Công ty May 10", "Công đoàn Công ty May Đức Giang"]
    calls = await tg.press(lan, button(calls, "May Đức Giang"))
    done = one_message(calls)  # the confirmation leads the main menu
    assert done.text == (
        "Đăng ký xong! Chào Nguyễn Thị Lan, đơn vị: <b>Công đoàn Công ty May Đức Giang</b>.\n\nBạn muốn làm gì?"
    )
    assert ("💡 Gửi sáng kiến mới", "v1:menu:new") in done.buttons
    assert await person_row(harness, lan, *STORED) == ("done", "Nguyễn Thị Lan", "+84912345678", "MAYDUC", "vi")


async def test_worker_unit_query_without_match_is_answered_clearly(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(610)
    await to_phone(tg, lan)
    await tg.text(lan, "0912345678")
    calls = await tg.text(lan, "xi măng")
    message = refused(calls, "Không tìm thấy đơn vị nào khớp với “xi măng”.", ASK_UNIT)
    assert message.text.startswith("Không tìm thấy đơn vị nào khớp với “xi măng”.")
    assert (await person_row(harness, lan, *STORED))[0] == "unit"


async def test_worker_deep_link_binds_unit_without_asking_for_it(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(611)
    calls = await tg.text(lan, "/start MAY10")
    welcome = one_message(calls)  # the bound unit and the greeting lead the language question
    assert welcome.text.startswith("Đơn vị của bạn: <b>Công đoàn Công ty May 10</b>.\n\n")
    in_order(welcome.text, "Sáng kiến bot", "\n\n" + CHOOSE_LANGUAGE)
    assert [label for label, _ in welcome.buttons] == ["✅ Tiếng Việt", "English"]
    await to_phone(tg, lan, start="/start MAY10")
    calls = await tg.text(lan, "0912 345 678")
    assert all(ASK_UNIT not in t for t in texts(calls))
    assert texts(calls)[0].startswith("Đăng ký xong!")
    assert await person_row(harness, lan, *STORED) == ("done", "Nguyễn Thị Lan", "+84912345678", "MAY10", "vi")


async def test_worker_unknown_deep_link_code_is_reported_and_registration_goes_on(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(612)
    calls = await tg.text(lan, "/start NOPE")
    welcome = one_message(calls)
    assert welcome.text.startswith("Không tìm thấy đơn vị có mã “NOPE”.")
    in_order(welcome.text, "“NOPE”", "Sáng kiến bot", "\n\n" + CHOOSE_LANGUAGE)
    assert welcome.text.endswith(CHOOSE_LANGUAGE)
    assert [label for label, _ in welcome.buttons] == ["✅ Tiếng Việt", "English"]
    calls = await to_phone(tg, lan, start="/start NOPE")
    calls = await tg.text(lan, "0912 345 678")
    assert texts(calls)[0].startswith(ASK_UNIT)
    assert (await person_row(harness, lan, *STORED))[0] == "unit"


async def test_worker_choosing_english_first_gets_english_from_then_on(tg: TelegramDriver, harness: Harness) -> None:
    tom = Person(613, language_code="en")
    calls = await tg.text(tom, "/start")
    calls = await tg.press(tom, button(calls, "English"))
    seen = texts(calls)
    assert seen[0] == "English selected."
    assert "Consent to the processing of personal data" in seen[1]
    assert [label for label, _ in calls[-1].buttons] == ["✅ I agree", "I do not agree"]
    calls = await tg.press(tom, button(calls, "I agree"))
    seen += texts(calls)
    calls = await tg.text(tom, "Tom 2")
    seen += texts(calls)
    refused(calls, "A name has only letters", "What is your full name?")
    seen += texts(await tg.text(tom, "Tom Nguyen"))
    calls = await tg.text(tom, "12345")
    seen += texts(calls)
    refused(calls, "not a valid Vietnamese phone number", "What is your phone number?")
    seen += texts(await tg.text(tom, "0912 345 678"))
    calls = await tg.text(tom, "khong co")
    seen += texts(calls)
    refused(calls, "No unit matches", "Which unit")
    calls = await tg.text(tom, "dien co")
    seen += texts(calls)
    calls = await tg.press(tom, calls[-1].buttons[0][1])
    seen += texts(calls)
    done = one_message(calls)
    assert done.text.startswith(
        "You are registered! Welcome, Tom Nguyen, unit: <b>Công đoàn Công ty Điện cơ Thống Nhất</b>.\n\n"
    )
    assert done.buttons[0][0] == "💡 New initiative"
    vietnamese = ("Bạn ", "Hãy ", "Đây ", "Không ", "Họ ", "Số ", "Chọn đơn vị", "Đăng ký")
    paragraphs = [p for t in seen for p in t.split("\n\n")]  # replies joined into one message too
    assert not [p for p in paragraphs if p.startswith(vietnamese)]
    assert (await person_row(harness, tom, *STORED))[4] == "en"


async def test_worker_switches_language_later_with_language_command(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(614)
    await to_phone(tg, lan)
    await tg.text(lan, "0912345678")
    calls = await tg.text(lan, "may 10")
    await tg.press(lan, calls[-1].buttons[0][1])
    calls = await tg.text(lan, "/language")
    assert calls[-1].buttons == [("✅ Tiếng Việt", "v1:lang:vi"), ("English", "v1:lang:en")]
    calls = await tg.press(lan, button(calls, "English"))
    assert texts(calls) == ["English selected."]
    assert (await person_row(harness, lan, *STORED))[4] == "en"
    calls = await tg.text(lan, "/help")
    assert texts(calls)[0].startswith("<b>What the Initiative bot can do</b>")
    for command in ("/new", "/my", "/profile", "/reminders", "/language", "/privacy", "/cancel", "/help", "/pending"):
        assert f"\n{command}" in texts(calls)[0] or f" {command}" in texts(calls)[0], command


async def test_worker_switching_language_mid_registration_is_asked_again_in_new_language(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(615)
    await to_name(tg, lan)
    calls = await tg.text(lan, "/language")
    calls = await tg.press(lan, button(calls, "English"))
    assert texts(calls)[0] == "English selected."
    assert texts(calls)[-1].startswith("What is your full name?")
    assert (await person_row(harness, lan, *STORED))[0] == "name"


@pytest.mark.parametrize("command", ["/new", "/my", "/profile"])
async def test_worker_command_before_registration_is_refused_with_question_repeated(
    tg: TelegramDriver, harness: Harness, command: str
) -> None:
    lan = Person(616)
    await to_phone(tg, lan)
    calls = await tg.text(lan, command)
    message = refused(calls, "Bạn hãy hoàn tất đăng ký trước (gõ /start).", ASK_PHONE)
    assert message.text.startswith("Bạn hãy hoàn tất đăng ký trước (gõ /start).\n\n")
    assert message.keyboard["keyboard"] == SHARE_CONTACT_KEYBOARD
    assert (await person_row(harness, lan, *STORED))[0] == "phone"
    assert await harness.query("select count(*) from initiative") == [(0,)]


async def test_a_pressed_message_that_cannot_be_edited_gets_its_answer_as_a_new_message(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(611)
    calls = await tg.text(lan, "/start")
    calls = await tg.press(lan, button(calls, "Tiếng Việt"))
    tg.api.fail("editMessageText", 400, "Bad Request: message to edit not found")
    calls = await tg.press(lan, button(calls, "Đồng ý"))
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText", "sendMessage", "sendMessage"]
    thanks, question = (c for c in calls if c.method == "sendMessage")
    assert thanks.text and thanks.text == calls[1].text  # what the refused edit carried
    assert question.text.startswith(ASK_NAME)
    assert (await person_row(harness, lan, *STORED))[0] == "name"
