"""/my: the worker's own initiatives, paginated, opened in full, withdrawn with a confirmation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import FakeClock, Harness, answer_until, fill_core, press_submit, register, submit
from tests.fake_telegram import Call, Person, TelegramDriver, button, last_buttons, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

TITLES = ["Máy cắt vải tự động", "Khuôn may túi nhanh", "Đèn LED tiết kiệm", "Sổ tay an toàn"]


async def submit_with_files(tg: TelegramDriver, person: Person) -> list[Call]:
    """Submit an initiative with two photos and a PDF; return the receipt calls."""
    calls = await fill_core(tg, person, "Bàn là hơi <cải tiến> & an toàn")
    for _ in range(3):
        calls = await tg.press(person, button(calls, "Bỏ qua"))
    await tg.photo(person, "anh1")
    await tg.photo(person, "anh2")
    calls = await tg.document(person, "banve", name="ban-ve.pdf")
    calls = await tg.press(person, button(calls, "Xong"))
    return await tg.press(person, button(calls, "Gửi sáng kiến"))


async def initiative_id(harness: Harness, code: str) -> int:
    """The database id of the initiative with `code`."""
    rows = await harness.query("select id from initiative where code = :code", code=code)
    assert len(rows) == 1
    return int(rows[0][0])


async def open_first(tg: TelegramDriver, person: Person) -> list[Call]:
    """Open the person's first initiative from /my; return the calls of the detail."""
    calls = await tg.text(person, "/my")
    return await tg.press(person, button(calls, "SK-2026-000001"))


async def test_worker_my_list_is_empty_when_nothing_submitted(tg: TelegramDriver) -> None:
    lan = Person(801)
    await register(tg, lan)
    calls = await tg.text(lan, "/my")
    assert texts(calls) == ["Bạn chưa gửi sáng kiến nào."]
    assert calls[-1].buttons == [("💡 Gửi sáng kiến mới", "v1:menu:new")]


async def test_worker_my_list_pages_newest_first_and_next_edits_to_page_two(
    tg: TelegramDriver, clock: FakeClock
) -> None:
    lan = Person(802)
    await register(tg, lan)
    for title in TITLES:
        await submit(tg, lan, title=title)
        clock.now += timedelta(minutes=5)
    await fill_core(tg, lan, "Bản nháp chưa gửi")  # the open draft comes first, on the first page only
    calls = await tg.text(lan, "/my")
    assert texts(calls)[0] == ("<b>Sáng kiến của bạn</b> (4), trang 1/2. Bấm vào một sáng kiến để xem chi tiết.")
    labels = [label for label, _ in calls[-1].buttons]
    assert labels == [
        "✍️ Bản nháp: Bản nháp chưa gửi (bước 9/12)",
        "SK-2026-000004 · Sổ tay an toàn · Đã gửi",
        "SK-2026-000003 · Đèn LED tiết kiệm · Đã gửi",
        "SK-2026-000002 · Khuôn may túi nhanh · Đã gửi",
        "Sau ▶️",
    ]
    calls = await tg.press(lan, button(calls, "Sau"))
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1
    assert [c.method for c in calls if c.method == "sendMessage"] == []
    assert edits[0].text.startswith("<b>Sáng kiến của bạn</b> (4), trang 2/2.")
    assert [label for label, _ in edits[0].buttons] == [
        "SK-2026-000001 · Máy cắt vải tự động · Đã gửi",
        "◀️ Trước",
    ]


async def test_worker_opens_an_initiative_and_sees_every_field_and_attachments(
    tg: TelegramDriver, harness: Harness
) -> None:
    lan = Person(803)
    await register(tg, lan)
    await submit_with_files(tg, lan)
    calls = await open_first(tg, lan)
    detail = texts(calls)[0]
    for part in [
        "<b>SK-2026-000001</b> · Đã gửi",
        "<b>Tên:</b> Bàn là hơi &lt;cải tiến&gt; &amp; an toàn",
        "<b>Lĩnh vực:</b> Tăng năng suất lao động",
        "<b>Loại giải pháp:</b> Giải pháp kỹ thuật",
        "<b>Hiện trạng / vấn đề:</b> Cắt thủ công, chậm và lệch đường may",
        "<b>Giải pháp:</b> Gắn cảm biến quang và bàn trượt",
        "<b>Hiệu quả:</b> Năng suất tăng 20 %",
        "<b>Giá trị làm lợi:</b> 50.000.000 đ",
        "<b>Áp dụng từ:</b> 01/02/2026",
        "<b>Tác giả (bạn):</b> 100%",
        "<b>Tệp đính kèm:</b> 3",
        "<b>Gửi lúc:</b> 10:00 25/11/2026",
        "<b>Hạn trả lời:</b> 25/02/2027",
    ]:
        assert part in detail
    assert [label for label, _ in last_buttons(calls)] == ["Rút sáng kiến", "📋 Danh sách"]
    albums = [c for c in calls if c.method == "sendMediaGroup"]
    assert len(albums) == 1
    media = albums[0].params["media"]
    media = json.loads(media) if isinstance(media, str) else media
    assert [m["media"] for m in media] == ["anh1-id", "anh2-id"]
    docs = [c for c in calls if c.method == "sendDocument"]
    assert [d.params["document"] for d in docs] == ["banve-id"]
    assert await harness.query("select kind, file_id from attachment order by id") == [
        ("photo", "anh1-id"),
        ("photo", "anh2-id"),
        ("document", "banve-id"),
    ]


async def test_worker_opening_an_initiative_with_one_photo_sends_it_with_send_photo(
    tg: TelegramDriver,
) -> None:
    lan = Person(804)
    await register(tg, lan)
    calls = await fill_core(tg, lan)
    for _ in range(3):
        calls = await tg.press(lan, button(calls, "Bỏ qua"))
    calls = await tg.photo(lan, "solo")
    calls = await tg.press(lan, button(calls, "Xong"))
    await tg.press(lan, button(calls, "Gửi sáng kiến"))
    calls = await open_first(tg, lan)
    assert [c.params["photo"] for c in calls if c.method == "sendPhoto"] == ["solo-id"]
    assert not [c for c in calls if c.method in ("sendMediaGroup", "sendDocument")]


async def test_worker_withdraws_after_confirming_and_an_event_is_recorded(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(805)
    await register(tg, lan)
    await submit(tg, lan)
    item = await initiative_id(harness, "SK-2026-000001")
    calls = await open_first(tg, lan)
    calls = await tg.press(lan, button(calls, "Rút sáng kiến"))
    assert texts(calls) == [
        "Bạn muốn rút sáng kiến SK-2026-000001? Sau khi rút, sáng kiến sẽ không được xét duyệt nữa."
    ]
    assert [label for label, _ in calls[-1].buttons] == ["Có, rút sáng kiến", "Không, giữ lại"]
    assert await harness.query("select status from initiative") == [("submitted",)]
    confirm = button(calls, "Có, rút sáng kiến")
    calls = await tg.press(lan, confirm)
    assert texts(calls) == ["Đã rút sáng kiến SK-2026-000001."]
    assert await harness.query("select status from initiative") == [("withdrawn",)]
    events = await harness.query(
        "select kind, initiative_id, payload from domain_event where kind = 'initiative_withdrawn'"
    )
    assert len(events) == 1
    assert events[0][:2] == ("initiative_withdrawn", item)
    assert json.loads(events[0][2]) == {"code": "SK-2026-000001"}

    calls = await tg.press(lan, confirm)
    assert texts(calls)[0] == "Không thể rút sáng kiến đang ở trạng thái “Đã rút”."
    assert await harness.query("select count(*) from domain_event where kind = 'initiative_withdrawn'") == [(1,)]
    calls = await tg.press(lan, f"v1:open:{item}")
    assert texts(calls)[0].startswith("<b>SK-2026-000001</b> · Đã rút")
    assert [label for label, _ in last_buttons(calls)] == ["📋 Danh sách"]


async def test_worker_keeping_an_initiative_leaves_it_submitted(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(806)
    await register(tg, lan)
    await submit(tg, lan)
    item = await initiative_id(harness, "SK-2026-000001")
    calls = await tg.press(lan, f"v1:wd:{item}")
    calls = await tg.press(lan, button(calls, "Không, giữ lại"))
    assert texts(calls)[0].startswith("<b>SK-2026-000001</b> · Đã gửi")
    assert await harness.query("select status from initiative") == [("submitted",)]
    assert await harness.query("select count(*) from domain_event where kind != 'initiative_submitted'") == [(0,)]


async def test_worker_forged_open_of_another_users_initiative_is_refused(tg: TelegramDriver, harness: Harness) -> None:
    lan, binh = Person(807), Person(808, first_name="Bình")
    await register(tg, lan)
    await submit(tg, lan, title="Bí mật của Lan")
    await register(tg, binh)
    item = await initiative_id(harness, "SK-2026-000001")
    for forged in (f"v1:open:{item}", f"v1:wd:{item}", f"v1:wdok:{item}:0"):
        calls = await tg.press(binh, forged)
        assert texts(calls) == ["Không tìm thấy sáng kiến này trong danh sách của bạn."]
        sent = json.dumps([c.params for c in calls], ensure_ascii=False)
        assert "Bí mật" not in sent and "SK-2026-000001" not in sent
        assert not [c for c in calls if c.method in ("sendPhoto", "sendDocument", "sendMediaGroup")]
    assert await harness.query("select status from initiative") == [("submitted",)]


async def test_the_detail_shows_the_optional_answers_too(tg: TelegramDriver) -> None:
    lan = Person(806)
    await register(tg, lan)
    await press_submit(tg, lan, await answer_until(tg, lan, "summary"))
    detail = texts(await open_first(tg, lan))[0]
    optional = [
        "<b>Tác giả (bạn):</b> 50%",
        "• Nguyễn Văn Bình: 30%",
        "• Trần Thị Cúc: 20%",
        "<b>Điều kiện áp dụng:</b> Cần khí nén 6 bar",
        "<b>Thông tin cần bảo mật:</b> Sơ đồ mạch cảm biến",
    ]
    assert [part for part in optional if part not in detail] == []


async def test_the_main_menu_button_starts_a_new_initiative(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(807)
    calls = await register(tg, lan)
    calls = await tg.press(lan, button(calls, "Gửi sáng kiến mới"))
    assert "Bước 1/12. <b>Tên sáng kiến</b> của bạn là gì?" in texts(calls)[-1]
    assert await harness.query("select step, status from initiative") == [("title", "draft")]
